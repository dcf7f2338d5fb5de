package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/login"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// defaultGitLabURL is where login goes without --gitlab-url or $GITLAB_URL.
const defaultGitLabURL = "https://gitlab.com"

// envClientID names the OAuth application when --client-id does not.
const envClientID = "KUBECTL_GITLAB_CLIENT_ID"

// LoginOptions logs in: through a browser (--web), or with a token the
// user gives; --status shows what is kept.
type LoginOptions struct {
	deps       *Deps
	GitLabURL  string
	TokenStdin bool
	TokenStore string
	Status     bool
	Output     string

	Web              bool
	ClientID         string
	KeepRefreshToken bool
	TokenExpiry      time.Duration
	NoBrowser        bool
}

func newLoginCommand(d *Deps) *cobra.Command {
	o := &LoginOptions{deps: d, TokenExpiry: pat.DefaultLifetime}
	c := &cobra.Command{
		Use:   "login",
		Short: "Log in to a GitLab instance: through the browser (--web), or with a personal access token",
		Long: `With --web, log in through the browser (OAuth 2.0 device authorization, GitLab
17.3+): login shows a URL and a code, opens the browser when there is one, and
once you approve, mints a personal access token with only the k8s_proxy scope
(GitLab 16.5+) that expires after --token-expiry (default 7 days). That token is
kept in the OS keyring (else a 0600 file in the user's config directory, and
login says so); get-token gives it to kubectl. The OAuth token used to mint it
(scope api) is revoked at once, unless --keep-refresh-token keeps its refresh
token, in the OS keyring only, so that get-token replaces an expiring token
without a browser. --web needs an OAuth application (--client-id, or
$KUBECTL_GITLAB_CLIENT_ID; remembered per GitLab URL).

Without --web, check a personal access token with GitLab (it must be active and
have the k8s_proxy scope) and keep it the same way. The token is read from stdin
(--token-stdin) or asked for without echo; never from a flag, which would leave
it in the shell history.

--status lists the kept tokens (minted by --web or pasted, scopes, expiry, a
kept refresh token), the token in $KUBECTL_GITLAB_TOKEN or $GITLAB_TOKEN, which
one get-token uses, and warns about scopes beyond k8s_proxy.`,
		Example: `  kubectl gitlab login --web --gitlab-url https://gitlab.example.com --client-id 8f3c…
  # a token that lives 30 days, renewed without a browser before it expires
  kubectl gitlab login --web --token-expiry 30d --keep-refresh-token
  # a token you made yourself, from a password manager
  pass show gitlab/k8s | kubectl gitlab login --gitlab-url https://gitlab.example.com --token-stdin
  # what is kept, where, until when
  kubectl gitlab login --status`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			switch {
			case o.Status:
				return o.RunStatus()
			case o.Web:
				return o.RunWeb()
			}
			return o.Run(context.Background())
		}),
	}
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance (default: $GITLAB_URL, else "+defaultGitLabURL+")")
	c.Flags().BoolVar(&o.TokenStdin, "token-stdin", false, "read the token from stdin")
	addTokenStoreFlag(c, &o.TokenStore)
	c.Flags().BoolVar(&o.Status, "status", false, "show the kept tokens (minted or pasted, scopes, expiry, refresh token) and the one in the environment")
	addOutputFlagWithHelp(c, &o.Output, "with --status: json or yaml", "json", "yaml")
	c.Flags().BoolVar(&o.Web, "web", false, "log in through the browser and mint a token with only the k8s_proxy scope")
	c.Flags().StringVar(&o.ClientID, "client-id", "", "with --web: the OAuth application's ID (default: $"+envClientID+", else the one remembered for the GitLab URL)")
	c.Flags().BoolVar(&o.KeepRefreshToken, "keep-refresh-token", false, "with --web: keep the OAuth refresh token (scope api) in the OS keyring, to renew the token without a browser")
	c.Flags().Var(&lifetimeValue{p: &o.TokenExpiry}, "token-expiry", "with --web: how long the minted token lives, in days (7d) or hours (36h); GitLab keeps whole days and may allow less")
	c.Flags().BoolVar(&o.NoBrowser, "no-browser", false, "with --web: only show the URL and the code")
	return c
}

// Validate refuses flags that do not go together.
func (o *LoginOptions) Validate() error {
	webOnly := o.ClientID != "" || o.KeepRefreshToken || o.TokenExpiry != pat.DefaultLifetime || o.NoBrowser
	switch {
	case o.Status && (o.Web || o.TokenStdin):
		return badInput("run login --status on its own", "--status shows what is kept; it does not log in")
	case o.Web && o.TokenStdin:
		return badInput("choose one: --web mints a token, --token-stdin reads one", "--web and --token-stdin do not go together")
	case !o.Web && webOnly:
		return badInput("add --web", "--client-id, --keep-refresh-token, --token-expiry and --no-browser belong to login --web")
	}
	return nil
}

