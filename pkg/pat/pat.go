// Package pat is what the plugin does with a personal access token: check
// it with GitLab (login), remember what GitLab says about it (the token
// store's Entry), and rotate it before it expires (get-token).
package pat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// Scope is the scope KAS requires of a personal access token.
const Scope = "k8s_proxy"

// CreateURL is the page of the GitLab at url that creates a token for the
// plugin, with its name and scope filled in.
func CreateURL(url string) string {
	return url + "/-/user_settings/personal_access_tokens?name=kubectl-gitlab&scopes=" + Scope
}

// Check asks GitLab about the token the client authenticates with and tells
// each way it can be unusable apart: unknown, revoked, expired, inactive, or
// without the k8s_proxy scope.
func Check(ctx context.Context, client *gitlab.Client, now time.Time) (*gitlab.PersonalAccessToken, error) {
	url := client.BaseURL().String()
	create := "create a token with the " + Scope + " scope at " + CreateURL(url)
	pat, err := client.PersonalAccessTokenSelf(ctx)
	var apiErr *gitlab.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		msg := strings.ToLower(apiErr.Message)
		switch {
		case strings.Contains(msg, "revoked"):
			return nil, fixable.Errorf(create, "the token was revoked")
		case strings.Contains(msg, "expired"):
			return nil, fixable.Errorf(create, "the token has expired")
		}
		return nil, fixable.Errorf("check that the token is for "+url+", or "+create, "GitLab does not accept the token (%w)", err)
	case err != nil:
		return nil, err
	case pat.Revoked:
		return nil, fixable.Errorf(create, "the token was revoked")
	case pat.ExpiresAt != nil && expiredOn(*pat.ExpiresAt, now):
		return nil, fixable.Errorf(create, "the token expired on %s", *pat.ExpiresAt)
	case !pat.Active:
		return nil, fixable.Errorf(create, "the token is not active")
	case !slices.Contains(pat.Scopes, Scope):
		return nil, fixable.Errorf(create, "the token lacks the %s scope (it has: %s), which KAS requires", Scope, strings.Join(pat.Scopes, ", "))
	}
	return pat, nil
}

func expiredOn(day string, now time.Time) bool {
	d, err := tokenstore.ParseDate(day)
	return err == nil && !now.Before(d.UTCMidnight())
}

// Entry is what the token store keeps about a token GitLab described.
func Entry(token string, p *gitlab.PersonalAccessToken) (tokenstore.Entry, error) {
	e := tokenstore.Entry{Token: token, TokenID: p.ID, TokenName: p.Name, Scopes: p.Scopes, SelfRotate: slices.Contains(p.Scopes, "self_rotate")}
	if p.ExpiresAt != nil {
		d, err := tokenstore.ParseDate(*p.ExpiresAt)
		if err != nil {
			return e, fmt.Errorf("GitLab's expires_at: %w", err)
		}
		e.ExpiresAt = d
	}
	return e, nil
}

// RotateBefore is how long before expiry get-token rotates a token that
// may rotate itself (self_rotate scope).
const RotateBefore = 48 * time.Hour

// RotationDue reports whether a stored token should be rotated now.
func RotationDue(e tokenstore.Entry, now time.Time) bool {
	return e.SelfRotate && !e.ExpiresAt.IsZero() && e.ExpiresAt.UTCMidnight().Sub(now) < RotateBefore
}

// Rotator rotates stored tokens.
type Rotator struct {
	// LockDir holds the lock files that make parallel rotations one.
	LockDir string
	Now     func() time.Time
	// Client makes a GitLab client for url with token.
	Client func(url, token string) (*gitlab.Client, error)
	// Warnings gets a line when rotation fails or its result cannot be kept.
	Warnings io.Writer
}

// Rotate replaces a token that is about to expire, under a lock so that
// kubectl commands running in parallel rotate once and all get the new
// token. When anything fails, the current token (still valid) is returned.
func (r Rotator) Rotate(store tokenstore.Store, url string, e tokenstore.Entry) tokenstore.Entry {
	sum := sha256.Sum256([]byte(url))
	lock, err := atomicfile.Acquire(filepath.Join(r.LockDir, "rotate-"+hex.EncodeToString(sum[:8])), 10*time.Second)
	if err != nil {
		return e
	}
	defer lock.Release()
	if fresh, err := store.Get(url); err == nil {
		e = fresh // another kubectl may have rotated it meanwhile
	}
	if !RotationDue(e, r.Now()) {
		return e
	}
	client, err := r.Client(url, e.Token)
	if err != nil {
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next, err := client.RotatePersonalAccessToken(ctx)
	if err != nil || next.Token == "" {
		fmt.Fprintf(r.Warnings, "warning: could not rotate the token for %s, which expires %s: %v\n", url, e.ExpiresAt, err)
		return e
	}
	rotated, err := Entry(next.Token, next)
	if err != nil {
		return e
	}
	if err := store.Set(url, rotated); err != nil {
		// GitLab revoked the old token; use the new one now, but say that
		// it could not be kept.
		fmt.Fprintf(r.Warnings, "warning: rotated the token for %s but could not store the new one: %v; run kubectl gitlab login\n", url, err)
	}
	return rotated
}
