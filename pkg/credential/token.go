// Package credential knows the agent tokens that KAS accepts and the
// client-go ExecCredential objects that carry them to kubectl.
package credential

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind says who a KAS token speaks for.
type Kind string

const (
	// KindCI is a CI job's token: ci:<agent-id>:<CI_JOB_TOKEN>.
	KindCI Kind = "ci"
	// KindPAT is a person's token: pat:<agent-id>:<personal access token>.
	KindPAT Kind = "pat"
)

// Token is a KAS bearer token split into its parts.
type Token struct {
	Kind    Kind
	AgentID int64
	Secret  string
}

// String renders the token as KAS expects it in "Authorization: Bearer …".
func (t Token) String() string {
	return string(t.Kind) + ":" + strconv.FormatInt(t.AgentID, 10) + ":" + t.Secret
}

// ErrNotAgentToken says that a bearer token is not of the ci:/pat: form.
var ErrNotAgentToken = errors.New("not a KAS agent token (want ci:<agent-id>:<token> or pat:<agent-id>:<token>)")

// ParseToken splits a KAS bearer token. It splits on the first two colons
// only, because the secret may contain colons itself. Errors never quote the
// secret.
func ParseToken(s string) (Token, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || (kind != string(KindCI) && kind != string(KindPAT)) {
		return Token{}, ErrNotAgentToken
	}
	idText, secret, ok := strings.Cut(rest, ":")
	if !ok {
		return Token{}, ErrNotAgentToken
	}
	id, err := ParseAgentID(idText)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrNotAgentToken, err)
	}
	if secret == "" {
		return Token{}, fmt.Errorf("%w: the secret after %s:%d: is empty", ErrNotAgentToken, kind, id)
	}
	return Token{Kind: Kind(kind), AgentID: id, Secret: secret}, nil
}

// ParseAgentID parses a GitLab agent ID: a positive decimal integer. Leading
// zeros are allowed, as KAS allows them.
func ParseAgentID(s string) (int64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("agent ID %q is not a positive number", s)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("agent ID %q is not a positive number", s)
	}
	return id, nil
}

// CheckSecret refuses a token that cannot travel in an HTTP header: one
// with a line break or another control character (a CI/CD variable or a
// Kubernetes Secret pasted with its trailing newline). kubectl would fail
// on it with an opaque header error, and GitLab with a 401. The error
// names source, never the secret.
func CheckSecret(source, secret string) error {
	for i := 0; i < len(secret); i++ {
		if b := secret[i]; b < 0x20 || b == 0x7f {
			return &SecretError{Source: source}
		}
	}
	return nil
}

// SecretError is a token with a control character in it.
type SecretError struct {
	// Source says where the token came from: a variable's name, "the
	// token from stdin".
	Source string
}

func (e *SecretError) Error() string {
	return e.Source + " holds a line break or another control character"
}

// Fix says what usually puts one there.
func (e *SecretError) Fix() string {
	return "a token is one line: remove the line break (often a trailing newline pasted into a CI/CD variable or a Secret)"
}
