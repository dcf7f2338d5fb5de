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
