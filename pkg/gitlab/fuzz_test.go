package gitlab

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
)

// FuzzParseBaseURL: the canonical form is a fixed point (the token store
// keys tokens by it), and an error never shows a URL's user information,
// query or fragment.
func FuzzParseBaseURL(f *testing.F) {
	for _, s := range []string{"https://gitlab.example.com", "GitLab.example.com/", "https://[::1]:443/api/v4", "http://h:80/a%20b/",
		"https://user:glpat-x@h", "ftp://h", "https://h/?q", "", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeURL(s)
		if err != nil {
			// (The message's own "user:token@host" example does not count.)
			if user := userinfo(s); len(user) >= 3 && strings.Contains(strings.ReplaceAll(err.Error(), "REDACTED@", "@"), user+"@") && !strings.Contains("(user:token@host)", user+"@") {
				t.Fatalf("the error shows the URL's user information %q: %v", user, err)
			}
			if _, after, ok := strings.Cut(s, "?"); ok {
				for _, p := range strings.Split(strings.SplitN(after, "#", 2)[0], "&") {
					_, shownQuery, _ := strings.Cut(err.Error(), "?")
					if _, v, _ := strings.Cut(p, "="); len(v) >= 3 && strings.Contains(shownQuery, "="+v) {
						t.Fatalf("the error shows the query value %q: %v", v, err)
					}
				}
			}
			if _, frag, ok := strings.Cut(s, "#"); ok && len(frag) >= 3 && strings.Contains(err.Error(), "#"+frag) {
				t.Fatalf("the error shows the fragment: %v", err)
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

// FuzzOAuthAnswer: whatever GitLab answers to a device poll or a refresh,
// decoding neither panics nor lets the secret the request sent (the device
// code, the refresh token) or the client's token into the error, and an
// OAuth error code is one word.
func FuzzOAuthAnswer(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{400, `{"error":"authorization_pending","error_description":"…"}`},
		{400, `{"error":"invalid_grant","error_description":"device code SECRETCODE is unknown"}`},
		{401, `{"error":"invalid_client"}`},
		{200, `{"access_token":"a","refresh_token":"r","expires_in":7200}`},
		{200, `{}`},
		{404, `{"error":"404 Not Found"}`},
		{400, `{"error":"name is missing, scopes is missing"}`},
		{500, `<html>SECRETCODE</html>`},
		{204, ``},
		{403, `{"message":{"base":["SECRETCODE"]}}`},
	} {
		f.Add(s.status, s.body)
	}
	const secret, own = "SECRETCODE", "BEARERSECRET"
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 599 {
			return
		}
		c, err := NewClient("https://gitlab.example.com", Bearer(own), roundTrip(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
		}), httpsafe.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		c.Attempts = 1
		for _, call := range []func() error{
			func() error { _, err := c.PollDeviceToken(context.Background(), "app", secret); return err },
			func() error { _, err := c.RefreshOAuthToken(context.Background(), "app", secret); return err },
		} {
			err := call()
			if err == nil {
				continue
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), own) {
				t.Fatalf("the error shows a secret: %v", err)
			}
			if code := OAuthErrorCode(err); strings.ContainsAny(code, " ,") {
				t.Fatalf("OAuth code %q", code)
			}
		}
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// userinfo is what a URL carries before the '@' of its host part.
func userinfo(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		return s[:at]
	}
	return ""
}
