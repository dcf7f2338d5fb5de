package redact

import (
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := map[string]string{
		"https://kas.example.com/k8s-proxy/":                       "https://kas.example.com/k8s-proxy/",
		"https://user:glpat-secret@kas.example.com:8443/k8s-proxy": "https://REDACTED@kas.example.com:8443/k8s-proxy",
		"https://glpat-secret@kas.example.com/":                    "https://REDACTED@kas.example.com/",
		"https://kas.example.com/k8s-proxy/?private_token=glpat-s": "https://kas.example.com/k8s-proxy/?private_token=REDACTED",
		"https://h/p?a=1&glpat-bare&b=":                            "https://h/p?a=REDACTED&REDACTED&b=REDACTED",
		"https://h/p#glpat-frag":                                   "https://h/p#REDACTED",
		"https://h/p?":                                             "https://h/p",
		// Not URLs: still no credential shown.
		"user:glpat-secret@host/path":          "REDACTED@host/path",
		"https://u:glpat-secret@h%zz/x?t=s":    "https://REDACTED@h%zz/x?REDACTED",
		"://u:glpat-secret@[::1/x":             "://REDACTED@[::1/x",
		"t-x@ 0/t-x@":                          "REDACTED@ 0/REDACTED@",
		"000@://000@":                          "REDACTED@://REDACTED@",
		"0/://000@":                            "0/://REDACTED@",
		"//://000@":                            "//://REDACTED@",
		"https://[::1]:443/a@b?private_token=": "https://[::1]:443/a@b?private_token=REDACTED",
		"":                                     "",
	}
	for in, want := range cases {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDiffers(t *testing.T) {
	if Differs("https://kas.example.com/k8s-proxy/") || !Differs("https://u:p@kas.example.com/") || !Differs("https://h/?private_token=x") {
		t.Error("Differs tells a URL with credentials from one without wrongly")
	}
}

func TestSecrets(t *testing.T) {
	got := Secrets("token glpat-a and ci:1:glcbt-b, glpat-a again", "glpat-a", "", "glcbt-b")
	if got != "token REDACTED and ci:1:REDACTED, REDACTED again" {
		t.Errorf("Secrets = %q", got)
	}
}

// FuzzURL: whatever the input, what URL returns carries no user
// information, query value or fragment but REDACTED, and changes nothing
// that has none of '@', '?' and '#'.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x?private_token=t#f", "u:p@h", "https://h/?a&b=c", "http://[::1]:80/@?#", "%zz@h?x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := URL(s)
		if !strings.ContainsAny(s, "@?#") {
			if got != s {
				t.Fatalf("URL(%q) = %q: nothing to hide, yet changed", s, got)
			}
			return
		}
		if q, ok := strings.CutPrefix(got[strings.IndexAny(got+"?", "?#"):], "?"); ok {
			for _, p := range strings.Split(strings.SplitN(q, "#", 2)[0], "&") {
				if _, v, _ := strings.Cut(p, "="); p != "" && p != Marker && v != Marker && !strings.HasSuffix(p, "="+Marker) {
					t.Fatalf("URL(%q) = %q keeps the query value of %q", s, got, p)
				}
			}
		}
		if _, frag, ok := strings.Cut(got, "#"); ok && frag != Marker {
			t.Fatalf("URL(%q) = %q keeps the fragment", s, got)
		}
		if u, err := url.Parse(got); err == nil && u.User != nil && u.User.String() != Marker && u.User.String() != "" {
			t.Fatalf("URL(%q) = %q keeps the user information", s, got)
		}
	})
}
