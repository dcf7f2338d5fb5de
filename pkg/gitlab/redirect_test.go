package gitlab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/hostile"
)

const hostileToken = "glpat-gitlabRedirectSecret"

func hostileClient(t *testing.T, s *hostile.Server) *Client {
	t.Helper()
	c, err := NewClient(s.URL, PrivateToken(hostileToken), s.Transport(), httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	return c
}

// Every redirect off GitLab's origin, for a GET and for the rotation's
// POST, is refused at once (not retried), and sends nothing there.
func TestRedirectsOffTheOrigin(t *testing.T) {
	s := hostile.Start(t)
	c := hostileClient(t, s)
	s.Answer("GET", "/landed", 200, `{"id":1,"active":true,"scopes":["k8s_proxy"],"token":"glpat-fromElsewhere"}`)
	s.Answer("POST", "/landed", 200, `{"id":1,"active":true,"scopes":["k8s_proxy"],"token":"glpat-fromElsewhere"}`)
	calls := map[string]func() error{
		"GET":  func() error { _, err := c.PersonalAccessTokenSelf(context.Background()); return err },
		"POST": func() error { _, err := c.RotatePersonalAccessToken(context.Background()); return err },
	}
	paths := map[string]string{"GET": "/api/v4/personal_access_tokens/self", "POST": "/api/v4/personal_access_tokens/self/rotate"}
	for method, call := range calls {
		for _, status := range []int{301, 302, 303, 307, 308} {
			for _, to := range []hostile.Listener{hostile.OtherHost, hostile.OriginHTTP, hostile.OtherPort} {
				t.Run(fmt.Sprintf("%s %d %s", method, status, to), func(t *testing.T) {
					s.Reset()
					s.Redirect(method, paths[method], status, to, "/landed")
					err := call()
					var netErr *NetworkError
					var redirect *httpsafe.RedirectError
					if !errors.As(err, &netErr) || !errors.As(err, &redirect) || redirect.Problem != httpsafe.OtherOrigin {
						t.Fatalf("err = %v, want a NetworkError for a redirect off the origin", err)
					}
					if !strings.HasPrefix(err.Error(), method+" "+paths[method]+": the server answered") || strings.Contains(err.Error(), hostileToken) {
						t.Errorf("err = %q", err)
					}
					if !strings.Contains(netErr.Fix(), s.URLs[to]) {
						t.Errorf("fix = %q", netErr.Fix())
					}
					if got := s.Requests(); len(got) != 1 || got[0].Listener != hostile.Origin {
						t.Errorf("want one request, to the origin; got %+v", got)
					}
				})
			}
		}
	}
}

// A server's message is shown on one line, its control characters
// escaped, the token redacted.
func TestErrorMessageIsEscaped(t *testing.T) {
	s := hostile.Start(t)
	c := hostileClient(t, s)
	s.Answer("GET", "/api/v4/metadata", 403, `{"message":"403 \u001b[2J\u001b]0;pwned\u0007 token `+hostileToken+`\nerror: fake line"}`)
	_, err := c.Metadata(context.Background())
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07\n") || strings.Contains(err.Error(), hostileToken) ||
		!strings.Contains(err.Error(), `\u001b[2J\u001b]0;pwned\u0007 token REDACTED\nerror: fake line`) {
		t.Errorf("err = %q", err)
	}
}

func TestNewClientRefusesPlainHTTP(t *testing.T) {
	_, err := NewClient("http://gitlab.example.com", PrivateToken(hostileToken), nil, httpsafe.Policy{InsecureLoopbackHTTP: true})
	var insecure *httpsafe.InsecureURLError
	if !errors.As(err, &insecure) {
		t.Fatalf("err = %v, want an InsecureURLError", err)
	}
	if _, err := NewClient("http://127.0.0.1:3000", PrivateToken(hostileToken), nil, httpsafe.Policy{InsecureLoopbackHTTP: true}); err != nil {
		t.Fatalf("the opt-in for loopback: %v", err)
	}
}
