package httpsafe

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/hostile"
)

const secret = "glpat-httpsafeSecret"

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// send makes one request with the secret in a custom header, as GitLab's
// PRIVATE-TOKEN travels, and in Authorization, as KAS's bearer token does.
func send(client *http.Client, method, target string) (*http.Response, error) {
	req, _ := http.NewRequest(method, target, strings.NewReader(`{"kind":"SelfSubjectReview"}`))
	req.Header.Set("PRIVATE-TOKEN", secret)
	req.Header.Set("Authorization", "Bearer pat:1:"+secret)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// The hostile server catches what net/http's own client does: it sends the
// custom header to another host, and both headers over plain http and to
// another port.
func TestFixtureCatchesTheDefaultClient(t *testing.T) {
	s := hostile.Start(t)
	client := &http.Client{Transport: s.Transport()}
	for _, to := range []hostile.Listener{hostile.OtherHost, hostile.OriginHTTP, hostile.OtherPort} {
		s.Redirect("GET", "/api/v4/user", http.StatusFound, to, "/landed")
		s.Answer("GET", "/landed", 200, `{"id":1}`)
		if _, err := send(client, "GET", s.URL+"/api/v4/user"); err != nil {
			t.Fatal(err)
		}
		saw := s.Saw(to)
		if len(saw) != 1 || !saw[0].Carries(secret) {
			t.Errorf("net/http's client did not send the token to %s: the fixture would miss a leak", to)
		}
	}
}

func TestRedirects(t *testing.T) {
	s := hostile.Start(t)
	client, err := NewClient(mustParse(t, s.URL), Policy{}, s.Transport(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	statuses := []int{301, 302, 303, 307, 308}
	for _, method := range []string{"GET", "POST"} {
		for _, status := range statuses {
			for _, to := range []hostile.Listener{hostile.OtherHost, hostile.OriginHTTP, hostile.OtherPort} {
				t.Run(fmt.Sprintf("%s %d to %s", method, status, to), func(t *testing.T) {
					s.Reset()
					path := fmt.Sprintf("/x/%s/%d/%s", method, status, to)
					s.Redirect(method, path, status, to, "/landed")
					s.Answer("GET", "/landed", 200, `{}`)
					s.Answer("POST", "/landed", 200, `{}`)
					_, err := send(client, method, s.URL+path)
					var re *RedirectError
					if !errors.As(err, &re) || re.Problem != OtherOrigin || re.Status != status {
						t.Fatalf("err = %v, want a RedirectError for another origin with status %d", err, status)
					}
					for _, r := range s.Requests() {
						if r.Listener != hostile.Origin {
							t.Errorf("%s saw %s %s", r.Listener, r.Method, r.Path)
						}
					}
					if fix := re.Fix(); !strings.Contains(fix, s.URLs[to]) {
						t.Errorf("the fix does not name the redirect's target %s:\n%s", s.URLs[to], fix)
					}
				})
			}
			t.Run(fmt.Sprintf("%s %d within the origin", method, status), func(t *testing.T) {
				s.Reset()
				path := fmt.Sprintf("/y/%s/%d", method, status)
				s.Redirect(method, path, status, hostile.Origin, "/moved")
				s.Answer(method, "/moved", 200, `{}`)
				resp, err := send(client, method, s.URL+path)
				keepsMethod := method == "GET" || status == 307 || status == 308
				if !keepsMethod {
					var re *RedirectError
					if !errors.As(err, &re) || re.Problem != MethodChanged || !strings.Contains(err.Error(), "turns the POST into a GET") {
						t.Fatalf("err = %v, want a RedirectError for the changed method", err)
					}
					if n := len(s.Requests()); n != 1 {
						t.Errorf("%d requests, want the redirected one only", n)
					}
					return
				}
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("a redirect within the origin that keeps the method is followed: %v", err)
				}
				saw := s.Saw(hostile.Origin)
				if len(saw) != 2 || saw[1].Path != "/moved" || saw[1].Method != method || !saw[1].Carries(secret) {
					t.Errorf("the redirect was not followed with the method, body and token: %+v", saw)
				}
				if method == "POST" && saw[1].Body != `{"kind":"SelfSubjectReview"}` {
					t.Errorf("the body was not sent again: %q", saw[1].Body)
				}
			})
		}
	}
}

func TestRedirectLoop(t *testing.T) {
	s := hostile.Start(t)
	client, _ := NewClient(mustParse(t, s.URL), Policy{}, s.Transport(), 10*time.Second)
	s.Redirect("GET", "/loop", 302, hostile.Origin, "/loop")
	_, err := send(client, "GET", s.URL+"/loop")
	var re *RedirectError
	if !errors.As(err, &re) || re.Problem != TooMany {
		t.Fatalf("err = %v, want too many redirects", err)
	}
	if n := len(s.Requests()); n != MaxRedirects+1 {
		t.Errorf("%d requests, want %d", n, MaxRedirects+1)
	}
}

func TestRequestForAnotherOriginIsRefused(t *testing.T) {
	s := hostile.Start(t)
	client, _ := NewClient(mustParse(t, s.URL), Policy{}, s.Transport(), 10*time.Second)
	for _, to := range []hostile.Listener{hostile.OtherHost, hostile.OriginHTTP, hostile.OtherPort} {
		_, err := send(client, "GET", s.URLs[to]+"/x")
		var oe *OriginError
		if !errors.As(err, &oe) {
			t.Errorf("a request to %s: err = %v, want an OriginError", to, err)
		}
	}
	if saw := s.Requests(); len(saw) != 0 {
		t.Errorf("requests reached the listeners: %+v", saw)
	}
}

func TestPolicy(t *testing.T) {
	optIn := Policy{InsecureLoopbackHTTP: true}
	cases := []struct {
		url    string
		policy Policy
		ok     bool
	}{
		{"https://gitlab.example.com", Policy{}, true},
		{"http://gitlab.example.com", Policy{}, false},
		{"http://gitlab.example.com", optIn, false},
		{"http://127.0.0.1:8080", Policy{}, false},
		{"http://127.0.0.1:8080", optIn, true},
		{"http://127.1.2.3", optIn, true},
		{"http://[::1]:80", optIn, true},
		{"http://localhost:3000", optIn, true},
		{"http://localhost.example.com", optIn, false},
		{"http://10.0.0.1", optIn, false},
		{"ftp://127.0.0.1", optIn, false},
		{"https://", Policy{}, false},
	}
	for _, c := range cases {
		err := c.policy.Check(mustParse(t, c.url))
		if (err == nil) != c.ok {
			t.Errorf("%s with %+v: err = %v, want ok=%v", c.url, c.policy, err, c.ok)
		}
	}
	err := Policy{}.Check(mustParse(t, "http://u:glpat-pw@127.0.0.1:8080/?private_token=glpat-q"))
	var ie *InsecureURLError
	if !errors.As(err, &ie) || strings.Contains(err.Error(), "glpat-") || !strings.Contains(ie.Fix(), InsecureHTTPEnv+"=1") {
		t.Errorf("err = %v (fix %q): want one that hides credentials and names the opt-in for loopback", err, ie.Fix())
	}
	if err := (Policy{}).Check(mustParse(t, "http://gitlab.example.com")); strings.Contains(err.(*InsecureURLError).Fix(), InsecureHTTPEnv) {
		t.Errorf("the opt-in is offered for a host that is not loopback: %s", err.(*InsecureURLError).Fix())
	}
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == InsecureHTTPEnv && v != "" }
	}
	if !PolicyFromEnv(env("1")).InsecureLoopbackHTTP || PolicyFromEnv(env("")).InsecureLoopbackHTTP || PolicyFromEnv(env("yes")).InsecureLoopbackHTTP {
		t.Error("PolicyFromEnv: only " + InsecureHTTPEnv + "=1 opts in")
	}
}

func TestNewClientRefusesPlainHTTP(t *testing.T) {
	if _, err := NewClient(mustParse(t, "http://127.0.0.1:1"), Policy{}, nil, time.Second); err == nil {
		t.Fatal("a client for plain http was made without the opt-in")
	}
	if _, err := NewClient(mustParse(t, "http://127.0.0.1:1"), Policy{InsecureLoopbackHTTP: true}, nil, time.Second); err != nil {
		t.Fatal(err)
	}
}
