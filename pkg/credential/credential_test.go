package credential

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/pkg/apis/clientauthentication"
	"k8s.io/client-go/pkg/apis/clientauthentication/install"
)

// decodeWithClientGo is the oracle: kubectl decodes our reply with this
// scheme, in the apiVersion it asked for.
func decodeWithClientGo(t *testing.T, data []byte, apiVersion string) *clientauthentication.ExecCredential {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	codecs := serializer.NewCodecFactory(scheme, serializer.EnableStrict)
	obj, gvk, err := codecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("client-go cannot decode %s: %v", data, err)
	}
	if gvk.GroupVersion().String() != apiVersion || gvk.Kind != "ExecCredential" {
		t.Fatalf("decoded %v, want %s ExecCredential", gvk, apiVersion)
	}
	return obj.(*clientauthentication.ExecCredential)
}

func TestExecCredentialDecodesInClientGo(t *testing.T) {
	expires := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{V1, V1beta1} {
		for _, exp := range []time.Time{{}, expires} {
			data, err := Credential{Token: "pat:12:glpat-x:y", Expires: exp}.ExecCredential(v)
			if err != nil {
				t.Fatal(err)
			}
			cred := decodeWithClientGo(t, data, v)
			if cred.Status == nil || cred.Status.Token != "pat:12:glpat-x:y" {
				t.Fatalf("status = %+v", cred.Status)
			}
			got := cred.Status.ExpirationTimestamp
			if exp.IsZero() != (got == nil) || (got != nil && !got.Time.Equal(exp)) {
				t.Errorf("expiry = %v, want %v", got, exp)
			}
		}
	}
}

func TestParseExecInfo(t *testing.T) {
	cases := []struct {
		env     string
		want    string
		server  string
		wantErr string
	}{
		{env: "", want: V1},
		{env: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`, want: V1},
		{env: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}`, want: V1beta1},
		{env: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://kas/k8s-proxy"}}}`, want: V1, server: "https://kas/k8s-proxy"},
		{env: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, wantErr: "v1alpha1\" is not supported"},
		{env: `{"kind":"ExecCredential"}`, wantErr: "has no apiVersion"},
		{env: `{"kind":"Pod","apiVersion":"v1"}`, wantErr: "kind is \"Pod\""},
		{env: `{not json`, wantErr: "not valid JSON"},
	}
	for _, c := range cases {
		info, err := ParseExecInfo(c.env)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.env, err, c.wantErr)
			}
			continue
		}
		server := ""
		if info.Cluster != nil {
			server = info.Cluster.Server
		}
		if err != nil || info.APIVersion != c.want || server != c.server {
			t.Errorf("%s: %+v %v", c.env, info, err)
		}
	}
}

func TestParseToken(t *testing.T) {
	cases := []struct {
		in     string
		kind   Kind
		id     int64
		secret string
		ok     bool
	}{
		{"ci:1234:glcbt-64_abc", KindCI, 1234, "glcbt-64_abc", true},
		{"pat:7:glpat-a:b:c", KindPAT, 7, "glpat-a:b:c", true},
		{"ci:0:x", "", 0, "", false},
		{"pat:007:x", KindPAT, 7, "x", true}, // KAS reads the ID as a number too
		{"ci:-1:x", "", 0, "", false},
		{"ci:+1:x", "", 0, "", false},
		{"ci:12:", "", 0, "", false},
		{"ci:12", "", 0, "", false},
		{"oauth:12:x", "", 0, "", false},
		{"eyJhbGciOi.x.y", "", 0, "", false},
		{"", "", 0, "", false},
	}
	for _, c := range cases {
		tok, err := ParseToken(c.in)
		if (err == nil) != c.ok {
			t.Errorf("%q: err = %v", c.in, err)
			continue
		}
		if c.ok && (tok.Kind != c.kind || tok.AgentID != c.id || tok.Secret != c.secret) {
			t.Errorf("%q: %+v", c.in, tok)
		}
		if err != nil && c.in != "" && strings.Contains(err.Error(), strings.SplitN(c.in, ":", 3)[len(strings.SplitN(c.in, ":", 3))-1]) && len(c.in) > 8 {
			t.Errorf("%q: error quotes the secret: %v", c.in, err)
		}
	}
}

// TestExecInfoRoundTrip: what pkg/kas gives an exec plugin decodes as
// client-go's ExecCredential, and as get-token reads it.
func TestExecInfoRoundTrip(t *testing.T) {
	for _, v := range []string{V1, V1beta1} {
		for _, cluster := range []*ExecCluster{nil, {Server: "https://kas.example/k8s-proxy", TLSServerName: "kas", InsecureSkipTLSVerify: true,
			CertificateAuthorityData: []byte("-----BEGIN CERTIFICATE-----\n"), ProxyURL: "socks5://127.0.0.1:1080"}} {
			env, err := ExecInfo{APIVersion: v, Cluster: cluster}.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			cred := decodeWithClientGo(t, []byte(env), v)
			if cred.Spec.Interactive || (cluster == nil) != (cred.Spec.Cluster == nil) {
				t.Fatalf("%s: client-go read %+v", env, cred.Spec)
			}
			if cluster != nil {
				c := cred.Spec.Cluster
				if c.Server != cluster.Server || c.TLSServerName != cluster.TLSServerName || !c.InsecureSkipTLSVerify ||
					string(c.CertificateAuthorityData) != string(cluster.CertificateAuthorityData) || c.ProxyURL != cluster.ProxyURL {
					t.Errorf("%s: client-go read cluster %+v", env, c)
				}
			}
			info, err := ParseExecInfo(env)
			if err != nil || info.APIVersion != v || !reflect.DeepEqual(info.Cluster, cluster) {
				t.Errorf("%s: ParseExecInfo = %+v, %v", env, info, err)
			}
		}
	}
}

// TestParseExecCredential reads what ExecCredential writes, and refuses
// what kubectl would refuse, without quoting it.
func TestParseExecCredential(t *testing.T) {
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	data, _ := Credential{Token: "ci:1:secret", Expires: expires}.ExecCredential(V1beta1)
	got, err := ParseExecCredential(data, V1beta1)
	if err != nil || got.Token != "ci:1:secret" || !got.Expires.Equal(expires) {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	for _, c := range []struct{ out, says string }{
		{"token secret", "not an ExecCredential (not JSON)"},
		{`{"kind":"Secret","apiVersion":"v1","status":{"token":"secret"}}`, `printed kind "Secret"`},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"secret"}}`, `answered in apiVersion "client.authentication.k8s.io/v1", not the "client.authentication.k8s.io/v1beta1"`},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"}`, "without status"},
		{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{}}`, "neither a token nor a client certificate"},
	} {
		_, err := ParseExecCredential([]byte(c.out), V1beta1)
		if err == nil || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v", c.out, err)
		}
	}
}

func TestCheckSecret(t *testing.T) {
	for _, ok := range []string{"", "glpat-abc_DEF-123", "glcbt-64_a.b"} {
		if err := CheckSecret("GITLAB_TOKEN", ok); err != nil {
			t.Errorf("CheckSecret(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"glpat-abc\n", "glpat-abc\r\n", "glpat\x00abc", "a\tb", "a\x7f"} {
		err := CheckSecret("GITLAB_TOKEN", bad)
		var se *SecretError
		if !errors.As(err, &se) || err.Error() != "GITLAB_TOKEN holds a line break or another control character" || strings.Contains(err.Error()+se.Fix(), "glpat") {
			t.Errorf("CheckSecret(%q) = %v", bad, err)
		}
	}
}
