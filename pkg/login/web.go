package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// Scopes login --web asks the OAuth application for: api, which GitLab's
// mint endpoint requires (lib/api/users.rb); nothing with api is kept
// unless the user asks for the refresh token.
var Scopes = []string{"api"}

// Web is login --web: a browser approves, a token with only the
// k8s_proxy scope is minted and kept, and the OAuth token is revoked
// (unless its refresh token is to be kept, in the keyring only).
type Web struct {
	URL      string
	ClientID string
	// Lifetime of the minted token; GitLab keeps whole days and may
	// allow less (pat.Mint takes the most it allows).
	Lifetime time.Duration
	// KeepRefreshToken keeps the OAuth refresh token, so that get-token
	// replaces an expiring token without a browser.
	KeepRefreshToken bool
	// TokenName is the minted token's name in GitLab.
	TokenName string
	Store     tokenstore.Store
	// Client makes a client for URL with auth.
	Client      func(auth gitlab.Auth) (*gitlab.Client, error)
	Now         func() time.Time
	Sleep       func(context.Context, time.Duration) error
	Out         io.Writer
	OpenBrowser func(url string) error
	// KASURLs, when set, records KAS's k8s-proxy URL from GitLab's
	// /api/v4/metadata, asked with the OAuth token while it lives: the
	// minted token may not ask.
	KASURLs *tokenstore.KASURLs
}

// WebResult is what login --web did.
type WebResult struct {
	Entry tokenstore.Entry
	// ClampedTo is set when GitLab allowed a shorter life than asked.
	ClampedTo tokenstore.Date
	// Previous is the minted token this login replaced, revoked.
	Previous *tokenstore.Entry
	// KASURL is the k8s-proxy URL recorded from /api/v4/metadata ("" when
	// none was).
	KASURL string
	// Warnings are things that did not work but did not stop the login.
	Warnings []string
}

// Run logs in. Ctrl-C (ctx ending) before the token is kept keeps
// nothing, and revokes on GitLab whatever was made by then.
func (w Web) Run(ctx context.Context) (*WebResult, error) {
	if w.KeepRefreshToken && w.Store.Kind() != tokenstore.KindKeyring && w.Store.Kind() != tokenstore.KindAuto {
		return nil, &Error{Reason: ReasonBadClient, msg: "--keep-refresh-token keeps the OAuth refresh token in the OS keyring only, not with --token-store " + w.Store.Kind(),
			fix: "use --token-store keyring (or auto), or leave out --keep-refresh-token"}
	}
	anon, err := w.Client(gitlab.Auth{})
	if err != nil {
		return nil, err
	}
	flow := DeviceFlow{Client: anon, ClientID: w.ClientID, Scopes: Scopes, Now: w.Now, Sleep: w.Sleep, Out: w.Out, OpenBrowser: w.OpenBrowser}
	tok, err := flow.Run(ctx)
	if err != nil {
		return nil, err
	}
	res := &WebResult{}
	entry, clamped, err := w.mint(ctx, tok)
	if err != nil {
		w.revokeOAuth(tok, res)
		if ctx.Err() != nil {
			return nil, cancelled(ctx.Err())
		}
		return nil, err
	}
	res.ClampedTo = clamped
	if ctx.Err() != nil { // Ctrl-C while minting: undo
		w.undo(entry, tok, res)
		return nil, cancelled(ctx.Err())
	}
	previous, prevErr := w.Store.Get(w.URL)
	if err := w.Store.Set(w.URL, entry); err != nil {
		w.undo(entry, tok, res)
		return nil, fmt.Errorf("cannot keep the token (it was revoked on GitLab again): %w", err)
	}
	res.Entry = entry
	if w.KASURLs != nil {
		w.recordKASURL(ctx, tok, res)
	}
	if !w.KeepRefreshToken {
		w.revokeOAuth(tok, res)
	}
	if prevErr == nil && previous.Token != entry.Token && previous.Minted() {
		res.Previous = &previous
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := RevokeKept(ctx, w.URL, previous, func(_ string, auth gitlab.Auth) (*gitlab.Client, error) { return w.Client(auth) }); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("could not revoke the token %q this login replaced (it expires %s): %v", previous.TokenName, previous.ExpiresAt, err))
		}
	}
	return res, nil
}

