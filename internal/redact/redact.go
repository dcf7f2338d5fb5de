// Package redact hides secrets in what the plugin shows: the credentials
// a URL may carry (user:password@, query values, a fragment) and known
// secret values in a message. It is the one place that decides what a
// redaction looks like: the word REDACTED, as kubectl config view writes
// it. Text shown to people goes through here first, and through
// internal/termsafe on its way to the terminal.
package redact

import (
	"net/url"
	"strings"
)

// Marker replaces what is hidden.
const Marker = "REDACTED"

// URL shows raw without the credentials it may carry, keeping what
// identifies the server: scheme, host, port and path. The user information
// becomes REDACTED (https://REDACTED@host), so does the value of every
// query parameter (?private_token=REDACTED) and a fragment. A string that
// is not a URL is cut at its first '?' or '#', and in each of its
// '/'-separated parts everything before the last '@' is replaced the same
// way.
func URL(raw string) string {
	if !strings.ContainsAny(raw, "@?#") {
		return raw // the common case, and get-contexts shows thousands
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Scheme == "" || (u.Host == "" && strings.Contains(raw, "@")) {
		// "user:token@host" parses as scheme "user" with opaque data,
		// "x/://user@host" as a path, "//://user@" as a schemeless
		// authority: read them as a person would.
		return unparsed(raw)
	}
	if u.User != nil {
		u.User = url.User(Marker)
	}
	u.RawQuery, u.ForceQuery = query(u.RawQuery), false
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = Marker, ""
	}
	return u.String()
}

// Differs reports whether URL(raw) hides anything: raw carries something
// that may be a credential and must not be copied or shown as it is.
func Differs(raw string) bool { return URL(raw) != raw }

// query keeps the parameter names and hides their values; a parameter
// without '=' may be a token itself, and is hidden whole.
func query(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if name, _, ok := strings.Cut(p, "="); ok {
			parts[i] = name + "=" + Marker
		} else if p != "" {
			parts[i] = Marker
		}
	}
	return strings.Join(parts, "&")
}

func unparsed(raw string) string {
	s, cut := raw, false
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s, cut = s[:i], true
	}
	// Text right before an '@' reads as user information wherever it
	// stands, not only after a scheme (the fuzzer found "000@://000@" and
	// "t-x@ 0/t-x@"): in each '/'-separated part, everything before its
	// last '@' is hidden.
	parts := strings.Split(s, "/")
	for i, p := range parts {
		if at := strings.LastIndexByte(p, '@'); at >= 0 {
			parts[i] = Marker + p[at:]
		}
	}
	s = strings.Join(parts, "/")
	if cut {
		s += "?" + Marker
	}
	return s
}

// Secrets replaces every occurrence of each non-empty secret in s, for
// messages that came back from a server or a plugin and may quote what
// was sent.
func Secrets(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, Marker)
		}
	}
	return s
}
