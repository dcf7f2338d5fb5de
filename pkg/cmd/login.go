package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// defaultGitLabURL is where login goes without --gitlab-url or $GITLAB_URL.
const defaultGitLabURL = "https://gitlab.com"

// LoginOptions checks a personal access token and keeps it.
type LoginOptions struct {
	deps       *Deps
	GitLabURL  string
	TokenStdin bool
	TokenStore string
	Status     bool
	Output     string
}

func newLoginCommand(d *Deps) *cobra.Command {
	o := &LoginOptions{deps: d}
	c := &cobra.Command{
		Use:   "login",
		Short: "Keep a personal access token for a GitLab instance in the OS keyring",
		Long: `Check a personal access token with GitLab (it must be active and have the
k8s_proxy scope) and keep it in the OS keyring, so that agent contexts written by
"kubectl gitlab update-kubeconfig" get credentials without a secret in the
kubeconfig. Where no keyring works (a headless Linux), the token goes to a 0600
file in the user's config directory, and login says so.

The token is read from stdin (--token-stdin) or asked for without echo; never
from a flag, which would leave it in the shell history.`,
		Example: `  kubectl gitlab login --gitlab-url https://gitlab.example.com
  # from a password manager
  pass show gitlab/k8s | kubectl gitlab login --gitlab-url https://gitlab.example.com --token-stdin
  # which instances have a token, where it is kept, when it expires
  kubectl gitlab login --status`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if o.Status {
				return o.RunStatus()
			}
			return o.Run(context.Background())
		}),
	}
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance (default: $GITLAB_URL, else "+defaultGitLabURL+")")
	c.Flags().BoolVar(&o.TokenStdin, "token-stdin", false, "read the token from stdin")
	addTokenStoreFlag(c, &o.TokenStore)
	c.Flags().BoolVar(&o.Status, "status", false, "show which GitLab instances have a token, where it is kept and when it expires")
	addOutputFlagWithHelp(c, &o.Output, "with --status: json or yaml", "json", "yaml")
	return c
}

// gitlabURL is --gitlab-url, else $GITLAB_URL, else GitLab.com.
func gitlabURLFor(d *Deps, flag string) (string, error) {
	raw := flag
	if raw == "" {
		raw = d.Getenv("GITLAB_URL")
	}
	if raw == "" {
		raw = defaultGitLabURL
	}
	return gitlab.NormalizeURL(raw)
}

// Run reads, checks and stores the token.
func (o *LoginOptions) Run(ctx context.Context) error {
	url, err := gitlabURLFor(o.deps, o.GitLabURL)
	if err != nil {
		return err
	}
	store, err := o.deps.tokenStore(o.TokenStore, o.deps.IO.ErrOut)
	if err != nil {
		return err
	}
	if store.Kind() == tokenstore.KindNone {
		return badInput("set GITLAB_TOKEN instead, or choose --token-store auto, keyring or file", "--token-store none keeps no token, so there is nothing to log in to")
	}
	token, err := o.readToken(url)
	if err != nil {
		return err
	}
	client, err := o.deps.gitlabClient(url, gitlab.PrivateToken(token), nil)
	if err != nil {
		return err
	}
	described, err := pat.Check(ctx, client, o.deps.Now())
	if err != nil {
		return err
	}
	entry, err := pat.Entry(token, described)
	if err != nil {
		return err
	}
	if err := store.Set(url, entry); err != nil {
		return failed(fixable.FixOr(err, "choose another place: --token-store file (a 0600 file) or none (use $GITLAB_TOKEN)"), "cannot keep the token: %w", err)
	}
	out := o.deps.IO.Out
	fmt.Fprintf(out, "Logged in to %s with token %q (scopes: %s), %s.\n", url, described.Name, strings.Join(described.Scopes, ", "), expiryText(entry.ExpiresAt, o.deps.Now()))
	fmt.Fprintf(out, "The token is kept in %s.\n", tokenstore.WhereIs(store, url))
	return nil
}

