package credential

import (
	"encoding/json"
	"strings"
	"testing"
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
