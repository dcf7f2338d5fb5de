package gitlab

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
)

// ParseBaseURL reads the URL of a GitLab instance, as --gitlab-url,
// $GITLAB_URL, $CI_API_V4_URL or $CI_SERVER_URL give it, in its canonical
// form: scheme://host[:port][/path], scheme and host in lower case, the
// default port dropped, no trailing slash and no /api/v4. A URL without a
// scheme is https. The token store keeps tokens under this form, so
// "GitLab.example.com/" and "https://gitlab.example.com:443/api/v4" name
// the same instance. Errors are *URLError and show the URL redacted. An
// http:// URL is read as well (it names an instance in the token store);
// NewClient decides whether a token may go there.
func ParseBaseURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, &URLError{Problem: "the GitLab URL is empty", fix: fixExample}
	}
	typed := s
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	// Redacted as it is read (with https:// in front), shown as typed.
	shown := redact.URL(s)
	if typed != s {
		shown = strings.TrimPrefix(shown, "https://")
	}
	shown = fmt.Sprintf("%q", shown)
	u, err := url.Parse(s)
	if err != nil {
		return nil, &URLError{Problem: "the GitLab URL " + shown + " is not a URL", fix: fixExample}
	}
	if u.User != nil {
		return nil, &URLError{Problem: "the GitLab URL must not carry a user name or token (user:token@host)",
			fix: "pass only https://host[/path], and the token separately"}
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return nil, &URLError{Problem: fmt.Sprintf("the GitLab URL %s has scheme %q", shown, u.Scheme), fix: "use https://"}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, &URLError{Problem: "the GitLab URL " + shown + " has a query or fragment", fix: "pass only https://host[/path]"}
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return nil, &URLError{Problem: "the GitLab URL " + shown + " has no host", fix: fixExample}
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"): // IPv6 literal
		host = "[" + host + "]"
	}
	path := strings.TrimSuffix(strings.TrimRight(u.EscapedPath(), "/"), "/api/v4")
	path = strings.TrimRight(path, "/")
	canonical, err := url.Parse(scheme + "://" + host + path)
	if err != nil {
		return nil, &URLError{Problem: "the GitLab URL " + shown + " is not a URL", fix: fixExample}
	}
	return canonical, nil
}

// NormalizeURL is ParseBaseURL's canonical form, as a string.
func NormalizeURL(raw string) (string, error) {
	u, err := ParseBaseURL(raw)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

const fixExample = "pass it like https://gitlab.example.com"

// URLError is a GitLab URL that cannot be used.
type URLError struct {
	Problem string
	fix     string
}

func (e *URLError) Error() string { return e.Problem }

// Fix says what a usable URL looks like.
func (e *URLError) Fix() string { return e.fix }
