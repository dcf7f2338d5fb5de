// Package httpsafe decides where a secret may travel over HTTP. Every HTTP
// client the plugin builds (GitLab's REST API, GraphQL and OAuth, KAS's
// k8s-proxy) comes from NewClient, for one origin: the scheme, host and
// port the secret was issued for.
//
//   - The origin is https, or plain http to a loopback address when the
//     user opts in with KUBECTL_GITLAB_INSECURE_HTTP=1 (tests, a GitLab on
//     this machine); anything else is refused before a request is made.
//   - Requests go to that origin only; one for another origin is refused
//     before it leaves, whatever headers it carries.
//   - A redirect is followed only within the origin and only when it keeps
//     the method (and body): one that changes the scheme, host or port, or
//     that turns a POST into a GET (301, 302 and 303 do), is not followed,
//     and the request fails with a *RedirectError. Nothing is sent to the
//     redirect's target, so no token reaches it, and no answer from
//     elsewhere passes for the server's.
//
// net/http copies custom headers such as PRIVATE-TOKEN and JOB-TOKEN to
// every redirect target, and strips Authorization only for another domain
// (not for another scheme or port); client-go's bearer transport sets the
// token again on every request, redirects included. curl (and so git)
// keeps credentials to the same scheme, host and port since 7.83, and gh
// adds its token only for its own host. This package takes the strictest
// of these.
package httpsafe

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
)

// InsecureHTTPEnv names the variable that allows plain http to a loopback
// address: KUBECTL_GITLAB_INSECURE_HTTP=1.
const InsecureHTTPEnv = "KUBECTL_GITLAB_INSECURE_HTTP"

// MaxRedirects bounds the redirects followed within an origin, as
// net/http's default does.
const MaxRedirects = 10

// Policy is what the user allowed beyond https.
type Policy struct {
	// InsecureLoopbackHTTP allows plain http to 127.0.0.0/8, ::1 and
	// localhost.
	InsecureLoopbackHTTP bool
}

// PolicyFromEnv reads the opt-in from the environment.
func PolicyFromEnv(lookupEnv func(string) (string, bool)) Policy {
	v, _ := lookupEnv(InsecureHTTPEnv)
	return Policy{InsecureLoopbackHTTP: v == "1"}
}

// Origin is a URL's scheme, host and port (RFC 6454), the port made
// explicit.
type Origin struct {
	Scheme, Host, Port string
}

// OriginOf is u's origin.
func OriginOf(u *url.URL) Origin {
	o := Origin{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Hostname()), Port: u.Port()}
	if o.Port == "" {
		switch o.Scheme {
		case "https":
			o.Port = "443"
		case "http":
			o.Port = "80"
		}
	}
	return o
}

func (o Origin) String() string {
	return o.Scheme + "://" + net.JoinHostPort(o.Host, o.Port)
}

// IsLoopback tells an address of this machine: 127.0.0.0/8, ::1, or
// localhost.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Check says whether a secret may be sent to u: over https, or over plain
// http to a loopback address when the policy allows it.
func (p Policy) Check(u *url.URL) error {
	o := OriginOf(u)
	switch {
	case o.Scheme == "https" && o.Host != "":
		return nil
	case o.Scheme == "http" && p.InsecureLoopbackHTTP && IsLoopback(o.Host):
		return nil
	}
	return &InsecureURLError{URL: redact.URL(u.String()), Loopback: IsLoopback(o.Host), Scheme: o.Scheme}
}

// Insecure tells whether u is plain http that the policy allows: the
// caller says so on stderr.
func (p Policy) Insecure(u *url.URL) bool {
	return p.Check(u) == nil && OriginOf(u).Scheme == "http"
}

// InsecureURLError is a URL that a secret may not be sent to.
type InsecureURLError struct {
	URL      string // redacted
	Scheme   string
	Loopback bool
}

func (e *InsecureURLError) Error() string {
	if e.Scheme == "http" {
		return fmt.Sprintf("%s is plain http: a token sent there travels in clear text, so none is sent", e.URL)
	}
	return fmt.Sprintf("%s is not an https URL", e.URL)
}

// Fix says how to use https, or, on this machine, the opt-in.
func (e *InsecureURLError) Fix() string {
	fix := "use the https:// URL (a private CA works: set SSL_CERT_FILE, or pass --certificate-authority where the command takes it)"
	if e.Loopback && e.Scheme == "http" {
		fix += ";\nfor a test server on this machine, set " + InsecureHTTPEnv + "=1 (plain http to loopback addresses only)"
	}
	return fix
}

