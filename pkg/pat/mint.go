package pat

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// DefaultLifetime is how long a token that login --web mints lives: short
// enough that a token that leaks dies soon, long enough that a working
// week needs one browser login.
const DefaultLifetime = 7 * 24 * time.Hour

// Description is what GitLab shows next to a minted token.
const Description = "Minted by kubectl gitlab login --web for the GitLab agent's k8s-proxy (KAS); kubectl gitlab logout revokes it."

// ExpiresAt is the expires_at day for a token that must live at least
// lifetime from now: GitLab keeps only the day, and the token dies at
// 00:00 UTC of it, so the day after now+lifetime (at least tomorrow).
func ExpiresAt(now time.Time, lifetime time.Duration) tokenstore.Date {
	end := now.UTC().Add(max(lifetime, 24*time.Hour))
	day := tokenstore.DateOf(end)
	if day.UTCMidnight().Before(end) {
		day = tokenstore.DateOf(day.UTCMidnight().AddDate(0, 0, 1))
	}
	return day
}

// Minted is a token Mint made.
type Minted struct {
	*gitlab.PersonalAccessToken
	// ClampedTo is GitLab's latest allowed expiry when the one asked for
	// was later (the instance's maximum lifetime); zero otherwise.
	ClampedTo tokenstore.Date
}

// latestAllowed reads the day out of
// PersonalAccessToken#expires_at_before_instance_max_expiry_date's
// message, "Expires at must be before YYYY-MM-DD" (gitlabhq/gitlabhq
// app/models/personal_access_token.rb). No regexp: this package is on
// get-token's path, where package init costs every kubectl command.
func latestAllowed(message string) (tokenstore.Date, bool) {
	day, ok := strings.CutPrefix(message, "Expires at must be before ")
	if !ok || len(day) != len(time.DateOnly) {
		return tokenstore.Date{}, false
	}
	d, err := tokenstore.ParseDate(day)
	return d, err == nil
}

// Mint makes a personal access token with only the k8s_proxy scope for
// the user of client (whose token must have the api scope), living
// lifetime from now. When GitLab refuses that expiry as beyond the
// instance's maximum, Mint takes the latest day GitLab allows: GitLab
// created nothing, so a second try is safe.
func Mint(ctx context.Context, client *gitlab.Client, name string, now time.Time, lifetime time.Duration) (*Minted, error) {
	req := gitlab.NewPersonalAccessToken{Name: name, Description: Description, Scopes: []string{Scope}, ExpiresAt: ExpiresAt(now, lifetime).String()}
	p, err := client.CreatePersonalAccessToken(ctx, req)
	var apiErr *gitlab.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity {
		if latest, ok := latestAllowed(apiErr.Message); ok && latest.String() < req.ExpiresAt {
			req.ExpiresAt = latest.String()
			if p, err = client.CreatePersonalAccessToken(ctx, req); err == nil {
				return &Minted{PersonalAccessToken: p, ClampedTo: latest}, nil
			}
		}
	}
	if err != nil {
		return nil, mintError(client.BaseURL().String(), err)
	}
	return &Minted{PersonalAccessToken: p}, nil
}

// mintError says why GitLab would not mint, and what to do.
func mintError(url string, err error) error {
	var apiErr *gitlab.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch {
	case apiErr.Code == gitlab.OAuthInsufficientScope:
		return fixable.Errorf("give the OAuth application the api scope (GitLab: Edit application), then log in again",
			"GitLab did not let the login mint a token: the OAuth token lacks the api scope (%w)", err)
	case apiErr.Status == http.StatusNotFound:
		return fixable.Errorf("create a token with the "+Scope+" scope at "+CreateURL(url)+" and log in with it: kubectl gitlab login --token-stdin",
			"this GitLab cannot mint a token for you (POST /user/personal_access_tokens needs GitLab 16.5 or later): %w", err)
	case apiErr.Status == http.StatusUnprocessableEntity && strings.Contains(apiErr.Message, "Not permitted"):
		return fixable.Errorf("ask an administrator, or use a token you may create elsewhere: kubectl gitlab login --token-stdin",
			"GitLab does not let you create personal access tokens (%w)", err)
	}
	return err
}

// Revoke revokes the token client authenticates with (DELETE
// /personal_access_tokens/self). A token GitLab already refuses as
// revoked or expired counts as revoked: gone is what was wanted.
func Revoke(ctx context.Context, client *gitlab.Client) (alreadyGone bool, err error) {
	err = client.RevokePersonalAccessTokenSelf(ctx)
	var apiErr *gitlab.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized && apiErr.Code == "invalid_token" {
		return true, nil
	}
	return false, err
}

// narrowScopes are the scopes a token that goes to KAS needs, or that
// reach nothing but the token itself.
var narrowScopes = []string{Scope, "self_rotate"}

// BroadScopes are a token's scopes beyond what KAS needs (api,
// read_api, write_repository, sudo, …): KAS's side sees the token, so
// they are reach a leak would give.
func BroadScopes(scopes []string) []string {
	var broad []string
	for _, s := range scopes {
		if !slices.Contains(narrowScopes, s) {
			broad = append(broad, s)
		}
	}
	return broad
}

// Environment variables that hold a token, strongest first.
const (
	EnvToken       = "KUBECTL_GITLAB_TOKEN"
	EnvGitLabToken = "GITLAB_TOKEN"
)

// FromEnv is the token from the environment: $KUBECTL_GITLAB_TOKEN, so
// that a narrow token for KAS can sit beside a broad $GITLAB_TOKEN that
// other tools use, else $GITLAB_TOKEN; variable names which one.
func FromEnv(getenv func(string) string) (token, variable string) {
	for _, v := range []string{EnvToken, EnvGitLabToken} {
		if t := getenv(v); t != "" {
			return t, v
		}
	}
	return "", ""
}

// BroadScopesProblem says that the token named by whose reaches beyond
// KAS (broad = BroadScopes of its scopes).
func BroadScopesProblem(whose string, broad []string) string {
	return whose + " has scopes beyond " + Scope + " (" + strings.Join(broad, ", ") + "), yet kubectl sends it to KAS on every call"
}

// NarrowTokenFix says how to use a token with only k8s_proxy for the
// GitLab at url instead; variable names the environment variable the
// broad token came from ("" for a kept one), which would still win.
func NarrowTokenFix(url, variable string) string {
	fix := "a token with only " + Scope + " is safer: kubectl gitlab login --web --gitlab-url " + url
	if variable != "" {
		fix += "\nthen unset " + variable
		if variable != EnvToken {
			fix += " (or set " + EnvToken + " to the narrow token: it takes precedence)"
		}
	}
	return fix
}

// BroadScopesWarning is BroadScopesProblem and NarrowTokenFix as one
// warning.
func BroadScopesWarning(whose string, broad []string, url, variable string) string {
	return BroadScopesProblem(whose, broad) + ";\n  " + strings.ReplaceAll(NarrowTokenFix(url, variable), "\n", "\n  ")
}
