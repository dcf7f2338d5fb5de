package credential

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"ci:1234:tok", "pat:1:a:b", "ci::x", "ci:99999999999999999999:x", "pat:01:0", "ci:0:x", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			if tok != (Token{}) {
				t.Fatalf("error with a token: %+v", tok)
			}
			return
		}
		// KAS reads the agent ID as a decimal number, so "ci:01:x" is agent
		// 1; only such a non-canonical ID may render differently.
		if again, err := ParseToken(tok.String()); err != nil || again != tok {
			t.Fatalf("round trip: %q -> %+v -> %q -> %+v, %v", s, tok, tok.String(), again, err)
		}
		if idText := strings.SplitN(s, ":", 3)[1]; idText[0] != '0' && tok.String() != s {
			t.Fatalf("round trip: %q -> %+v -> %q", s, tok, tok.String())
		}
		if tok.AgentID <= 0 || tok.Secret == "" || (tok.Kind != KindCI && tok.Kind != KindPAT) {
			t.Fatalf("accepted a bad token %q: %+v", s, tok)
		}
	})
}

func FuzzParseExecInfo(f *testing.F) {
	for _, s := range []string{
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`,
		`{"apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://x"}}}`,
		`{"apiVersion":1}`, `[]`, `null`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ParseExecInfo(s)
		if err != nil {
			return
		}
		if info.APIVersion != V1 && info.APIVersion != V1beta1 {
			t.Fatalf("accepted apiVersion %q from %q", info.APIVersion, s)
		}
		out, err := Credential{Token: "ci:1:" + s}.ExecCredential(info.APIVersion)
		if err != nil || !json.Valid(out) || !strings.Contains(string(out), info.APIVersion) {
			t.Fatalf("reply %q, %v", out, err)
		}
	})
}

// FuzzParseExecCredential: whatever a plugin prints, reading it does not
// panic, an error never quotes it (it may hold the credential), and what
// is accepted renders and reads back the same.
func FuzzParseExecCredential(f *testing.F) {
	for _, s := range []string{
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"ci:1:secret"}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"x","expirationTimestamp":"2030-01-02T03:04:05Z"}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"c","clientKeyData":"k"}}`,
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}`,
		`{"kind":"ExecCredential"}`, `[]`, `null`, "token secret",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseExecCredential([]byte(s), V1)
		if err != nil {
			if len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error quotes the output: %v", err)
			}
			return
		}
		out, err := c.ExecCredential(V1)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseExecCredential(out, V1)
		if err != nil || again.Token != c.Token || again.ClientCertificateData != c.ClientCertificateData ||
			again.ClientKeyData != c.ClientKeyData || !again.Expires.Equal(c.Expires.Truncate(time.Second)) {
			t.Fatalf("round trip: %q -> %+v -> %s -> %+v, %v", s, c, out, again, err)
		}
	})
}
