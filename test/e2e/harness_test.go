// Package e2e drives the built plugin through real kubectl binaries against
// testkas (and, where a test says so, a real kube-apiserver).
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

const jobToken = "glcbt-64_E2EjobTOKENsecret"

// pluginDir holds the built kubectl-gitlab; set by TestMain.
var pluginDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kubectl-gitlab-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginDir = dir
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "kubectl-gitlab"), "./cmd/kubectl-gitlab")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building kubectl-gitlab: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// kubectl is one real kubectl binary.
type kubectl struct {
	Path    string
	Version string
}

// kubectls finds every real kubectl on the machine: kubectl on PATH and
// the versioned ones of the Google Cloud SDK (kubectl.1.27 … 1.33), or the
// list in $KUBECTL_GITLAB_KUBECTLS. None found is a failure, never a skip.
func kubectls(t *testing.T) []kubectl {
	t.Helper()
	var paths []string
	if list := os.Getenv("KUBECTL_GITLAB_KUBECTLS"); list != "" {
		paths = filepath.SplitList(list)
	} else {
		if p, err := exec.LookPath("kubectl"); err == nil {
			paths = append(paths, p)
		}
		versioned, _ := filepath.Glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*")
		sort.Strings(versioned)
		paths = append(paths, versioned...)
	}
	var found []kubectl
	for _, p := range paths {
		out, err := exec.Command(p, "version", "--client", "-o", "json").Output()
		if err != nil {
			continue
		}
		v := "unknown"
		if i := bytes.Index(out, []byte(`"gitVersion": "`)); i >= 0 {
			rest := out[i+len(`"gitVersion": "`):]
			v = string(rest[:bytes.IndexByte(rest, '"')])
		}
		found = append(found, kubectl{Path: p, Version: v})
	}
	if len(found) == 0 {
		t.Fatal("no kubectl found (looked on PATH and /usr/lib/google-cloud-sdk/bin/kubectl.1.*; set KUBECTL_GITLAB_KUBECTLS): these tests need a real kubectl")
	}
	return found
}

// env is a process environment built from scratch, so nothing of the
// caller's (a real KUBECONFIG, CI_JOB_TOKEN, KUBE_CONTEXT) leaks in.
type env struct {
	t    *testing.T
	dir  string
	vars map[string]string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	return &env{t: t, dir: dir, vars: map[string]string{
		"HOME": home,
		"PATH": pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"),
	}}
}

func (e *env) list() []string {
	var out []string
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

type result struct {
	cmd            string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("$ %s\n(exit %d)\nstdout:\n%s\nstderr:\n%s", r.cmd, r.code, r.stdout, r.stderr)
}

// recording is run for one program, keeping every result in *all for the
// secret sweep (noSecret) at the end of a test.
func (e *env) recording(program string, all *[]result) func(args ...string) result {
	return func(args ...string) result {
		r := e.run(program, args...)
		*all = append(*all, r)
		return r
	}
}

// run runs a program with the environment, bounded in time.
func (e *env) run(program string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, program, args...)
	c.Env = e.list()
	c.Dir = e.dir
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	r := result{cmd: filepath.Base(program) + " " + strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%s: %v", r.cmd, err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("%s: timed out\n%s", r.cmd, r)
	}
	return r
}

func (r result) ok(t *testing.T, contains ...string) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want success:\n%s", r)
	}
	for _, s := range contains {
		if !strings.Contains(r.stdout, s) {
			t.Fatalf("stdout lacks %q:\n%s", s, r)
		}
	}
	return r
}

func (r result) fails(t *testing.T, stderrContains ...string) result {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("want failure:\n%s", r)
	}
	for _, s := range stderrContains {
		if !strings.Contains(r.stderr, s) {
			t.Fatalf("stderr lacks %q:\n%s", s, r)
		}
	}
	return r
}

// noSecret fails if a secret appears in any output.
func noSecret(t *testing.T, secret string, results ...result) {
	t.Helper()
	for _, r := range results {
		if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
			t.Errorf("a secret reached the output of %s", r.cmd)
		}
	}
}

// jobKubeconfig writes a testdata kubeconfig as GitLab would render it for
// a job against testkas.
func (e *env) jobKubeconfig(name, kasURL, token string) string {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(), "testdata", "kubeconfig", name))
	if err != nil {
		e.t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "https://kas.gitlab.example/k8s-proxy", strings.TrimSuffix(kasURL, "/"))
	text = strings.ReplaceAll(text, "JOBTOKEN", token)
	path := filepath.Join(e.dir, "kubeconfig-"+filepath.Base(name))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.vars["KUBECONFIG"] = path
	return path
}
