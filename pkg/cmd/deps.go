// Package cmd holds one file per command: flags become Options, and
// Complete / Validate / Run call the library that does the work, then
// print. Side effects (environment, clock, terminal, network, keyring)
// come in through Deps, whose methods are all in this file, so every
// command runs in-process in tests.
package cmd

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/login"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// Deps are the outside world as the commands see it.
type Deps struct {
	IO genericiooptions.IOStreams
	// LookupEnv reads an environment variable.
	LookupEnv func(string) (string, bool)
	// Now is the clock.
	Now func() time.Time
	// Terminal talks to a person, when there is one.
	Terminal Terminal
	// Transport carries HTTP requests to GitLab and KAS; nil means the
	// default transport.
	Transport http.RoundTripper
	// Keyring replaces the OS keyring (tests); nil means the OS keyring.
	Keyring tokenstore.KeyringBackend
	// Sleep waits, or returns ctx's error when it ends first; nil means a
	// timer. Tests advance their clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// OpenBrowser opens a URL in the user's browser; nil when there is
	// none to open (no display, over SSH, tests).
	OpenBrowser func(url string) error
	// Context is what a long command (login --web) runs in: it ends on
	// Ctrl-C. nil means one that never ends.
	Context func() (context.Context, context.CancelFunc)
	// StderrTerminal tells whether stderr is a terminal, where progress
	// lines go; nil means it is not. ProgressAfter, when not zero,
	// replaces the wait before one (tests).
	StderrTerminal func() bool
	ProgressAfter  time.Duration
}

// SystemDeps are the real process's streams, environment and clock.
func SystemDeps() *Deps {
	return &Deps{
		IO:          genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		LookupEnv:   os.LookupEnv,
		Now:         time.Now,
		Terminal:    systemTerminal(os.Stdin, os.Stderr),
		OpenBrowser: systemBrowser(runtime.GOOS, os.LookupEnv),
		Context: func() (context.Context, context.CancelFunc) {
			return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		},
		// A function, so that get-token asks nothing of the terminal.
		StderrTerminal: func() bool { return term.IsTerminal(int(os.Stderr.Fd())) },
	}
}

// context is the context a long command runs in.
func (d *Deps) context() (context.Context, context.CancelFunc) {
	if d.Context == nil {
		return context.WithCancel(context.Background())
	}
	return d.Context()
}

// sleep is Deps.Sleep, else a timer.
func (d *Deps) sleep(ctx context.Context, wait time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, wait)
	}
	return gitlab.Wait(ctx, wait)
}

// progress is where to report a long wait for KAS: stderr, when it is a
// terminal; nil otherwise (a CI log gets the outcome, not the wait).
func (d *Deps) progress() *kas.Progress {
	if d.StderrTerminal == nil || !d.StderrTerminal() {
		return nil
	}
	return &kas.Progress{W: d.IO.ErrOut, After: d.ProgressAfter}
}

// Getenv is LookupEnv without the flag.
func (d *Deps) Getenv(name string) string {
	v, _ := d.LookupEnv(name)
	return v
}

