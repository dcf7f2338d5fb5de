package gitlab

import (
	"strings"
	"testing"
)

// FuzzParseBaseURL: the canonical form is a fixed point (the token store
// keys tokens by it), and an error never shows a URL with credentials.
func FuzzParseBaseURL(f *testing.F) {
	for _, s := range []string{"https://gitlab.example.com", "GitLab.example.com/", "https://[::1]:443/api/v4", "http://h:80/a%20b/",
		"https://user:glpat-x@h", "ftp://h", "https://h/?q", "", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeURL(s)
		if err != nil {
			// (The message's own "user:token@host" example does not count.)
			if strings.Contains(s, "@") && strings.Contains(err.Error(), s) && !strings.Contains("(user:token@host)", s) {
				t.Fatalf("the error shows a URL that may carry credentials: %v", err)
			}
			if _, ok := err.(*URLError); !ok {
				t.Fatalf("error %T, want *URLError", err)
			}
			return
		}
		again, err := NormalizeURL(got)
		if err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v: not a fixed point", s, got, again, err)
		}
	})
}
