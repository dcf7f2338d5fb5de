// Package doctor runs the troubleshooting section of GitLab's "Using GitLab
// CI/CD with a Kubernetes cluster" page as checks: each says what it found
// and, when something is wrong, how to fix it. Every check is a small
// function over injected dependencies (a program runner, the filesystem
// under a home directory, an HTTP transport, the clock), so that each
// failure can be prepared in a test.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Warn Status = "warn"
	// Skip is a check that could not run because one it needs failed.
	Skip Status = "skip"
)

// Symbol is how the text report shows a status.
func (s Status) Symbol() string {
	switch s {
	case Pass:
		return "✓"
	case Fail:
		return "✗"
	case Warn:
		return "!"
	}
	return "-"
}

// Check is one check's result.
type Check struct {
	// Name is stable, for scripts: kubectl, kube-cache, kubeconfig,
	// context, current-context, kas-url, kas-reachable, tls, credential,
	// scopes (a personal access token's only), token, agent, identity,
	// rbac.
	Name   string `json:"name"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Found says what the check saw; never a secret.
	Found string `json:"found"`
	Fix   string `json:"fix,omitempty"`
}

// Report is every check, in order.
type Report struct {
	Context    string   `json:"context,omitempty"`
	Kubeconfig []string `json:"kubeconfig,omitempty"`
	Checks     []Check  `json:"checks"`
}

// Count counts checks with a status.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Failed lists the titles of failed checks.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Title)
		}
	}
	return out
}

// Get finds a check by name.
func (r *Report) Get(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// FS is the filesystem as the cache check sees it.
type FS interface {
	Stat(name string) (fs.FileInfo, error)
	// ProbeWrite creates and removes an entry in dir, to see whether dir
	// is writable by this user.
	ProbeWrite(dir string) error
}

// OSFS is the real filesystem.
type OSFS struct{}

func (OSFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

func (OSFS) ProbeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".kubectl-gitlab-doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Deps are the outside world as the checks see it.
type Deps struct {
	LookupEnv func(string) (string, bool)
	// Home is the user's home directory (~/.kube/cache, ~/.kube/config).
	Home string
	FS   FS
	Now  func() time.Time
	// LookPath finds a program on PATH.
	LookPath func(name string) (string, error)
	// Run runs a program and returns its stdout (kubectl version).
	Run func(ctx context.Context, path string, args ...string) ([]byte, error)
	// Transport, when set, replaces the TLS transport that the kubeconfig
	// describes (tests that fake answers).
	Transport http.RoundTripper
	// Exec runs kubeconfig exec credential plugins; nil runs processes.
	Exec kas.ExecRunner
	// Timeout bounds each request to KAS; zero means kas.DefaultTimeout,
	// which outlasts KAS's 20 s search for an agent.
	Timeout time.Duration
	// TokenScopes asks the GitLab at url for a personal access token's
	// scopes; nil leaves the scopes check out.
	TokenScopes func(ctx context.Context, url, token string) ([]string, error)
	// Progress, when set, reports that a request waits for KAS.
	Progress *kas.Progress
}

func (d *Deps) getenv(name string) string {
	if d.LookupEnv == nil {
		return ""
	}
	v, _ := d.LookupEnv(name)
	return v
}

// Options say what to check.
type Options struct {
	Kubeconfig kubeconfig.Paths
	// Context names the context to check (a name or an agent name); empty
	// means the current context if it is an agent context, else the one
	// kubectl gitlab use-context would pick.
	Context string
	// Namespace is where to check RBAC; empty means the context's, else
	// default.
	Namespace string
}

// run is one doctor run: what the checks found so far.
type run struct {
	ctx context.Context
	d   Deps
	o   Options

	set    *kubeconfig.Set
	name   string // the context checked
	info   agentcontext.Info
	client *kas.Client
	cred   kas.UserCredential
	user   *kas.UserInfo
	// Which checks passed well enough for later ones to run.
	reachable, trusted, credentialOK, accepted, answered bool
	// gitlabKnowsPAT: GitLab itself answered for the personal access
	// token's scopes, so it knows the token.
	gitlabKnowsPAT bool
}

// Run runs every check and returns the report.
func Run(ctx context.Context, d Deps, o Options) *Report {
	if d.FS == nil {
		d.FS = OSFS{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	r := &run{ctx: ctx, d: d, o: o}
	rep := &Report{}
	add := func(c Check) { rep.Checks = append(rep.Checks, c) }
	add(r.checkKubectl())
	add(r.checkCache())
	add(r.checkKubeconfig())
	if r.set != nil {
		for _, f := range r.set.Files {
			rep.Kubeconfig = append(rep.Kubeconfig, f.Path)
		}
	}
	add(r.checkCurrentContext())
	add(r.checkContext())
	rep.Context = r.name
	add(r.checkKASURL())
	reach, tls := r.checkConnection()
	add(reach)
	add(tls)
	add(r.checkCredential())
	if scopes, ok := r.checkScopes(); ok {
		add(scopes)
	}
	token, agent := r.checkAccepted()
	add(token)
	add(agent)
	add(r.checkIdentity())
	add(r.checkRBAC())
	return rep
}

func pass(name, title, format string, args ...any) Check {
	return Check{Name: name, Title: title, Status: Pass, Found: fmt.Sprintf(format, args...)}
}

func fail(name, title, fix, format string, args ...any) Check {
	return Check{Name: name, Title: title, Status: Fail, Found: fmt.Sprintf(format, args...), Fix: fix}
}

func warn(name, title, fix, format string, args ...any) Check {
	return Check{Name: name, Title: title, Status: Warn, Found: fmt.Sprintf(format, args...), Fix: fix}
}

func skip(name, title, why string) Check {
	return Check{Name: name, Title: title, Status: Skip, Found: "not checked: " + why}
}

// fromError turns an error into a failed check, with its fix when it
// has one (a decoded KAS failure, a context that cannot be resolved).
func fromError(name, title string, err error) Check {
	return Check{Name: name, Title: title, Status: Fail, Found: err.Error(), Fix: fixable.FixOf(err)}
}

// WriteText writes the report for people: one line per check, the fix
// indented under it, and a summary.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Context != "" {
		fmt.Fprintf(&b, "Checking context %q", r.Context)
	} else {
		b.WriteString("Checking")
	}
	if len(r.Kubeconfig) > 0 {
		fmt.Fprintf(&b, " (kubeconfig %s)", strings.Join(r.Kubeconfig, ", "))
	}
	b.WriteString("\n\n")
	width := 0
	for _, c := range r.Checks {
		width = max(width, utf8.RuneCountInString(c.Title))
	}
	indent := strings.Repeat(" ", width+4)
	for _, c := range r.Checks {
		found := strings.ReplaceAll(c.Found, "\n", "\n"+indent)
		fmt.Fprintf(&b, "%s %-*s  %s\n", c.Status.Symbol(), width, c.Title, found)
		if c.Fix != "" {
			for i, line := range strings.Split(c.Fix, "\n") {
				prefix := "fix: "
				if i > 0 {
					prefix = "     "
				}
				fmt.Fprintf(&b, "%s%s%s\n", indent, prefix, line)
			}
		}
	}
	failed, warnings := r.Count(Fail), r.Count(Warn)
	b.WriteString("\n")
	switch {
	case failed == 0 && warnings == 0:
		b.WriteString("All checks passed.\n")
	default:
		fmt.Fprintf(&b, "%d check%s failed, %d warning%s.\n", failed, plural(failed), warnings, plural(warnings))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		*Report
		Summary map[Status]int `json:"summary"`
	}{r, map[Status]int{Pass: r.Count(Pass), Fail: r.Count(Fail), Warn: r.Count(Warn), Skip: r.Count(Skip)}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
