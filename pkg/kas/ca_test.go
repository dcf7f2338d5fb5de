package kas

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpki"
)

func TestLoadCAValue(t *testing.T) {
	ca, err := testpki.NewAuthority("kas CA")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(file, ca.CertPEM, 0o600)
	b64 := base64.StdEncoding.EncodeToString(ca.CertPEM)
	wrapped := ""
	for i := 0; i < len(b64); i += 76 {
		wrapped += b64[i:min(i+76, len(b64))] + "\n"
	}
	for value, source := range map[string]string{
		string(ca.CertPEM): "$KAS_CERTIFICATE (PEM text)",
		file:               file,
		b64:                "$KAS_CERTIFICATE (base64 of PEM)",
		wrapped:            "$KAS_CERTIFICATE (base64 of PEM)",
	} {
		b, err := LoadCAValue("KAS_CERTIFICATE", value)
		if err != nil || len(b.Certs) != 1 || b.Source != source {
			t.Errorf("LoadCAValue(%.20q…) = %+v, %v; want one certificate from %s", value, b, err, source)
		}
	}
	notCA := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("glpat-secretish ", 10)))
	for value, want := range map[string]string{
		notCA:                                  "base64 that are not PEM certificates",
		strings.Repeat("glpat-secretish ", 20): "neither a file name, PEM text nor base64",
		"glpat-secretish\nline two":            "neither a file name",
		filepath.Join(t.TempDir(), "gone"):     "gone: no such file",
	} {
		_, err := LoadCAValue("KAS_CERTIFICATE", value)
		var ce *CAError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadCAValue(%.20q…) = %v; want a CAError with %q", value, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "glpat-") {
			t.Errorf("the value was repeated: %v", err)
		}
	}
}

func TestCABundleCheck(t *testing.T) {
	now := time.Now()
	selfSigned := func(cn string, notAfter time.Time, isCA, basicConstraints bool) []byte {
		pem, err := testpki.SelfSigned(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter,
			IsCA: isCA, BasicConstraintsValid: basicConstraints, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
		if err != nil {
			t.Fatal(err)
		}
		return pem
	}
	expiredOn := now.AddDate(0, 0, -2)
	old := selfSigned("old", expiredOn, true, true)
	leaf := selfSigned("leaf", now.AddDate(0, 1, 0), false, true)
	bare := selfSigned("bare", now.AddDate(0, 1, 0), false, false)
	good := selfSigned("good", now.AddDate(0, 1, 0), true, true)

	cases := []struct {
		name     string
		pem      []byte
		err      string
		warnings []string
	}{
		{"a valid CA", good, "", nil},
		{"expired", old, "certificate 1 (CN=old) expired on " + expiredOn.UTC().Format(time.DateOnly), nil},
		{"all expired", append(append([]byte{}, old...), old...), "all 2 certificates have expired", nil},
		{"one of two expired", append(append([]byte{}, old...), good...), "", []string{"certificate 1 (CN=old) expired"}},
		{"CA:FALSE", leaf, "", []string{"certificate 1 (CN=leaf) is not a CA (CA:FALSE)"}},
		{"no basicConstraints", bare, "", []string{"certificate 1 (CN=bare) is not a CA (no basicConstraints)"}},
	}
	for _, c := range cases {
		b, err := ParseCABundle("ca.pem", c.pem)
		if err != nil {
			t.Fatal(err)
		}
		warnings, err := b.Check(now)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || len(warnings) != len(c.warnings) {
			t.Errorf("%s: %v, %q; want warnings %q", c.name, err, warnings, c.warnings)
			continue
		}
		for i, w := range c.warnings {
			if !strings.Contains(warnings[i], w) {
				t.Errorf("%s: warning %q, want %q", c.name, warnings[i], w)
			}
		}
	}
}

// FuzzLoadCAValue: whatever $KAS_CERTIFICATE holds, an error repeats it
// only when it may be a file name.
func FuzzLoadCAValue(f *testing.F) {
	for _, s := range []string{"/etc/ssl/ca.pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----", strings.Repeat("QUJD", 40), "a\nb", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		_, err := LoadCAValue("KAS_CERTIFICATE", value)
		if err == nil || len(value) < 8 || looksLikePath(value) || strings.Contains(value, "-----BEGIN") {
			return
		}
		if strings.Contains(err.Error(), value) {
			t.Fatalf("the error repeats a value that is no file name: %v", err)
		}
	})
}