// home is the user's home directory, from $HOME like kubectl.
func (d *Deps) home() string {
	if h := d.Getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// kubeconfigPaths applies kubectl's rules: --kubeconfig, $KUBECONFIG,
// ~/.kube/config.
func (d *Deps) kubeconfigPaths(explicit string) kubeconfig.Paths {
	return kubeconfig.Paths{Explicit: explicit, Env: d.Getenv("KUBECONFIG"), Home: d.home()}
}

// loadKubeconfig loads the kubeconfig, which need not exist yet (commands
// that may create it).
func (d *Deps) loadKubeconfig(explicit string) (*kubeconfig.Set, error) {
	return kubeconfig.Load(d.kubeconfigPaths(explicit))
}

// loadExistingKubeconfig loads the kubeconfig and requires that a file
// exists.
func (d *Deps) loadExistingKubeconfig(explicit string) (*kubeconfig.Set, error) {
	set, err := d.loadKubeconfig(explicit)
	if err != nil {
		return nil, err
	}
	return set, set.RequireExisting()
}

// loadCA reads --certificate-authority, else $KAS_CERTIFICATE (a path,
// the PEM text or its base64); nil when neither is given. A bundle that
// cannot work is refused, one with certificates that cannot is warned
// about (kas.CABundle.Check).
func (d *Deps) loadCA(flag string) (*kas.CABundle, error) {
	var bundle *kas.CABundle
	var err error
	if flag != "" {
		bundle, err = kas.LoadCAFile(flag)
	} else if v, ok := d.LookupEnv("KAS_CERTIFICATE"); ok {
		bundle, err = kas.LoadCAValue("KAS_CERTIFICATE", v)
	}
	if bundle == nil || err != nil {
		return nil, err
	}
	warnings, err := bundle.Check(d.Now())
	for _, w := range warnings {
		fmt.Fprintf(d.IO.ErrOut, "warning: %s\n", w)
	}
	return bundle, err
}

// jobGitLab reads the GitLab URL and job token of a CI job.
func (d *Deps) jobGitLab() (baseURL, jobToken string, ok bool) {
	jobToken = d.Getenv("CI_JOB_TOKEN")
	baseURL = d.Getenv("CI_API_V4_URL")
	if baseURL == "" {
		baseURL = d.Getenv("CI_SERVER_URL")
	}
	return baseURL, jobToken, jobToken != "" && baseURL != ""
}

// inJob tells whether this runs in a GitLab CI job.
func (d *Deps) inJob() bool {
	_, _, ok := d.jobGitLab()
	return ok
}

// gitlabOf is the GitLab a command that works in a job and on a
// workstation asks: in a CI job, unless it names a project, the job's
// (flag, else $CI_API_V4_URL) with the job token; else the workstation's.
func (d *Deps) gitlabOf(flagURL, project string) (gitlabURL, jobToken string, inJob bool, err error) {
	jobURL, jobToken, inJob := d.jobGitLab()
	if inJob && project == "" {
		return cmp.Or(flagURL, jobURL), jobToken, true, credential.CheckSecret("CI_JOB_TOKEN", jobToken)
	}
	return d.workstationGitLabURL(flagURL), "", false, nil
}

// clientOf is a client for what gitlabOf resolved: with the job token in a
// job, else with the user's token (returned; "" when there is none).
func (d *Deps) clientOf(gitlabURL, jobToken string, inJob bool, ca *kas.CABundle) (*gitlab.Client, string, error) {
	auth, userToken := gitlab.JobToken(jobToken), ""
	if !inJob {
		var err error
		if userToken, err = d.userToken(gitlabURL); err != nil {
			return nil, "", err
		}
		auth = gitlab.PrivateToken(userToken)
	}
	client, err := d.gitlabClient(gitlabURL, auth, ca)
	return client, userToken, err
}

// requireGitLabURL checks that a workstation command knows its GitLab.
func requireGitLabURL(gitlabURL string) error {
	if gitlabURL == "" {
		return badInput("pass --gitlab-url https://gitlab.example.com (or log in first: kubectl gitlab login --gitlab-url …)", "which GitLab? --gitlab-url is needed outside a CI job")
	}
	_, err := gitlab.ParseBaseURL(gitlabURL)
	return err
}

// workstationGitLabURL is the GitLab a workstation command means: the
// flag, else $GITLAB_URL, else the only instance the token store knows.
func (d *Deps) workstationGitLabURL(flag string) string {
	if flag != "" {
		return flag
	}
	if u := d.Getenv("GITLAB_URL"); u != "" {
		return u
	}
	if store, err := d.tokenStore(tokenstore.KindAuto, nil); err == nil {
		u, _ := tokenstore.SoleURL(store)
		return u
	}
	return ""
}

// userToken is $KUBECTL_GITLAB_TOKEN or $GITLAB_TOKEN, else the token
// login stored for the instance; "" when there is none. A token that
// cannot go into a header (a line break) is refused by name.
func (d *Deps) userToken(gitlabURL string) (string, error) {
	if t, variable := pat.FromEnv(d.Getenv); t != "" {
		return t, credential.CheckSecret(variable, t)
	}
	store, err := d.tokenStore(tokenstore.KindAuto, nil)
	if err != nil {
		return "", nil
	}
	if e, err := store.Get(gitlabURL); err == nil {
		return e.Token, credential.CheckSecret("the token stored for "+gitlabURL, e.Token)
	}
	return "", nil
}

// apiAccess finds the credential that may call GitLab's API at
// gitlabURL (login.API: the environment's token, a kept one that may,
// the kept refresh token, a one-off approval with web).
func (d *Deps) apiAccess(gitlabURL string, ca *kas.CABundle, web bool) login.API {
	store, err := d.tokenStore(tokenstore.KindAuto, nil)
	if err != nil {
		store = nil
	}
	return login.API{
		URL: gitlabURL, Getenv: d.Getenv, Store: store, LockDir: d.configDir(),
		Client: func(auth gitlab.Auth) (*gitlab.Client, error) { return d.gitlabClient(gitlabURL, auth, ca) },
		Web:    web,
		ClientID: func() (string, error) {
			return login.ClientID(gitlabURL, "", d.Getenv(envClientID), tokenstore.NewOAuthApps(d.configDir()))
		},
		Now: d.Now, Sleep: d.sleep, OpenBrowser: d.OpenBrowser, Out: d.IO.ErrOut,
	}
}

// userTokenScopes are the scopes of the token userToken gives, as login
// read them (known), or unknown: a token from the environment, or one
// stored without them.
func (d *Deps) userTokenScopes(gitlabURL string) (scopes []string, known bool) {
	if t, _ := pat.FromEnv(d.Getenv); t != "" {
		return nil, false
	}
	store, err := d.tokenStore(tokenstore.KindAuto, nil)
	if err != nil {
		return nil, false
	}
	e, err := store.Get(gitlabURL)
	return e.Scopes, err == nil && len(e.Scopes) > 0
}

// history is where switches remember the previous context.
func (d *Deps) history() *agentcontext.History {
	return &agentcontext.History{Home: d.home(), Dir: d.configDir()}
}

// gitlabClient makes a client for the GitLab at baseURL; Deps.Transport,
// when set, replaces the one that trusts the system's CAs and ca. Every
// GitLab client comes from here: https only, unless the user opted in to
// plain http on loopback (KUBECTL_GITLAB_INSECURE_HTTP=1), which it then
// says on stderr.
func (d *Deps) gitlabClient(baseURL string, auth gitlab.Auth, ca *kas.CABundle) (*gitlab.Client, error) {
	transport := d.Transport
	if transport == nil {
		transport = kas.GitLabTransport(ca)
	}
	policy := httpsafe.PolicyFromEnv(d.LookupEnv)
	client, err := gitlab.NewClient(baseURL, auth, transport, policy)
	if err != nil {
		return nil, err
	}
	if policy.Insecure(client.BaseURL()) {
		fmt.Fprintf(d.IO.ErrOut, "warning: %s=1: talking to %s over plain http; any token travels in clear text\n", httpsafe.InsecureHTTPEnv, client.BaseURL())
	}
	return client, nil
}

// kasClient makes a client for a context. Deps.Transport, when set,
// replaces the TLS transport that the kubeconfig describes.
func (d *Deps) kasClient(set *kubeconfig.Set, name string) (*kas.Client, error) {
	cfg, err := kas.ConfigForContext(set, name)
	if err != nil {
		return nil, err
	}
	cfg.Transport = d.Transport
	cfg.Exec = d.execPlugin
	cfg.Progress = d.progress()
	return kas.NewClient(cfg)
}

// execPlugin runs a kubeconfig exec entry. Our own get-token runs
// in-process: it is the code kubectl would start, without a second
// process; anything else runs as kubectl runs it.
func (d *Deps) execPlugin(ctx context.Context, req kas.ExecRequest) ([]byte, error) {
	args, ok := agentcontext.GetTokenArgs(req.Command, req.Args)
	if !ok {
		return kas.RunExec(ctx, req)
	}
	env := map[string]string{}
	for _, kv := range req.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var stdout, stderr bytes.Buffer
	sub := *d
	sub.IO = genericiooptions.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}
	sub.Terminal = nil
	sub.LookupEnv = func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		return d.LookupEnv(k)
	}
	if code := Main(args, &sub); code != ExitOK {
		return nil, &kas.ExecError{ExitCode: code, Stderr: stderr.String(), Err: fmt.Errorf("exit code %d", code)}
	}
	return stdout.Bytes(), nil
}