func (o *LoginOptions) readToken(url string) (string, error) {
	var token string
	switch {
	case o.TokenStdin:
		line, err := bufio.NewReader(o.deps.IO.In).ReadString('\n')
		if err != nil && line == "" {
			return "", badInput("pipe the token in: … | kubectl gitlab login --token-stdin", "no token on stdin")
		}
		token = strings.TrimSpace(line)
	case o.deps.Terminal != nil && o.deps.Terminal.Interactive():
		fmt.Fprintf(o.deps.IO.ErrOut, "Create a token with the k8s_proxy scope at %s\n", pat.CreateURL(url))
		var err error
		if token, err = o.deps.Terminal.ReadSecret("Personal access token for " + url + ": "); err != nil {
			return "", badInput("", "cannot read the token: %w", err)
		}
	default:
		return "", badInput("pipe the token in with --token-stdin, or run login on a terminal", "no terminal to ask for the token")
	}
	if token == "" {
		return "", badInput("paste a personal access token with the k8s_proxy scope", "the token is empty")
	}
	return token, nil
}

func expiryText(d tokenstore.Date, now time.Time) string {
	if d.IsZero() {
		return "never expires"
	}
	days := int(d.UTCMidnight().Sub(now).Hours() / 24)
	return fmt.Sprintf("expires %s (in %d day%s)", d, days, plural(days))
}

// statusView is one stored token as login --status shows it.
type statusView struct {
	URL       string   `json:"url" yaml:"url"`
	Store     string   `json:"store" yaml:"store"`
	Where     string   `json:"where" yaml:"where"`
	TokenName string   `json:"tokenName,omitempty" yaml:"tokenName,omitempty"`
	Scopes    []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	ExpiresAt string   `json:"expiresAt,omitempty" yaml:"expiresAt,omitempty"`
	Expired   bool     `json:"expired" yaml:"expired"`
}

// RunStatus lists stored tokens, never the tokens themselves.
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
	views := []statusView{}
	for _, i := range infos {
		v := statusView{URL: i.URL, Store: i.Kind, Where: i.Where, TokenName: i.TokenName, Scopes: i.Scopes, ExpiresAt: i.ExpiresAt.String()}
		v.Expired = !i.ExpiresAt.IsZero() && !now.Before(i.ExpiresAt.UTCMidnight())
		views = append(views, v)
	}
	if o.Output != "" {
		return printStructured(o.deps.IO.Out, o.Output, views)
	}
	if len(views) == 0 {
		fmt.Fprintln(o.deps.IO.ErrOut, "No tokens stored; run kubectl gitlab login --gitlab-url URL.")
		return nil
	}
	tw := tabwriter.NewWriter(o.deps.IO.Out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "GITLAB\tSTORE\tEXPIRES\tSCOPES\tWHERE")
	for _, v := range views {
		expires := v.ExpiresAt
		switch {
		case expires == "":
			expires = "never"
		case v.Expired:
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.URL, v.Store, expires, strings.Join(v.Scopes, ","), v.Where)
	}
	return tw.Flush()
}

// LogoutOptions forgets a stored token.
type LogoutOptions struct {
	deps       *Deps
	GitLabURL  string
	TokenStore string
	All        bool
}

func newLogoutCommand(d *Deps) *cobra.Command {
	o := &LogoutOptions{deps: d}
	c := &cobra.Command{
		Use:   "logout",
		Short: "Remove a stored personal access token",
		Example: `  kubectl gitlab logout --gitlab-url https://gitlab.example.com
  kubectl gitlab logout --all`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error { return o.Run() }),
	}
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance (default: $GITLAB_URL, else the only one stored)")
	addTokenStoreFlag(c, &o.TokenStore)
	c.Flags().BoolVar(&o.All, "all", false, "remove the tokens of every GitLab instance")
	return c
}

// Run removes the token(s). The token is not revoked in GitLab.
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
	for _, url := range urls {
		where := tokenstore.WhereIs(store, url)
		if err := store.Delete(url); err != nil {
			if errors.Is(err, tokenstore.ErrNotFound) {
				return failed("kubectl gitlab login --status lists the stored tokens", "no token is stored for %s", url)
			}
			return failed("", "cannot remove the token for %s: %w", url, err)
		}
		fmt.Fprintf(o.deps.IO.Out, "Removed the token for %s from %s. (It still works until it expires or is revoked in GitLab.)\n", url, where)
	}
	return nil
}