// NewClient makes the HTTP client for one origin, or says why a secret may
// not go there. transport nil means http.DefaultTransport.
func NewClient(origin *url.URL, p Policy, transport http.RoundTripper, timeout time.Duration) (*http.Client, error) {
	if err := p.Check(origin); err != nil {
		return nil, err
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	o := OriginOf(origin)
	return &http.Client{
		Transport:     originGuard{origin: o, next: transport},
		CheckRedirect: checkRedirect(o),
		Timeout:       timeout,
	}, nil
}

// originGuard refuses any request for another origin than its own.
type originGuard struct {
	origin Origin
	next   http.RoundTripper
}

func (g originGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if got := OriginOf(req.URL); got != g.origin {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &OriginError{Want: g.origin, URL: redact.URL(req.URL.String())}
	}
	return g.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (g originGuard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// OriginError is a request that a client made for one origin was asked
// to send elsewhere: a bug in the caller, refused before anything is sent.
type OriginError struct {
	Want Origin
	URL  string // redacted
}

func (e *OriginError) Error() string {
	return fmt.Sprintf("refused to send a request for %s to %s, another origin", e.Want, e.URL)
}

// RedirectError is a redirect that was not followed.
type RedirectError struct {
	Status int
	// Method and From are the request that was redirected.
	Method string
	From   string // redacted
	// To is where the redirect pointed, redacted; NewMethod what the
	// request would have become there.
	To        string
	NewMethod string
	// Problem says why it was not followed.
	Problem RedirectProblem
}

// RedirectProblem is why a redirect was not followed.
type RedirectProblem string

const (
	OtherOrigin   RedirectProblem = "another origin"
	MethodChanged RedirectProblem = "a changed method"
	TooMany       RedirectProblem = "too many redirects"
)

func (e *RedirectError) Error() string {
	what := fmt.Sprintf("the server answered %d %s, a redirect to %s", e.Status, http.StatusText(e.Status), e.To)
	switch e.Problem {
	case OtherOrigin:
		return what + " (" + e.difference() + "): not followed, nothing was sent there"
	case MethodChanged:
		return what + " that turns the " + e.Method + " into a " + e.NewMethod + ": not followed"
	}
	return what + fmt.Sprintf(": more than %d redirects, not followed", MaxRedirects)
}

// difference names what the redirect changed: scheme, host, port.
func (e *RedirectError) difference() string {
	from, errFrom := url.Parse(e.From)
	to, errTo := url.Parse(e.To)
	if errFrom != nil || errTo != nil {
		return "another server"
	}
	a, b := OriginOf(from), OriginOf(to)
	var changed []string
	if a.Scheme != b.Scheme {
		changed = append(changed, "from "+a.Scheme+" to "+b.Scheme)
	}
	if a.Host != b.Host {
		changed = append(changed, "to another host")
	}
	if a.Port != b.Port {
		changed = append(changed, "to another port")
	}
	return strings.Join(changed, ", ")
}

// Fix says what a redirect that is not followed usually means.
func (e *RedirectError) Fix() string {
	switch e.Problem {
	case OtherOrigin:
		to, err := url.Parse(e.To)
		target := "the server it points to"
		if err == nil {
			target = OriginOf(to).String()
		}
		return "a token goes only to the server it is for, and a server's API does not redirect elsewhere:\n" +
			"use the URL of the server itself (if " + target + " is it, and you trust it, use that URL);\n" +
			"a proxy, load balancer or login page in front of the server may be redirecting"
	case MethodChanged:
		return "the server's API does not redirect a " + e.Method + ": use the URL of the server itself;\n" +
			"a proxy, load balancer or login page in front of the server may be redirecting"
	}
	return "the server redirects in a loop: use the URL of the server itself"
}

// checkRedirect follows a redirect only within origin, with the method
// kept, and at most MaxRedirects times.
func checkRedirect(origin Origin) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		prev := via[len(via)-1]
		e := &RedirectError{Method: prev.Method, From: redact.URL(prev.URL.String()), To: redact.URL(req.URL.String()), NewMethod: req.Method}
		if req.Response != nil {
			e.Status = req.Response.StatusCode
		}
		switch {
		case OriginOf(req.URL) != origin:
			e.Problem = OtherOrigin
		case req.Method != prev.Method:
			e.Problem = MethodChanged
		case len(via) > MaxRedirects:
			e.Problem = TooMany
		default:
			return nil
		}
		return e
	}
}