// mint makes the k8s_proxy token with the OAuth token.
func (w Web) mint(ctx context.Context, tok *gitlab.OAuthToken) (tokenstore.Entry, tokenstore.Date, error) {
	api, err := w.Client(gitlab.Bearer(tok.AccessToken))
	if err != nil {
		return tokenstore.Entry{}, tokenstore.Date{}, err
	}
	user := ""
	if u, err := api.CurrentUser(ctx); err == nil {
		user = u.Username
	}
	minted, err := pat.Mint(ctx, api, w.TokenName, w.Now(), w.Lifetime)
	if err != nil {
		return tokenstore.Entry{}, tokenstore.Date{}, err
	}
	entry, err := pat.Entry(minted.Token, minted.PersonalAccessToken)
	if err != nil {
		return entry, tokenstore.Date{}, err
	}
	entry.Origin, entry.User, entry.ClientID = tokenstore.OriginWeb, user, w.ClientID
	if w.KeepRefreshToken {
		entry.RefreshToken = tok.RefreshToken
	}
	return entry, minted.ClampedTo, nil
}

// recordKASURL asks /api/v4/metadata where KAS's k8s-proxy is, with the
// OAuth token (scope api may read it), checks the URL as any URL from
// metadata is checked (kas.ProxyURLFromMetadata: GitLab's derivation,
// then https, a host, no credential, query or fragment), and records it.
// A failure does not stop the login: update-kubeconfig then derives the
// URL and says so.
func (w Web) recordKASURL(ctx context.Context, tok *gitlab.OAuthToken, res *WebResult) {
	api, err := w.Client(gitlab.Bearer(tok.AccessToken))
	if err != nil {
		return
	}
	u := ""
	md, err := api.Metadata(ctx)
	if err == nil {
		u, err = kas.ProxyURLFromMetadata(md)
	}
	if err == nil {
		err = w.KASURLs.Record(w.URL, u, w.Now())
	}
	if err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not record where KAS is from GitLab's /api/v4/metadata (update-kubeconfig will guess it, or take --kas-url): %v", err))
		return
	}
	res.KASURL = u
}

// revokeOAuth revokes the OAuth token, its refresh token with it.
func (w Web) revokeOAuth(tok *gitlab.OAuthToken, res *WebResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	anon, err := w.Client(gitlab.Auth{})
	if err == nil {
		err = anon.RevokeOAuthToken(ctx, w.ClientID, tok.AccessToken)
	}
	if err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not revoke the OAuth token of this login (it expires in 2 hours; its refresh token lives on until revoked in GitLab, User settings → Applications): %v", err))
	}
}

// undo revokes what a login that will not finish made.
func (w Web) undo(entry tokenstore.Entry, tok *gitlab.OAuthToken, res *WebResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c, err := w.Client(gitlab.PrivateToken(entry.Token)); err == nil {
		pat.Revoke(ctx, c)
	}
	w.revokeOAuth(tok, res)
}

// RevokeKept revokes on GitLab the token kept for url, and the refresh
// token when one was kept: logout, and a login that replaces what
// login --web minted (so that one minted token per GitLab URL is alive).
func RevokeKept(ctx context.Context, url string, e tokenstore.Entry, client func(url string, auth gitlab.Auth) (*gitlab.Client, error)) error {
	c, err := client(url, gitlab.PrivateToken(e.Token))
	if err != nil {
		return err
	}
	if _, err := pat.Revoke(ctx, c); err != nil {
		return err
	}
	if e.RefreshToken == "" {
		return nil
	}
	anon, err := client(url, gitlab.Auth{})
	if err != nil {
		return err
	}
	if err := anon.RevokeOAuthToken(ctx, e.ClientID, e.RefreshToken); err != nil {
		return fmt.Errorf("revoked the token, but not the kept refresh token: %w", err)
	}
	return nil
}

// errNoClientID is login --web without an application to use.
func errNoClientID(url string) error {
	return &Error{Reason: ReasonBadClient, msg: "login --web needs the ID of an OAuth application on " + url, fix: createApp(url) +
		"\n(or set KUBECTL_GITLAB_CLIENT_ID; it is remembered for " + url + ")"}
}

// ClientID is the OAuth application to use for url: flag, else
// $KUBECTL_GITLAB_CLIENT_ID, else the one remembered from the last login.
func ClientID(url, flag, env string, apps tokenstore.OAuthApps) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case env != "":
		return env, nil
	}
	id, err := apps.ClientID(url)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errNoClientID(url)
	}
	return id, nil
}

// IsReason reports whether err is a login Error of reason r.
func IsReason(err error, r Reason) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == r
}
