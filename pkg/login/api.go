package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/discovery"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// API answers "which credential may call GitLab's API?" for the commands
// that read it on a workstation: discovery (agents, update-kubeconfig
// --project) and /api/v4/metadata. GraphQL and the agent lists take api
// or read_api; the token login --web keeps has only k8s_proxy (GitLab
// answers it 401 and 403), so it never counts. In order:
//
//  1. $KUBECTL_GITLAB_TOKEN, else $GITLAB_TOKEN: its scopes are unknown,
//     so it is tried, and a 401 or a 403 insufficient_scope means "may
//     not";
//  2. the token login kept, when its scopes (known from login) include
//     api or read_api; tried when they are unknown (older entries);
//  3. the refresh token login --web --keep-refresh-token kept: traded for
//     an access token (scope api) held in memory only. The rotated
//     refresh token is kept back in the keyring under the renewal lock
//     (pat.LockRenewal); Doorkeeper lets a refresh narrow only to scopes
//     the token already has, and the narrowing sticks to the new refresh
//     token (doorkeeper-gem/doorkeeper
//     lib/doorkeeper/oauth/refresh_token_request.rb), so asking for less
//     than api would cost the kept refresh token the minting it is kept
//     for. The access token dies within two hours; revoking it would
//     revoke the new refresh token with it (one row);
//  4. with Web, a one-off approval in the browser, asking for read_api
//     (api when the application has only that), whose OAuth token lives
//     in memory and is revoked when the command ends.
//
// Nothing broader than k8s_proxy is written anywhere but the refresh
// token the user asked to keep.
type API struct {
	URL    string
	Getenv func(string) string
	// Store is where login keeps tokens; nil when there is none.
	Store tokenstore.Store
	// Client makes a client for URL with auth.
	Client func(auth gitlab.Auth) (*gitlab.Client, error)
	// LockDir holds the renewal lock (pat.LockRenewal).
	LockDir string
	// Web allows a one-off device approval; ClientID finds the OAuth
	// application (login.ClientID), Now, Sleep and OpenBrowser run the
	// flow.
	Web         bool
	ClientID    func() (string, error)
	Now         func() time.Time
	Sleep       func(context.Context, time.Duration) error
	OpenBrowser func(url string) error
	// Out gets the device flow's URL and code, and a note when a
	// credential is passed over or a short-lived one is made (stderr).
	Out io.Writer
}

// Session is a credential that may call GitLab's API, for one command.
type Session struct {
	Client *gitlab.Client
	// Source says where the credential came from, for messages.
	Source string
}

// Sources of a Session, besides the environment variable's name.
const (
	SourceStored   = "the token kept by login"
	SourceRefresh  = "a short-lived OAuth token from the refresh token login --web --keep-refresh-token kept"
	SourceApproval = "a one-off approval in the browser (--web)"
)

// ReadAPIScopes are the scopes GraphQL and the REST agent lists take
// (app/controllers/graphql_controller.rb, lib/api/api.rb).
var ReadAPIScopes = []string{"api", "read_api"}

// candidate is one credential to try.
type candidate struct {
	source string
	// known: its scopes are known to allow the API; else it is tried.
	known bool
	open  func(ctx context.Context) (*gitlab.Client, func(), error)
}

// Do runs op with the first credential that may call GitLab's API. A
// candidate whose scopes are unknown, refused by GitLab (401, or 403
// insufficient_scope), gives way to the next, and Out says so. When none
// is left, the error (a *Error of ReasonNoAPICredential) names the ways
// to get one and why each candidate was passed over.
func (a API) Do(ctx context.Context, op func(context.Context, *Session) error) error {
	var passed []string
	candidates, err := a.candidates(&passed)
	if err != nil {
		return err
	}
	for i, c := range candidates {
		client, done, err := c.open(ctx)
		if err != nil {
			if i == len(candidates)-1 || ctx.Err() != nil || IsReason(err, ReasonCancelled) {
				return err
			}
			passed = append(passed, fmt.Sprintf("%s did not work: %v", c.source, err))
			fmt.Fprintf(a.Out, "note: %s did not work (%v); trying %s\n", c.source, err, candidates[i+1].source)
			continue
		}
		err = op(ctx, &Session{Client: client, Source: c.source})
		done()
		if err == nil || c.known || !refused(err) || i == len(candidates)-1 {
			return err
		}
		passed = append(passed, fmt.Sprintf("GitLab refused %s (%s)", c.source, refusal(err)))
		fmt.Fprintf(a.Out, "note: GitLab did not let %s read its API (%s); trying %s\n", c.source, refusal(err), candidates[i+1].source)
	}
	return a.none(passed)
}