// configDir is kubectl-gitlab's directory under the user's config dir, as
// os.UserConfigDir finds it, but from the injected environment.
func (d *Deps) configDir() string {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = d.Getenv("AppData")
	case "darwin", "ios":
		if h := d.home(); h != "" {
			base = filepath.Join(h, "Library", "Application Support")
		}
	default:
		base = d.Getenv("XDG_CONFIG_HOME")
		if base == "" || !filepath.IsAbs(base) {
			base = filepath.Join(d.home(), ".config")
		}
	}
	return filepath.Join(base, "kubectl-gitlab")
}

// tokenStore opens the store of the given kind. notices gets auto mode's
// fallback notice (nil for get-token, which kubectl runs every time).
func (d *Deps) tokenStore(kind string, notices io.Writer) (tokenstore.Store, error) {
	s, err := tokenstore.Open(kind, tokenstore.Options{ConfigDir: d.configDir(), Notices: notices, Keyring: d.Keyring, Now: d.Now})
	if err != nil {
		return nil, badInput(fixable.FixOr(err, "use --token-store auto, keyring, file or none"), "%w", err)
	}
	return s, nil
}

// renewer renews stored personal access tokens, warning on stderr.
func (d *Deps) renewer() pat.Renewer {
	return pat.Renewer{LockDir: d.configDir(), Now: d.Now, Warnings: d.IO.ErrOut, Client: d.gitlabClientFor}
}

// gitlabClientFor is gitlabClient with the system's CAs, as the use-case
// packages take it.
func (d *Deps) gitlabClientFor(url string, auth gitlab.Auth) (*gitlab.Client, error) {
	return d.gitlabClient(url, auth, nil)
}

// lookPath finds a program on the PATH of Deps' environment, as kubectl
// would find an exec plugin.
func (d *Deps) lookPath(name string) (string, error) {
	if strings.ContainsRune(name, filepath.Separator) {
		if isExecutable(name) {
			return name, nil
		}
		return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	for _, dir := range filepath.SplitList(d.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if path := filepath.Join(dir, name); isExecutable(path) {
			return path, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// onPath reports whether kubectl will find a command through PATH.
func (d *Deps) onPath(name string) bool {
	_, err := d.lookPath(name)
	return err == nil
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// runProgram runs a program and returns its stdout.
func runProgram(ctx context.Context, path string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, path, args...).Output()
}
