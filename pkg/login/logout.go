package login

import (
	"context"
	"errors"
	"fmt"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// Logout revokes on GitLab what login --web minted for an instance (the
// token, and a kept refresh token), then forgets it. A pasted token is
// only forgotten, unless RevokePasted.
type Logout struct {
	Store tokenstore.Store
	// Client makes a client for the GitLab at url with auth.
	Client func(url string, auth gitlab.Auth) (*gitlab.Client, error)
	// RevokePasted revokes a token the user pasted too.
	RevokePasted bool
	// ForgetOnly revokes nothing: the token keeps working until it
	// expires.
	ForgetOnly bool
}

// LoggedOut is what Logout did for one instance.
type LoggedOut struct {
	URL       string
	Where     string // where the token was kept
	TokenName string
	ExpiresAt tokenstore.Date
	// Minted: login --web minted the token (else it was pasted).
	Minted bool
	// Revoked: GitLab revoked the token now (or it was already dead).
	Revoked bool
	// RefreshTokenRevoked: a kept refresh token was revoked too.
	RefreshTokenRevoked bool
}

// Run logs out of url. When a revocation fails nothing is forgotten, so
// that logout can be run again.
func (l Logout) Run(ctx context.Context, url string) (*LoggedOut, error) {
	where := tokenstore.WhereIs(l.Store, url)
	e, err := l.Store.Get(url)
	if err != nil {
		return nil, err
	}
	out := &LoggedOut{URL: url, Where: where, TokenName: e.TokenName, ExpiresAt: e.ExpiresAt, Minted: e.Minted()}
	if !l.ForgetOnly && (e.Minted() || l.RevokePasted) {
		if err := RevokeKept(ctx, url, e, l.Client); err != nil {
			return nil, fixable.Errorf("run logout again when GitLab answers, or forget it without revoking: kubectl gitlab logout --forget-only (it then works until "+e.ExpiresAt.String()+")",
				"cannot revoke the token %q for %s, so nothing was removed: %w", e.TokenName, url, err)
		}
		out.Revoked, out.RefreshTokenRevoked = true, e.RefreshToken != ""
	}
	if err := l.Store.Delete(url); err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
		return out, fmt.Errorf("cannot remove the token for %s from %s: %w", url, where, err)
	}
	return out, nil
}
