// Package gitlab makes the few GitLab REST calls the plugin needs: instance
// metadata, the agents a job may use, a project's agents, and a personal
// access token's own details. Requests are retried with backoff on 429, 5xx
// and connection errors, and errors name the endpoint and status, never the
// token. The token goes to the instance's own origin only, over https, and
// never after a redirect elsewhere (internal/httpsafe).
package gitlab

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/version"
)

// Auth is how a request proves who sends it.
type Auth struct {
	header string
	prefix string // before the secret in the header, e.g. "Bearer "
	secret string
}

// JobToken authenticates as a CI job (header JOB-TOKEN).
func JobToken(token string) Auth { return Auth{header: "JOB-TOKEN", secret: token} }

// PrivateToken authenticates with a personal access token (PRIVATE-TOKEN).
func PrivateToken(token string) Auth { return Auth{header: "PRIVATE-TOKEN", secret: token} }

// Bearer authenticates with an OAuth access token (Authorization: Bearer).
func Bearer(token string) Auth {
	return Auth{header: "Authorization", prefix: "Bearer ", secret: token}
}

// Client talks to one GitLab instance.
type Client struct {
	baseURL *url.URL // e.g. https://gitlab.example.com or https://example.com/gitlab
	auth    Auth
	http    *http.Client
	// Attempts bounds tries per request (default 4).
	Attempts int
	// Backoff is the wait before retry n (1-based); default exponential
	// from 250 ms with jitter, capped at 4 s.
	Backoff func(n int) time.Duration
	// Sleep waits; tests replace it.
	Sleep func(context.Context, time.Duration) error
}

// DefaultTimeout bounds each HTTP request.
const DefaultTimeout = 15 * time.Second

// NewClient makes a client for the GitLab at baseURL, which must be https
// (or plain http to loopback, if the policy allows it): the client sends
// requests, and the token, to that origin only, and follows no redirect
// that leaves it or changes the method. transport may be nil.
func NewClient(baseURL string, auth Auth, transport http.RoundTripper, policy httpsafe.Policy) (*Client, error) {
	u, err := ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	client, err := httpsafe.NewClient(u, policy, transport, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	return &Client{
		baseURL:  u,
		auth:     auth,
		http:     client,
		Attempts: 4,
		Backoff:  defaultBackoff,
		Sleep:    Wait,
	}, nil
}

// BaseURL is the instance's URL without /api/v4.
func (c *Client) BaseURL() *url.URL { u := *c.baseURL; return &u }

func defaultBackoff(n int) time.Duration {
	d := 250 * time.Millisecond << (n - 1)
	d = min(d, 4*time.Second)
	return d/2 + rand.N(d/2+1)
}

// Wait waits d, or returns ctx's error when ctx ends first: the client's
// default Sleep between tries, and the device flow's between polls.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// APIError is a GitLab answer other than success.
type APIError struct {
	Method   string
	Endpoint string // the path, e.g. /api/v4/job/allowed_agents
	Status   int
	Message  string // from the body, with the secret scrubbed
	// Code is the body's OAuth error code ("error": invalid_grant,
	// insufficient_scope, …), when it has one.
	Code string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Fix says what the status usually means for the plugin's calls.
func (e *APIError) Fix() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "the token was not accepted: in a job, CI_JOB_TOKEN is valid only while the job runs; elsewhere check GITLAB_TOKEN or run kubectl gitlab login"
	case http.StatusForbidden:
		return "the token lacks the rights for this call (a project's agents need the Developer role and the read_api scope)"
	case http.StatusNotFound:
		return "check the project path or ID and the GitLab URL"
	}
	return ""
}

// NetworkError is a request that got no HTTP answer.
type NetworkError struct {
	Method   string
	Endpoint string
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.Endpoint, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// Fix tells a redirect that was not followed and an untrusted certificate
// from a network that does not carry the request.
func (e *NetworkError) Fix() string {
	var redirect *httpsafe.RedirectError
	if errors.As(e.Err, &redirect) {
		return redirect.Fix()
	}
	if isUntrusted(e.Err) {
		return "GitLab's certificate is not trusted: pass its CA with --certificate-authority or $KAS_CERTIFICATE, or set SSL_CERT_FILE"
	}
	return "check the GitLab URL and the network; the request was retried"
}

// isUntrusted tells a certificate that does not verify (the message is
// all that is left when scrubErr had to rewrite it).
func isUntrusted(err error) bool {
	return strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "certificate")
}

// get fetches path (below /api/v4) into out.
func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, out)
}

// do makes a request without a body to path (below /api/v4).
func (c *Client) do(ctx context.Context, method, path string, out any) error {
	return c.send(ctx, request{method: method, endpoint: "/api/v4" + path}, out)
}

