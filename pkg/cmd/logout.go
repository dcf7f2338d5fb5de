package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/login"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// LogoutOptions revokes what login --web minted and forgets kept tokens.
type LogoutOptions struct {
	deps         *Deps
	GitLabURL    string
	TokenStore   string
	All          bool
	RevokePasted bool
	ForgetOnly   bool
}

func newLogoutCommand(d *Deps) *cobra.Command {
	o := &LogoutOptions{deps: d}
	c := &cobra.Command{
		Use:   "logout",
		Short: "Revoke on GitLab the token login --web minted, and forget it",
		Long: `Revoke on GitLab what kubectl gitlab login --web minted for an instance (the
k8s_proxy token, with DELETE /api/v4/personal_access_tokens/self, and a kept
refresh token), then remove it from the token store. A token you pasted is only
forgotten: it keeps working until it expires, unless --revoke revokes it too.
When a revocation fails, nothing is removed; --forget-only removes without
revoking.`,
		Example: `  kubectl gitlab logout --gitlab-url https://gitlab.example.com
  kubectl gitlab logout --all
  # a pasted token: revoke it as well
  kubectl gitlab logout --revoke`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if o.RevokePasted && o.ForgetOnly {
				return badInput("choose one", "--revoke and --forget-only do not go together")
			}
			return o.Run()
		}),
	}
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance (default: $GITLAB_URL, else the only one with a kept token)")
	addTokenStoreFlag(c, &o.TokenStore)
	c.Flags().BoolVar(&o.All, "all", false, "log out of every GitLab instance")
	c.Flags().BoolVar(&o.RevokePasted, "revoke", false, "revoke a token you pasted too (a minted one is always revoked)")
	c.Flags().BoolVar(&o.ForgetOnly, "forget-only", false, "remove the token without revoking it (it works until it expires)")
	return c
}

// Run logs out of the instance(s).
func (o *LogoutOptions) Run() error {
	store, err := o.deps.tokenStore(o.TokenStore, o.deps.IO.ErrOut)
	if err != nil {
		return err
	}
	var urls []string
	switch {
	case o.All:
		infos, err := store.List()
		if err != nil {
			return failed("", "cannot list stored tokens: %w", err)
		}
		for _, i := range infos {
			urls = append(urls, i.URL)
		}
	case o.GitLabURL != "" || o.deps.Getenv("GITLAB_URL") != "":
		url, err := gitlabURLFor(o.deps, o.GitLabURL)
		if err != nil {
			return err
		}
		urls = []string{url}
	default:
		url, err := tokenstore.SoleURL(store)
		if err != nil {
			return err
		}
		if url == "" {
			fmt.Fprintln(o.deps.IO.ErrOut, "No tokens stored.")
			return nil
		}
		urls = []string{url}
	}
	ctx, stop := o.deps.context()
	defer stop()
	out := o.deps.IO.Out
	l := login.Logout{Store: store, Client: o.deps.gitlabClientFor, RevokePasted: o.RevokePasted, ForgetOnly: o.ForgetOnly}
	for _, url := range urls {
		done, err := l.Run(ctx, url)
		switch {
		case errors.Is(err, tokenstore.ErrNotFound):
			return failed("kubectl gitlab login --status lists the stored tokens", "no token is stored for %s", url)
		case err != nil && done == nil:
			return err
		case err != nil:
			return failed("", "%w", err)
		}
		name := ""
		if done.TokenName != "" {
			name = fmt.Sprintf(" %q", done.TokenName)
		}
		switch {
		case done.Revoked:
			fmt.Fprintf(out, "Revoked the token%s on %s and removed it from %s.\n", name, url, done.Where)
			if done.RefreshTokenRevoked {
				fmt.Fprintln(out, "The kept OAuth refresh token was revoked too.")
			}
		case done.Minted:
			fmt.Fprintf(out, "Removed the token%s for %s from %s without revoking it: it works until it expires (%s).\n", name, url, done.Where, orDash(done.ExpiresAt.String()))
		default:
			fmt.Fprintf(out, "Removed the token%s for %s from %s. You pasted it (login --web did not mint it), so it was not revoked:\n"+
				"it works until it expires (%s) or you revoke it in GitLab; logout --revoke revokes a pasted token.\n", name, url, done.Where, orDash(done.ExpiresAt.String()))
		}
	}
	if _, variable := pat.FromEnv(o.deps.Getenv); variable != "" {
		fmt.Fprintf(o.deps.IO.ErrOut, "note: $%s is still set, and get-token uses it.\n", variable)
	}
	return nil
}