// lifetimeValue is --token-expiry: whole days ("7d") or a Go duration.
type lifetimeValue struct{ p *time.Duration }

func (v *lifetimeValue) String() string {
	if *v.p%(24*time.Hour) == 0 {
		return strconv.Itoa(int(*v.p/(24*time.Hour))) + "d"
	}
	return v.p.String()
}
func (v *lifetimeValue) Type() string { return "duration" }
func (v *lifetimeValue) Set(s string) error {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 3650 {
			return fixable.Errorf("say 7d, 30d or 36h", "%q is not a number of days up to ten years", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return fixable.Errorf("say 7d, 30d or 36h", "%q is not a duration", s)
		}
	}
	if d < 24*time.Hour || d > 3650*24*time.Hour {
		return fixable.Errorf("say 1d or more (GitLab allows a year at most by default)", "--token-expiry %s is less than a day, the least GitLab keeps, or over ten years", s)
	}
	*v.p = d
	return nil
}

// gitlabURLFor is --gitlab-url, else $GITLAB_URL, else GitLab.com.
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

// target is the GitLab a login is for, and the store it keeps its token in.
func (o *LoginOptions) target() (string, tokenstore.Store, error) {
	url, err := gitlabURLFor(o.deps, o.GitLabURL)
	if err != nil {
		return "", nil, err
	}
	store, err := o.deps.tokenStore(o.TokenStore, o.deps.IO.ErrOut)
	if err != nil {
		return "", nil, err
	}
	if store.Kind() == tokenstore.KindNone {
		return "", nil, badInput("set KUBECTL_GITLAB_TOKEN instead, or choose --token-store auto, keyring or file", "--token-store none keeps no token, so there is nothing to log in to")
	}
	return url, store, nil
}

// RunWeb logs in through the browser.
func (o *LoginOptions) RunWeb() error {
	url, store, err := o.target()
	if err != nil {
		return err
	}
	apps := tokenstore.NewOAuthApps(o.deps.configDir())
	clientID, err := login.ClientID(url, o.ClientID, o.deps.Getenv(envClientID), apps)
	if err != nil {
		return err
	}
	ctx, stop := o.deps.context()
	defer stop()
	web := login.Web{
		URL: url, ClientID: clientID, Lifetime: o.TokenExpiry, KeepRefreshToken: o.KeepRefreshToken,
		TokenName: tokenName(), Store: store,
		Client: func(auth gitlab.Auth) (*gitlab.Client, error) { return o.deps.gitlabClient(url, auth, nil) },
		Now:    o.deps.Now, Sleep: o.deps.sleep, Out: o.deps.IO.ErrOut, OpenBrowser: o.deps.OpenBrowser,
	}
	kasURLs := tokenstore.NewKASURLs(o.deps.configDir())
	web.KASURLs = &kasURLs
	if o.NoBrowser {
		web.OpenBrowser = nil
	}
	res, err := web.Run(ctx)
	if err != nil {
		return err
	}
	errOut := o.deps.IO.ErrOut
	for _, w := range res.Warnings {
		fmt.Fprintf(errOut, "warning: %s\n", w)
	}
	remembered := apps.Remember(url, clientID)
	if remembered != nil {
		fmt.Fprintf(errOut, "warning: could not remember the OAuth application for %s: %v\n", url, remembered)
	}

	e, out := res.Entry, o.deps.IO.Out
	who := ""
	if e.User != "" {
		who = " as " + e.User
	}
	fmt.Fprintf(out, "Logged in to %s%s.\n", url, who)
	fmt.Fprintf(out, "Minted the personal access token %q with only the %s scope; it %s.\n", e.TokenName, pat.Scope, expiryText(e.ExpiresAt, o.deps.Now()))
	if !res.ClampedTo.IsZero() {
		fmt.Fprintf(out, "(GitLab allows tokens until %s at most, so it expires then, sooner than --token-expiry asked.)\n", res.ClampedTo)
	}
	where := tokenstore.WhereIs(store, url)
	fmt.Fprintf(out, "It is kept in %s; kubectl gets it from kubectl-gitlab get-token.\n", where)
	if o.KeepRefreshToken {
		fmt.Fprintf(out, "The OAuth refresh token (scope api) is kept in %s too, and only there: get-token uses it to mint\n"+
			"a new token before this one expires, without a browser. kubectl gitlab logout revokes both.\n", where)
	} else {
		fmt.Fprintln(out, "The OAuth token that minted it (scope api) was revoked: nothing broader is kept. kubectl gitlab logout revokes the token.")
	}
	if res.KASURL != "" {
		fmt.Fprintf(out, "KAS (k8s-proxy) is at %s, as GitLab's /api/v4/metadata says; update-kubeconfig uses it.\n", redact.URL(res.KASURL))
	}
	if res.Previous != nil {
		fmt.Fprintf(out, "The token %q of the previous login to %s was revoked.\n", res.Previous.TokenName, url)
	}
	if remembered == nil && (o.ClientID != "" || o.deps.Getenv(envClientID) != "") {
		fmt.Fprintf(out, "The OAuth application %s is remembered for %s in %s.\n", clientID, url, apps.Where())
	}
	return nil
}

