package gitlab

import (
	"strings"
	"testing"
)

// TestParseBaseURL: one canonical form per instance, whatever form the
// flag, $GITLAB_URL or $CI_API_V4_URL give it in.
func TestParseBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://gitlab.example.com":         "https://gitlab.example.com",
		"https://GitLab.example.com/":        "https://gitlab.example.com",
		"HTTPS://GITLAB.EXAMPLE.COM:443//":   "https://gitlab.example.com",
		"gitlab.example.com":                 "https://gitlab.example.com",
		" gitlab.example.com/ ":              "https://gitlab.example.com",
		"https://gitlab.example.com:8443/":   "https://gitlab.example.com:8443",
		"http://gitlab.example.com:80/":      "http://gitlab.example.com",
		"http://gitlab.example.com:443":      "http://gitlab.example.com:443",
		"https://example.com/GitLab/":        "https://example.com/GitLab",
		"https://example.com/a%20b":          "https://example.com/a%20b",
		"https://[::1]:443/":                 "https://[::1]",
		"https://[2001:DB8::1]:8443/x/":      "https://[2001:db8::1]:8443/x",
		"http://127.0.0.1:3000":              "http://127.0.0.1:3000",
		"https://gitlab.example.com/api/v4":  "https://gitlab.example.com",
		"https://gitlab.example.com/api/v4/": "https://gitlab.example.com",
		"https://example.com/gitlab/":        "https://example.com/gitlab",
		" https://gitlab.com ":               "https://gitlab.com",
		"http://127.0.0.1:8080/sub/api/v4":   "http://127.0.0.1:8080/sub",
	} {
		got, err := NormalizeURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
		// The canonical form is a fixed point: the keys that the token
		// store holds (written in this form) stay readable.
		if again, err := NormalizeURL(want); err != nil || again != want {
			t.Errorf("NormalizeURL(%q) = %q, %v: not a fixed point", want, again, err)
		}
	}
}

func TestParseBaseURLRejects(t *testing.T) {
	const token = "glpat-secretDoNotShow"
	for in, want := range map[string]string{
		"":                                 "empty",
		"ftp://gitlab.example.com":         `scheme "ftp"`,
		"https://gitlab.example.com/?x=1":  "query or fragment",
		"https://gitlab.example.com/#frag": "query or fragment",
		"https://":                         "no host",
		"https://user:" + token + "@gitlab.example.com":      "must not carry a user name or token",
		"https://gitlab example.com":                         "not a URL",
		"https://gitlab.example.com/?private_token=" + token: `"https://gitlab.example.com/?private_token=REDACTED" has a query`,
		"https://gitlab.example.com/#" + token:               "query or fragment",
		"https://u:" + token + "@gitlab example.com":         `"https://REDACTED@gitlab example.com" is not a URL`,
	} {
		_, err := ParseBaseURL(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseBaseURL(%q) = %v; want an error with %q", in, err, want)
			continue
		}
		if e, ok := err.(*URLError); !ok || e.Fix() == "" || strings.Contains(err.Error()+e.Fix(), token) {
			t.Errorf("ParseBaseURL(%q) = %#v: want a *URLError with a fix and no token", in, err)
		}
	}
}