// request is one call: where, what it sends, how often it may be tried.
type request struct {
	method   string
	endpoint string // below the base URL: /api/v4/…, /oauth/…
	// form is the urlencoded body, or nil; its secrets are scrubbed
	// from errors like the client's own.
	form    url.Values
	secrets []string
	// once: a call that changed something at GitLab (minted a token)
	// must not be repeated.
	once bool
	// body, when set, is sent as contentType (GraphQL's JSON).
	body        []byte
	contentType string
}

func (c *Client) send(ctx context.Context, r request, out any) error {
	u := c.BaseURL()
	// A list's page asks with a query (pages.go); messages name the path.
	r.endpoint, u.RawQuery, _ = strings.Cut(r.endpoint, "?")
	rawPath := strings.TrimRight(u.EscapedPath(), "/") + r.endpoint
	u.RawPath = rawPath
	u.Path, _ = url.PathUnescape(rawPath)
	attempts := max(c.Attempts, 1)
	if r.once {
		attempts = 1
	}
	var lastErr error
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			wait := c.Backoff(attempt - 1)
			if ra := retryAfter(lastErr); ra > 0 {
				wait = min(ra, 10*time.Second)
			}
			if err := c.Sleep(ctx, wait); err != nil {
				return lastErr
			}
		}
		retry, err := c.once(ctx, r, u.String(), out)
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return lastErr
}

type retryAfterError struct {
	*APIError
	after time.Duration
}

func (e *retryAfterError) Unwrap() error { return e.APIError }

func retryAfter(err error) time.Duration {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.after
	}
	return 0
}

// once makes one request; retry says whether another try may help.
func (c *Client) once(ctx context.Context, r request, rawURL string, out any) (retry bool, err error) {
	method, endpoint := r.method, r.endpoint
	var body io.Reader
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
	case r.body != nil:
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kubectl-gitlab/"+version.String())
	switch {
	case r.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case r.body != nil:
		req.Header.Set("Content-Type", r.contentType)
	}
	if c.auth.secret != "" {
		req.Header.Set(c.auth.header, c.auth.prefix+c.auth.secret)
	}
	resp, err := c.http.Do(req)
	var redirect *httpsafe.RedirectError
	switch {
	case errors.As(err, &redirect):
		// Not followed, and not retried: it would be the same redirect.
		return false, &NetworkError{Method: method, Endpoint: endpoint, Err: redirect}
	case err != nil:
		return isTransient(err), &NetworkError{Method: method, Endpoint: endpoint, Err: c.scrubErr(err, r.secrets...)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return true, &NetworkError{Method: method, Endpoint: endpoint, Err: c.scrubErr(err, r.secrets...)}
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &APIError{Method: method, Endpoint: endpoint, Status: resp.StatusCode, Message: c.scrub(errorMessage(data), r.secrets...), Code: oauthErrorCode(data)}
		transient := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if s, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil && transient {
			return true, &retryAfterError{APIError: apiErr, after: time.Duration(s) * time.Second}
		}
		return transient, apiErr
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return false, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return false, &APIError{Method: method, Endpoint: endpoint, Status: resp.StatusCode, Message: "the answer is not the expected JSON: " + err.Error()}
	}
	if p, ok := out.(interface{ setHeader(http.Header) }); ok {
		p.setHeader(resp.Header) // a page of a list (pages.go)
	}
	return false, nil
}

// isTransient: connection refused or reset, timeouts, EOF. TLS
// verification failures are not: retrying will not fix trust; nor is a
// request the origin guard refused.
func isTransient(err error) bool {
	var originErr *httpsafe.OriginError
	if errors.As(err, &originErr) {
		return false
	}
	var verifyErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	if errors.As(err, &verifyErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostname) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// errorMessage pulls GitLab's message out of an error body, on one line
// and with its control characters escaped: it is shown on a terminal.
func errorMessage(body []byte) string {
	return termsafe.Text(rawErrorMessage(body))
}

func rawErrorMessage(body []byte) string {
	var e struct {
		Message          any    `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Errors           []struct {
			Message string `json:"message"`
		} `json:"errors"` // GraphQL's render_error
	}
	if json.Unmarshal(body, &e) == nil {
		switch {
		case len(e.Errors) > 0:
			return e.Errors[0].Message
		case e.ErrorDescription != "":
			return e.ErrorDescription
		case e.Message != nil:
			if s, ok := e.Message.(string); ok {
				return s
			}
			b, _ := json.Marshal(e.Message)
			return string(b)
		case e.Error != "":
			return e.Error
		}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 || strings.HasPrefix(text, "<") {
		return "" // an HTML error page says nothing useful
	}
	return text
}

// scrub removes the secrets (the client's, and those a request sent)
// from text that came back from the network.
func (c *Client) scrub(s string, secrets ...string) string {
	return redact.Secrets(s, append(secrets, c.auth.secret)...)
}

func (c *Client) scrubErr(err error, secrets ...string) error {
	msg := c.scrub(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