// tokenName names a minted token after this machine, so that it can be
// told apart in GitLab's list of tokens.
func tokenName() string {
	if host, err := os.Hostname(); err == nil && host != "" {
		return "kubectl-gitlab (" + host + ")"
	}
	return "kubectl-gitlab"
}

// Run reads, checks and stores a pasted token.
func (o *LoginOptions) Run(ctx context.Context) error {
	url, store, err := o.target()
	if err != nil {
		return err
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
	entry.Origin = tokenstore.OriginPasted
	previous, prevErr := store.Get(url)
	if err := store.Set(url, entry); err != nil {
		return failed(fixable.FixOr(err, "choose another place: --token-store file (a 0600 file) or none (use $KUBECTL_GITLAB_TOKEN)"), "cannot keep the token: %w", err)
	}
	out := o.deps.IO.Out
	fmt.Fprintf(out, "Logged in to %s with token %q (scopes: %s), %s.\n", url, described.Name, strings.Join(described.Scopes, ", "), expiryText(entry.ExpiresAt, o.deps.Now()))
	fmt.Fprintf(out, "The token is kept in %s.\n", tokenstore.WhereIs(store, url))
	if prevErr == nil && previous.Minted() && previous.Token != token {
		if err := login.RevokeKept(ctx, url, previous, o.deps.gitlabClientFor); err != nil {
			fmt.Fprintf(o.deps.IO.ErrOut, "warning: could not revoke the token %q that login --web minted before (it expires %s): %v\n", previous.TokenName, previous.ExpiresAt, err)
		} else {
			fmt.Fprintf(out, "The token %q that login --web minted before was revoked.\n", previous.TokenName)
		}
	}
	if broad := pat.BroadScopes(described.Scopes); len(broad) > 0 {
		fmt.Fprintf(o.deps.IO.ErrOut, "warning: %s\n", pat.BroadScopesWarning("this token", broad, url, ""))
	}
	return nil
}

// maxTokenLine bounds what login --token-stdin reads.
const maxTokenLine = 4096

func (o *LoginOptions) readToken(url string) (string, error) {
	var token, source string
	switch {
	case o.TokenStdin:
		// A token is a line of well under 4 KiB; a bound keeps a mistaken
		// pipe (a file, /dev/zero) from being read into memory whole.
		line, err := bufio.NewReader(io.LimitReader(o.deps.IO.In, maxTokenLine+1)).ReadString('\n')
		if err != nil && line == "" {
			return "", badInput("pipe the token in: … | kubectl gitlab login --token-stdin", "no token on stdin")
		}
		if len(line) > maxTokenLine {
			return "", badInput("pipe only the token in, on one line", "stdin's first line is longer than %d bytes: not a token", maxTokenLine)
		}
		token, source = strings.TrimSpace(line), "the token from stdin"
	case o.deps.Terminal != nil && o.deps.Terminal.Interactive():
		fmt.Fprintf(o.deps.IO.ErrOut, "Create a token with the k8s_proxy scope at %s\n(or let kubectl gitlab login --web mint one)\n", pat.CreateURL(url))
		var err error
		if token, err = o.deps.Terminal.ReadSecret("Personal access token for " + url + ": "); err != nil {
			return "", badInput("", "cannot read the token: %w", err)
		}
		source = "the token typed"
	default:
		return "", badInput("log in through the browser with --web, pipe the token in with --token-stdin, or run login on a terminal", "no terminal to ask for the token")
	}
	if token == "" {
		return "", badInput("paste a personal access token with the k8s_proxy scope", "the token is empty")
	}
	return token, credential.CheckSecret(source, token)
}

func expiryText(d tokenstore.Date, now time.Time) string {
	if d.IsZero() {
		return "never expires"
	}
	days := int(d.UTCMidnight().Sub(now).Hours() / 24)
	return fmt.Sprintf("expires %s (in %d day%s)", d, days, plural(days))
}
