package cmd

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// statusView is one token as login --status shows it; never the token.
type statusView struct {
	URL string `json:"url" yaml:"url"`
	// Store is keyring or file, or env for a token in the environment.
	Store string `json:"store" yaml:"store"`
	// Where is the keyring or file, or the variable ($KUBECTL_GITLAB_TOKEN).
	Where     string   `json:"where" yaml:"where"`
	TokenName string   `json:"tokenName,omitempty" yaml:"tokenName,omitempty"`
	Scopes    []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	ExpiresAt string   `json:"expiresAt,omitempty" yaml:"expiresAt,omitempty"`
	Expired   bool     `json:"expired" yaml:"expired"`
	// Origin is web (login --web minted it), pasted, or env.
	Origin string `json:"origin" yaml:"origin"`
	User   string `json:"user,omitempty" yaml:"user,omitempty"`
	// RefreshTokenKept: an OAuth refresh token is kept with it (keyring).
	RefreshTokenKept bool `json:"refreshTokenKept" yaml:"refreshTokenKept"`
	// BroadScopes are its scopes beyond k8s_proxy.
	BroadScopes []string `json:"broadScopes,omitempty" yaml:"broadScopes,omitempty"`
	// InUse: get-token uses this token (for its GitLab URL).
	InUse bool `json:"inUse" yaml:"inUse"`
	// Problem says why the scopes of a token in the environment are not known.
	Problem string `json:"problem,omitempty" yaml:"problem,omitempty"`
	// KASURL is KAS's k8s-proxy URL as login --web recorded it from
	// GitLab's /api/v4/metadata.
	KASURL string `json:"kasURL,omitempty" yaml:"kasURL,omitempty"`
}

// RunStatus lists stored tokens and the one in the environment.
func (o *LoginOptions) RunStatus() error {
	store, err := o.deps.tokenStore(o.TokenStore, nil)
	if err != nil {
		return err
	}
	infos, err := store.List()
	if err != nil {
		return failed("", "cannot list stored tokens: %w", err)
	}
	now := o.deps.Now()
	envToken, envVar := pat.FromEnv(o.deps.Getenv)
	kasURLs := tokenstore.NewKASURLs(o.deps.configDir())
	views := []statusView{}
	for _, i := range infos {
		recorded, _ := kasURLs.Get(i.URL)
		views = append(views, statusView{URL: i.URL, Store: i.Kind, Where: i.Where, TokenName: i.TokenName, Scopes: i.Scopes,
			ExpiresAt: i.ExpiresAt.String(), Expired: expired(i.ExpiresAt, now), Origin: i.Origin, User: i.User,
			RefreshTokenKept: i.RefreshTokenKept, BroadScopes: pat.BroadScopes(i.Scopes), InUse: envToken == "", KASURL: recorded.URL})
	}
	if envToken != "" {
		views = append(views, o.envView(envToken, envVar, infos))
	}
	if o.Output != "" {
		return printStructured(o.deps.IO.Out, o.Output, views)
	}
	errOut := o.deps.IO.ErrOut
	if len(views) == 0 {
		fmt.Fprintln(errOut, "No tokens kept, and none in $KUBECTL_GITLAB_TOKEN or $GITLAB_TOKEN; run kubectl gitlab login --web --gitlab-url URL.")
		return nil
	}
	tw := tabwriter.NewWriter(o.deps.IO.Out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "GITLAB\tTOKEN\tFROM\tUSER\tSCOPES\tEXPIRES\tREFRESH TOKEN\tSTORE\tWHERE")
	for _, v := range views {
		expires := v.ExpiresAt
		switch {
		case v.Problem != "":
			expires = "?"
		case expires == "":
			expires = "never"
		case v.Expired:
			expires += " (expired)"
		}
		from := map[string]string{tokenstore.OriginWeb: "login --web", tokenstore.OriginPasted: "pasted", "env": "environment"}[v.Origin]
		refresh := "-"
		if v.RefreshTokenKept {
			refresh = "kept"
		}
		scopes := strings.Join(v.Scopes, ",")
		if scopes == "" {
			scopes = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.URL, orDash(v.TokenName), from, orDash(v.User), scopes, expires, refresh, v.Store, v.Where)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, v := range views {
		if v.KASURL != "" {
			fmt.Fprintf(o.deps.IO.Out, "KAS of %s: %s (recorded by login --web from GitLab's /api/v4/metadata)\n", v.URL, redact.URL(v.KASURL))
		}
	}
	if envToken != "" {
		fmt.Fprintf(errOut, "$%s is set: get-token and update-kubeconfig use it, not a kept token.\n", envVar)
		if envVar == pat.EnvToken && o.deps.Getenv(pat.EnvGitLabToken) != "" {
			fmt.Fprintf(errOut, "($%s is set too; %s takes precedence.)\n", pat.EnvGitLabToken, pat.EnvToken)
		}
	}
	for _, v := range views {
		switch {
		case len(v.BroadScopes) > 0:
			variable := ""
			if v.Store == "env" {
				variable = strings.TrimPrefix(v.Where, "$")
			}
			fmt.Fprintf(errOut, "warning: %s\n", pat.BroadScopesWarning(tokenLabel(v), v.BroadScopes, v.URL, variable))
		case v.Problem != "":
			fmt.Fprintf(errOut, "note: the scopes of %s are not known: %s\n", tokenLabel(v), v.Problem)
		}
	}
	return nil
}

// envView describes the token in the environment, asking GitLab for its
// scopes: get-token never does (it would cost a call on every kubectl
// command), so this, and doctor, are where a broad one shows.
func (o *LoginOptions) envView(token, variable string, infos []tokenstore.Info) statusView {
	v := statusView{Store: "env", Where: "$" + variable, Origin: "env", InUse: true}
	url := o.GitLabURL
	if url == "" {
		url = o.deps.Getenv("GITLAB_URL")
	}
	if url == "" && len(infos) == 1 {
		url = infos[0].URL
	}
	if url == "" {
		v.Problem = "pass --gitlab-url (or set GITLAB_URL) to ask GitLab"
		return v
	}
	normal, err := gitlab.NormalizeURL(url)
	if err != nil {
		v.Problem = err.Error()
		return v
	}
	v.URL = normal
	client, err := o.deps.gitlabClient(normal, gitlab.PrivateToken(token), nil)
	if err != nil {
		v.Problem = err.Error()
		return v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	described, err := client.PersonalAccessTokenSelf(ctx)
	if err != nil {
		v.Problem = err.Error()
		return v
	}
	v.TokenName, v.Scopes = described.Name, described.Scopes
	if described.ExpiresAt != nil {
		d, _ := tokenstore.ParseDate(*described.ExpiresAt)
		v.ExpiresAt, v.Expired = d.String(), expired(d, o.deps.Now())
	}
	v.BroadScopes = pat.BroadScopes(described.Scopes)
	return v
}

func tokenLabel(v statusView) string {
	if v.Store == "env" {
		return "the token in " + v.Where
	}
	return "the token kept for " + v.URL
}

func expired(d tokenstore.Date, now time.Time) bool {
	return !d.IsZero() && !now.Before(d.UTCMidnight())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
