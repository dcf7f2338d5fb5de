package cmd

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
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
	// keyring stands in for the OS keyring (the real one is tested under
	// hack/keyring/with-secret-service.sh).
	keyring *memKeyring
	// secrets must never reach stdout or stderr.
	secrets []string
	// sleep, ctx and browser stand in for Deps.Sleep, Deps.Context and
	// Deps.OpenBrowser (nil: a timer, a context that never ends, no
	// browser).
	sleep   func(context.Context, time.Duration) error
	ctx     func() (context.Context, context.CancelFunc)
	browser func(string) error
	// stderrTerminal makes stderr a terminal (progress lines);
	// progressAfter shortens the wait before one.
	stderrTerminal bool
	progressAfter  time.Duration
}

// memKeyring is an in-memory keyring backend.
type memKeyring struct {
	mu    sync.Mutex
	items map[string]string
	down  error // every call fails with it, as with no Secret Service
}

func (m *memKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down != nil {
		return "", m.down
	}
	v, ok := m.items[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(service, user, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down != nil {
		return m.down
	}
	m.items[service+"\x00"+user] = secret
	return nil
}

func (m *memKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down != nil {
		return m.down
	}
	if _, ok := m.items[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, service+"\x00"+user)
	return nil
}

type result struct {
	stdout, stderr string
	code           int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	return &harness{t: t, dir: dir, env: map[string]string{"HOME": filepath.Join(dir, "home")}, now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), keyring: &memKeyring{items: map[string]string{}}}
}

func (h *harness) deps(stdin string) *Deps {
	return &Deps{
		IO:             genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
		LookupEnv:      func(k string) (string, bool) { v, ok := h.env[k]; return v, ok },
		Now:            func() time.Time { return h.now },
		Terminal:       h.term,
		Transport:      h.transport,
		Keyring:        h.keyring,
		Sleep:          h.sleep,
		Context:        h.ctx,
		OpenBrowser:    h.browser,
		StderrTerminal: func() bool { return h.stderrTerminal },
		ProgressAfter:  h.progressAfter,
	}
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runWithStdin("", args...)
}

func (h *harness) runWithStdin(stdin string, args ...string) result {
	h.t.Helper()
	d := h.deps(stdin)
	code := Main(args, d)
	r := result{stdout: d.IO.Out.(*bytes.Buffer).String(), stderr: d.IO.ErrOut.(*bytes.Buffer).String(), code: code}
	for _, secret := range append([]string{jobToken}, h.secrets...) {
		// get-token's credential on stdout is the one place a secret belongs.
		if (strings.Contains(r.stdout, secret) && args[0] != "get-token") || strings.Contains(r.stderr, secret) {
			h.t.Errorf("kubectl gitlab %s printed a secret:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	return r
}

// kubeconfig copies a testdata kubeconfig into the harness's directory,
// with the job token and KAS URL filled in.
func (h *harness) kubeconfig(name string, kasURL string) string {
	h.t.Helper()
	return h.kubeconfigWithToken(name, kasURL, jobToken)
}

// kubeconfigWithToken is kubeconfig with another job token in it.
func (h *harness) kubeconfigWithToken(name, kasURL, token string) string {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/kubeconfig", name))
	if err != nil {
		h.t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "JOBTOKEN", token)
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

// fakeTerminal answers Pick with a fixed choice and ReadSecret with secret.
type fakeTerminal struct {
	choice  int
	offered []string
	secret  string
	prompts []string
}

func (f *fakeTerminal) ReadSecret(prompt string) (string, error) {
	f.prompts = append(f.prompts, prompt)
	return f.secret, nil
}

func (f *fakeTerminal) Interactive() bool { return true }
func (f *fakeTerminal) Pick(_ string, options []string) (int, error) {
	f.offered = options
	return f.choice, nil
}
