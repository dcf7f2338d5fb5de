// Package kas knows the GitLab agent server (KAS): where its k8s-proxy
// lives, how to trust it, and what its errors mean.
package kas

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
)

// CABundle is a validated PEM bundle of one or more CA certificates.
type CABundle struct {
	PEM    []byte
	Source string // where it came from, for messages
	Certs  []*x509.Certificate
}

// Pool is a pool of the bundle's certificates alone: a kubeconfig's CA
// replaces the system's roots, as in client-go.
func (b *CABundle) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range b.Certs {
		pool.AddCert(c)
	}
	return pool
}

// GitLabTransport is an HTTP transport to GitLab that trusts the system's
// roots, SSL_CERT_FILE and, when given, the KAS CA bundle too: KAS often
// shares GitLab's host and certificate.
func GitLabTransport(ca *CABundle) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if ca != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, c := range ca.Certs {
			pool.AddCert(c)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return t
}

// PEMOrNil is the bundle's PEM text; nil for no bundle.
func (b *CABundle) PEMOrNil() []byte {
	if b == nil {
		return nil
	}
	return b.PEM
}

// CAError is a CA bundle that cannot be used; the plugin writes nothing then.
type CAError struct {
	Source string
	Msg    string
	Err    error // the cause, if any
}

func (e *CAError) Error() string {
	if e.Err != nil {
		return e.Source + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Source + ": " + e.Msg
}

func (e *CAError) Unwrap() error { return e.Err }

// Fix says which bundle is wanted.
func (e *CAError) Fix() string {
	return "pass the PEM file of the CA that signed KAS's certificate (--certificate-authority FILE or $KAS_CERTIFICATE); nothing was written"
}

// maxCABundleSize bounds a CA bundle file; a system's whole bundle of
// public CAs is some 200 KiB.
const maxCABundleSize = 4 << 20

// LoadCAFile reads and validates a CA bundle file.
func LoadCAFile(path string) (*CABundle, error) {
	data, err := atomicfile.ReadFile(path, maxCABundleSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &CAError{Source: path, Msg: "no such file"}
	case err != nil:
		return nil, &CAError{Source: path, Msg: "cannot read", Err: errors.Unwrap(err)}
	}
	return ParseCABundle(path, data)
}

// LoadCAValue reads $KAS_CERTIFICATE, which holds a path (a File-type
// CI/CD variable), the PEM text itself (a plain variable), or that text
// in base64 (as certificate-authority-data holds it). A value that is none
// of these is not repeated in the error: it may be a key.
func LoadCAValue(name, value string) (*CABundle, error) {
	source := "$" + name
	switch {
	case strings.Contains(value, "-----BEGIN"):
		return ParseCABundle(source+" (PEM text)", []byte(value))
	case strings.TrimSpace(value) == "":
		return nil, &CAError{Source: source, Msg: "is set but empty"}
	}
	if _, err := os.Stat(value); err != nil {
		if decoded, ok := decodeBase64(value); ok {
			if !bytes.Contains(decoded, []byte("-----BEGIN")) {
				return nil, &CAError{Source: source, Msg: fmt.Sprintf("holds %d characters of base64 that are not PEM certificates", len(value))}
			}
			return ParseCABundle(source+" (base64 of PEM)", decoded)
		}
		if !looksLikePath(value) {
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("holds %d characters that are neither a file name, PEM text nor base64 of it", len(value))}
		}
	}
	b, err := LoadCAFile(value)
	if err != nil {
		var ce *CAError
		if errors.As(err, &ce) {
			ce.Source = source + " = " + ce.Source
		}
		return nil, err
	}
	return b, nil
}

// decodeBase64 decodes a value long enough to be a certificate in base64
// (line breaks and spaces allowed, as base64 -w76 writes it).
func decodeBase64(value string) ([]byte, bool) {
	compact := strings.Join(strings.Fields(value), "")
	if len(compact) < 64 {
		return nil, false
	}
	decoded, err := base64.StdEncoding.DecodeString(compact)
	return decoded, err == nil
}

// looksLikePath: one line of printable text whose parts are no longer
// than a file name may be (NAME_MAX, 255 bytes), which an error may
// repeat.
func looksLikePath(value string) bool {
	for _, part := range strings.Split(value, "/") {
		if len(part) > 255 {
			return false
		}
	}
	for _, r := range value {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return len(value) <= 4096
}

// ParseCABundle checks that data is PEM and that every block in it is a
// certificate. Messages never quote the data: a wrong file may hold a key.
func ParseCABundle(source string, data []byte) (*CABundle, error) {
	b := &CABundle{Source: source}
	rest := bytes.TrimSpace(data)
	if len(rest) == 0 {
		return nil, &CAError{Source: source, Msg: "is empty; expected PEM certificates (-----BEGIN CERTIFICATE-----)"}
	}
	for n := 1; len(rest) > 0; n++ {
		block, tail := pem.Decode(rest)
		if block == nil {
			if n == 1 {
				return nil, &CAError{Source: source, Msg: "is not PEM; expected one or more -----BEGIN CERTIFICATE----- blocks"}
			}
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("has data after certificate %d that is not PEM", n-1)}
		}
		if block.Type != "CERTIFICATE" {
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("block %d is a %s, not a CERTIFICATE; pass the CA certificate, never a key", n, block.Type)}
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("certificate %d cannot be parsed", n), Err: err}
		}
		b.Certs = append(b.Certs, cert)
		b.PEM = append(b.PEM, pem.EncodeToMemory(block)...)
		rest = bytes.TrimSpace(tail)
	}
	return b, nil
}

// Check says whether the bundle can make kubectl trust anything at now.
// Go's TLS verification, kubectl's, refuses a chain that ends in an
// expired certificate, and a certificate that is not a CA (CA:FALSE) can
// sign nothing: it is trusted only as the server's own certificate,
// pinned, until that is renewed. A bundle whose every certificate has
// expired is refused; an expired certificate among others, and one that
// is not a CA, are warnings.
func (b *CABundle) Check(now time.Time) (warnings []string, err error) {
	expired := 0
	for i, c := range b.Certs {
		what := fmt.Sprintf("certificate %d (CN=%s)", i+1, c.Subject.CommonName)
		switch {
		case now.After(c.NotAfter):
			expired++
			warnings = append(warnings, fmt.Sprintf("%s: %s expired on %s; kubectl refuses a certificate chain that ends in it",
				b.Source, what, c.NotAfter.UTC().Format(time.DateOnly)))
		case c.BasicConstraintsValid && !c.IsCA, c.Version == 3 && !c.BasicConstraintsValid:
			// crypto/x509's checkSignatureFrom: such a certificate signs nothing.
			constraint := "CA:FALSE"
			if !c.BasicConstraintsValid {
				constraint = "no basicConstraints"
			}
			warnings = append(warnings, fmt.Sprintf("%s: %s is not a CA (%s): kubectl trusts it only as KAS's own certificate, "+
				"and fails once that is renewed; pass the CA that signed it", b.Source, what, constraint))
		}
	}
	switch {
	case expired < len(b.Certs):
		return warnings, nil
	case expired == 1:
		return nil, &CAError{Source: b.Source, Msg: strings.TrimPrefix(warnings[0], b.Source+": ")}
	}
	return nil, &CAError{Source: b.Source, Msg: fmt.Sprintf("all %d certificates have expired; kubectl refuses a certificate chain that ends in one", expired)}
}
