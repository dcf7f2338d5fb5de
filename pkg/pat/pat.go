// Package pat is what the plugin does with a personal access token: check
// it with GitLab (login), mint one with only the k8s_proxy scope (login
// --web), remember what GitLab says about it (the token store's Entry),
// renew it before it expires (get-token: rotation, or a new one minted
// with a kept refresh token), revoke it (logout), and tell a token whose
// scopes reach beyond KAS.
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
	if created, err := time.Parse(time.RFC3339, p.CreatedAt); err == nil {
		e.CreatedAt = created.UTC()
	}
	return e, nil
}

// RenewBefore is how long before expiry get-token renews a token it can
// renew (at most; see RenewalDue).
const RenewBefore = 48 * time.Hour

// Renewable tells whether get-token can replace the token without a
// person: it may rotate itself (self_rotate scope), or login --web kept
// a refresh token with it.
func Renewable(e tokenstore.Entry) bool {
	return (e.SelfRotate || e.RefreshToken != "") && !e.ExpiresAt.IsZero()
}

// RenewalDue reports whether a stored token should be renewed now: less
// than RenewBefore, or half its life when that is shorter, is left. Half
// its life keeps a short-lived token from being renewed on every call.
func RenewalDue(e tokenstore.Entry, now time.Time) bool {
	if !Renewable(e) {
		return false
	}
	expires := e.ExpiresAt.UTCMidnight()
	before := RenewBefore
	if !e.CreatedAt.IsZero() {
		before = min(before, expires.Sub(e.CreatedAt)/2)
	}
	return expires.Sub(now) < before
}

// lifetime is how long a renewed token lives: as long as the one it
// replaces was meant to (ExpiresAt rounds the asked lifetime up to a
// day), else DefaultLifetime.
func lifetime(e tokenstore.Entry) time.Duration {
	if e.CreatedAt.IsZero() {
		return DefaultLifetime
	}
	days := int(e.ExpiresAt.UTCMidnight().Sub(e.CreatedAt).Hours() / 24)
	return time.Duration(max(days, 1)) * 24 * time.Hour
}

// Renewer renews stored tokens on get-token's path.
type Renewer struct {
	// LockDir holds the lock files that make parallel renewals one.
	LockDir string
	Now     func() time.Time
	// Client makes a GitLab client for url with auth.
	Client func(url string, auth gitlab.Auth) (*gitlab.Client, error)
	// Warnings gets a line when renewal fails or its result cannot be kept.
	Warnings io.Writer
}

// Renew replaces a token that is about to expire, under a lock per GitLab
// URL, so that kubectl commands running in parallel renew once and all get
// the new token. A token with a kept refresh token is re-minted; one with
// self_rotate is rotated. When anything fails, the current token is
// returned (it may still be valid).
func (r Renewer) Renew(store tokenstore.Store, url string, e tokenstore.Entry) tokenstore.Entry {
	lock, err := LockRenewal(r.LockDir, url)
	if err != nil {
		return e
	}
	defer lock.Release()
	if fresh, err := store.Get(url); err == nil {
		e = fresh // another kubectl may have renewed it meanwhile
	}
	if !RenewalDue(e, r.Now()) {
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var next tokenstore.Entry
	if e.RefreshToken != "" {
		next, err = r.remint(ctx, url, e)
	} else {
		next, err = r.rotate(ctx, url, e)
	}
	if err != nil {
		fmt.Fprintf(r.Warnings, "warning: could not renew the token for %s, which expires %s: %v\n", url, e.ExpiresAt, err)
		return e
	}
	if err := store.Set(url, next); err != nil {
		// GitLab has the new token (and revoked the old one, or will);
		// use it now, but say that it could not be kept.
		fmt.Fprintf(r.Warnings, "warning: renewed the token for %s but could not store the new one: %v; run kubectl gitlab login\n", url, err)
		return next
	}
	if e.RefreshToken != "" && next.Token != e.Token {
		r.retire(ctx, url, e)
	}
	return next
}

// LockRenewal takes the lock under which the token kept for url, and
// its refresh token, are replaced: get-token's renewal, and discovery's
// use of a kept refresh token, which rotates it too. Release it when done.
func LockRenewal(lockDir, url string) (*atomicfile.Lock, error) {
	sum := sha256.Sum256([]byte(url))
	return atomicfile.Acquire(filepath.Join(lockDir, "rotate-"+hex.EncodeToString(sum[:8])), 10*time.Second)
}

// rotate is POST /personal_access_tokens/self/rotate: GitLab revokes the
// old token and returns a new one with the same scopes.
func (r Renewer) rotate(ctx context.Context, url string, e tokenstore.Entry) (tokenstore.Entry, error) {
	client, err := r.Client(url, gitlab.PrivateToken(e.Token))
	if err != nil {
		return e, err
	}
	next, err := client.RotatePersonalAccessToken(ctx)
	if err != nil {
		return e, err
	}
	if next.Token == "" {
		return e, errors.New("GitLab's answer has no token")
	}
	rotated, err := Entry(next.Token, next)
	if err != nil {
		return e, err
	}
	rotated.Origin, rotated.User = e.Origin, e.User
	return rotated, nil
}

// remint trades the kept refresh token for an access token, mints a new
// k8s_proxy token with it, and keeps the new refresh token (GitLab
// revokes the old one once the new access token is used). The access
// token is never stored; it dies within two hours.
func (r Renewer) remint(ctx context.Context, url string, e tokenstore.Entry) (tokenstore.Entry, error) {
	anon, err := r.Client(url, gitlab.Auth{})
	if err != nil {
		return e, err
	}
	tok, err := anon.RefreshOAuthToken(ctx, e.ClientID, e.RefreshToken)
	if err != nil {
		if gitlab.OAuthErrorCode(err) == gitlab.OAuthInvalidGrant {
			return e, fixable.Errorf("log in again: kubectl gitlab login --web --gitlab-url "+url, "GitLab no longer accepts the kept refresh token (revoked, or the application was deleted)")
		}
		return e, err
	}
	api, err := r.Client(url, gitlab.Bearer(tok.AccessToken))
	if err != nil {
		return e, err
	}
	minted, err := Mint(ctx, api, e.TokenName, r.Now(), lifetime(e))
	if err != nil {
		return e, err
	}
	next, err := Entry(minted.Token, minted.PersonalAccessToken)
	if err != nil {
		return e, err
	}
	next.Origin, next.User, next.ClientID, next.RefreshToken = tokenstore.OriginWeb, e.User, e.ClientID, tok.RefreshToken
	return next, nil
}

// retire revokes a replaced token that still works: one token per GitLab
// URL is alive at a time.
func (r Renewer) retire(ctx context.Context, url string, old tokenstore.Entry) {
	if !r.Now().Before(old.ExpiresAt.UTCMidnight()) {
		return // already dead
	}
	client, err := r.Client(url, gitlab.PrivateToken(old.Token))
	if err == nil {
		_, err = Revoke(ctx, client)
	}
	if err != nil {
		fmt.Fprintf(r.Warnings, "warning: could not revoke the replaced token %q for %s (it expires %s): %v\n", old.TokenName, url, old.ExpiresAt, err)
	}
}
