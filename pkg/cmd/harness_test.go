package cmd

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

const jobToken = "glcbt-64_JOBTOKENsecretDoNotLeak"

// harness runs commands in-process with a private environment.
type harness struct {
	t    *testing.T
	dir  string
	env  map[string]string
	term Terminal
	now  time.Time
	// transport reaches testkas, trusting its CA.
	transport http.RoundTripper
}

type result struct {
	stdout, stderr string
	code           int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	return &harness{t: t, dir: dir, env: map[string]string{"HOME": filepath.Join(dir, "home")}, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (h *harness) deps(stdin string) *Deps {
	return &Deps{
		IO:        genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
		LookupEnv: func(k string) (string, bool) { v, ok := h.env[k]; return v, ok },
		Now:       func() time.Time { return h.now },
		Terminal:  h.term,
		Transport: h.transport,
	}
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	d := h.deps("")
	code := Main(args, d)
	r := result{stdout: d.IO.Out.(*bytes.Buffer).String(), stderr: d.IO.ErrOut.(*bytes.Buffer).String(), code: code}
	for _, secret := range []string{jobToken} {
		if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
			h.t.Errorf("kubectl gitlab %s printed the job token:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	return r
}

// kubeconfig copies a testdata kubeconfig into the harness's directory,
// with the job token and KAS URL filled in.
func (h *harness) kubeconfig(name string, kasURL string) string {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/kubeconfig", name))
	if err != nil {
		h.t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "JOBTOKEN", jobToken)
	if kasURL != "" {
		text = strings.ReplaceAll(text, "https://kas.gitlab.example/k8s-proxy", kasURL)
	}
	path := filepath.Join(h.dir, filepath.Base(name))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return path
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func (r result) expect(t *testing.T, code int, stdoutHas ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stdoutHas {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
}

func (r result) expectErr(t *testing.T, code int, stderrHas ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

// fakeTerminal answers Pick with a fixed choice.
type fakeTerminal struct {
	choice  int
	offered []string
}

func (f *fakeTerminal) Interactive() bool { return true }
func (f *fakeTerminal) Pick(_ string, options []string) (int, error) {
	f.offered = options
	return f.choice, nil
}
