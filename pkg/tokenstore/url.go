package tokenstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NormalizeURL returns the key under which a GitLab URL's token is kept:
// scheme://host[:port][/path], scheme and host lowercase, the default port
// dropped, no trailing slash. A URL without a scheme is taken as https, so
// "GitLab.example.com/" and "https://gitlab.example.com:443" name the same
// instance.
func NormalizeURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("the GitLab URL is empty; fix: pass it like https://gitlab.example.com")
	}
	// Never echo a URL that may carry credentials (user:token@host).
	shown := fmt.Sprintf("%q", s)
	if strings.Contains(s, "@") {
		shown = "given"
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("the GitLab URL %s is not a URL; fix: pass it like https://gitlab.example.com", shown)
	}
	if u.User != nil {
		return "", errors.New("the GitLab URL must not carry a user name or token (user:token@host); fix: pass only https://host[/path] and the token separately")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("the GitLab URL %s has scheme %q; fix: use https:// (or http://)", shown, u.Scheme)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("the GitLab URL %s has a query or fragment; fix: pass only https://host[/path]", shown)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("the GitLab URL %s has no host; fix: pass it like https://gitlab.example.com", shown)
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
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), nil
}