// candidates lists the credentials in order; passed collects why others
// do not count. A token that cannot go into a header is refused by name.
func (a API) candidates(passed *[]string) ([]candidate, error) {
	var list []candidate
	if token, variable := pat.FromEnv(a.Getenv); token != "" {
		if err := credential.CheckSecret(variable, token); err != nil {
			return nil, err
		}
		list = append(list, candidate{source: "$" + variable, open: a.withToken(gitlab.PrivateToken(token))})
	}
	var e tokenstore.Entry
	kept := false
	if a.Store != nil {
		var err error
		e, err = a.Store.Get(a.URL)
		kept = err == nil
	}
	if kept {
		if err := credential.CheckSecret("the token stored for "+a.URL, e.Token); err != nil {
			return nil, err
		}
	}
	switch {
	case !kept:
	case len(e.Scopes) == 0:
		list = append(list, candidate{source: SourceStored, open: a.withToken(gitlab.PrivateToken(e.Token))})
	case slices.ContainsFunc(e.Scopes, func(s string) bool { return slices.Contains(ReadAPIScopes, s) }):
		list = append(list, candidate{source: SourceStored, known: true, open: a.withToken(gitlab.PrivateToken(e.Token))})
	default:
		*passed = append(*passed, fmt.Sprintf("the token kept for %s has the scopes %s, not api or read_api", a.URL, strings.Join(e.Scopes, ", ")))
	}
	if kept && e.RefreshToken != "" {
		list = append(list, candidate{source: SourceRefresh, known: true, open: a.refresh})
	}
	if a.Web {
		list = append(list, candidate{source: SourceApproval, known: true, open: a.approve})
	}
	return list, nil
}

func (a API) withToken(auth gitlab.Auth) func(context.Context) (*gitlab.Client, func(), error) {
	return func(context.Context) (*gitlab.Client, func(), error) {
		c, err := a.Client(auth)
		return c, func() {}, err
	}
}

// refresh trades the kept refresh token for an access token, under the
// renewal lock, and keeps the rotated refresh token. If it cannot be
// kept, the access token is not used: GitLab then keeps the old refresh
// token alive (it revokes it only when the new access token is first
// used: OauthAccessToken#revoke_previous_refresh_token!).
func (a API) refresh(ctx context.Context) (*gitlab.Client, func(), error) {
	lock, err := pat.LockRenewal(a.LockDir, a.URL)
	if err != nil {
		return nil, nil, err
	}
	defer lock.Release()
	e, err := a.Store.Get(a.URL) // get-token may have renewed it meanwhile
	if err != nil || e.RefreshToken == "" {
		return nil, nil, fmt.Errorf("the refresh token is no longer kept")
	}
	anon, err := a.Client(gitlab.Auth{})
	if err != nil {
		return nil, nil, err
	}
	tok, err := anon.RefreshOAuthToken(ctx, e.ClientID, e.RefreshToken)
	if gitlab.OAuthErrorCode(err) == gitlab.OAuthInvalidGrant {
		return nil, nil, fmt.Errorf("GitLab no longer accepts the kept refresh token (revoked, or the application was deleted); log in again: kubectl gitlab login --web --keep-refresh-token")
	} else if err != nil {
		return nil, nil, err
	}
	e.RefreshToken = tok.RefreshToken
	e.StoredAt = time.Time{}
	if err := a.Store.Set(a.URL, e); err != nil {
		return nil, nil, fmt.Errorf("cannot keep the rotated refresh token, so it was not used: %w", err)
	}
	c, err := a.Client(gitlab.Bearer(tok.AccessToken))
	return c, func() {}, err
}

// approve is a one-off device approval: read_api when the application
// may grant it, else api; its OAuth token is revoked when done.
func (a API) approve(ctx context.Context) (*gitlab.Client, func(), error) {
	clientID, err := a.ClientID()
	if err != nil {
		return nil, nil, err
	}
	anon, err := a.Client(gitlab.Auth{})
	if err != nil {
		return nil, nil, err
	}
	flow := DeviceFlow{Client: anon, ClientID: clientID, Scopes: []string{"read_api"}, Now: a.Now, Sleep: a.Sleep, Out: a.Out, OpenBrowser: a.OpenBrowser,
		Again: "the command with --web"}
	tok, err := flow.Run(ctx)
	if gitlab.OAuthErrorCode(err) == gitlab.OAuthInvalidScope {
		flow.Scopes = Scopes
		tok, err = flow.Run(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	revoke := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := anon.RevokeOAuthToken(ctx, clientID, tok.AccessToken); err != nil {
			fmt.Fprintf(a.Out, "warning: could not revoke the OAuth token of this approval (scope %s; it expires within 2 hours, or revoke it in GitLab, User settings → Applications): %v\n", tok.Scope, err)
		}
	}
	c, err := a.Client(gitlab.Bearer(tok.AccessToken))
	if err != nil {
		revoke()
		return nil, nil, err
	}
	return c, revoke, nil
}

// refused tells GitLab's refusals of a token for the API: 401 (GraphQL's
// Invalid token; REST's unknown, expired or revoked token) and 403
// insufficient_scope.
func refused(err error) bool {
	var apiErr *gitlab.APIError
	return errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized ||
		apiErr.Status == http.StatusForbidden && apiErr.Code == gitlab.OAuthInsufficientScope)
}

func refusal(err error) string {
	var apiErr *gitlab.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%d %s", apiErr.Status, http.StatusText(apiErr.Status))
	}
	return err.Error()
}

// ReasonNoAPICredential: nothing at hand may call GitLab's API.
const ReasonNoAPICredential Reason = "no-api-credential"

// none is the error when no credential may call the API. Its exit code
// is 1, as when GitLab refuses a token: the command line is right, and
// what is missing is an authorization only GitLab grants (the token
// login --web keeps has only k8s_proxy, by design). Whether the plugin
// knew it beforehand or GitLab said so must not change the exit code.
func (a API) none(passed []string) error {
	msg := "finding agents needs a credential that may read GitLab's API (scope read_api or api), and none is at hand for " + a.URL
	if len(passed) > 0 {
		msg += ": " + strings.Join(passed, "; ")
	}
	return &Error{Reason: ReasonNoAPICredential, msg: msg, fix: discovery.APICredentialFix}
}
