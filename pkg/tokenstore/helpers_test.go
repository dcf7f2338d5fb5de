package tokenstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"

	"github.com/zalando/go-keyring"
)

// The test binary doubles as the helper process of the multi-process
// tests: TestMain runs the helper named in helperEnv instead of the tests.
const helperEnv = "TOKENSTORE_TEST_HELPER"

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		os.Exit(runHelper(name))
	}
	os.Exit(m.Run())
}

// helper starts this test binary as the helper name, with extra env.
func helper(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + name}, env...)...)
	return cmd
}

// fakeKeyring is an in-memory KeyringBackend that can fail or hang on demand.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[string]string
	err   error         // every call fails with it
	hang  chan struct{} // every call waits for it to close
	calls int
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{items: map[string]string{}} }

func (f *fakeKeyring) enter() error {
	f.mu.Lock()
	f.calls++
	hang, err := f.hang, f.err
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return err
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, secret string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"\x00"+user] = secret
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, service+"\x00"+user)
	return nil
}

func (f *fakeKeyring) secret(user string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[ServiceName+"\x00"+user]
	return v, ok
}

func (f *fakeKeyring) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// testToken is recognisable in any output it must not reach.
const testToken = "glpat-SECRET-7f3a9c2e1b"

func testEntry() Entry {
	return Entry{
		Token:     testToken,
		TokenID:   4242,
		TokenName: "kubectl-gitlab on laptop",
		Scopes:    []string{"k8s_proxy", "self_rotate"},
		ExpiresAt: Date{2030, time.March, 31},
		CreatedAt: time.Date(2029, 4, 1, 12, 0, 0, 0, time.UTC),
	}
}

func mustOpen(t *testing.T, kind string, opts Options) Store {
	t.Helper()
	s, err := Open(kind, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", kind, err)
	}
	return s
}

// noToken fails t when text contains the test token.
func noToken(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, testToken) {
		t.Errorf("%s contains the token: %s", what, text)
	}
}

// filesContaining lists the files under root whose bytes contain needle.
func filesContaining(t *testing.T, root, needle string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(needle)) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// helperReport is what the store helpers print on stdout.
type helperReport struct {
	SetErr    string   `json:"set_err,omitempty"`
	GetErrs   []string `json:"get_errs,omitempty"`
	Got       []string `json:"got,omitempty"`
	ListErr   string   `json:"list_err,omitempty"`
	Listed    []Info   `json:"listed,omitempty"`
	DeleteErr string   `json:"delete_err,omitempty"`
	Elapsed   string   `json:"elapsed"`
}

func runHelper(name string) int {
	dir := os.Getenv("TOKENSTORE_DIR")
	switch name {
	case "hold-lock":
		// Take the file store's lock and keep it until killed.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := atomicfile.Acquire(filepath.Join(dir, TokenFileName), time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		return 0

	case "set-many":
		// Store $N tokens named after $WORKER in the file store.
		s, err := Open(KindFile, Options{ConfigDir: dir, LockTimeout: time.Minute})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var n int
		fmt.Sscan(os.Getenv("N"), &n)
		for i := 0; i < n; i++ {
			url := fmt.Sprintf("https://gitlab-%s-%d.example.com", os.Getenv("WORKER"), i)
			if err := s.Set(url, Entry{Token: "tok-" + url}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0

	case "get":
		// Open the auto store and read $URL's token, as get-token does.
		start := time.Now()
		s, err := Open(KindAuto, Options{Notices: os.Stderr})
		if err == nil {
			var e Entry
			if e, err = s.Get(os.Getenv("URL")); err == nil && e.Token == "" {
				err = fmt.Errorf("empty token")
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ok", time.Since(start))
		return 0

	case "store-ops":
		// Run Set, 3×Get, List (and Delete if $DELETE) on the OS keyring
		// in mode $KIND, notices on stderr, a report on stdout.
		if d := os.Getenv("RUN_USER_DIR"); d != "" {
			setRunUserDir(d)
		}
		start := time.Now()
		var rep helperReport
		s, err := Open(os.Getenv("KIND"), Options{ConfigDir: dir, Notices: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		url := "https://GitLab.example.com/"
		if err := s.Set(url, testEntry()); err != nil {
			rep.SetErr = said(err)
		}
		for i := 0; i < 3; i++ {
			e, err := s.Get(url)
			if err != nil {
				rep.GetErrs = append(rep.GetErrs, said(err))
			} else {
				rep.Got = append(rep.Got, e.Token)
			}
		}
		if rep.Listed, err = s.List(); err != nil {
			rep.ListErr = said(err)
		}
		if os.Getenv("DELETE") != "" {
			if err := s.Delete(url); err != nil {
				rep.DeleteErr = said(err)
			}
		}
		rep.Elapsed = time.Since(start).String()
		json.NewEncoder(os.Stdout).Encode(rep)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper", name)
	return 2
}

// said is an error as a person reads it: what, then "; fix: " and the fix.
func said(err error) string {
	if fix := fixable.FixOf(err); fix != "" {
		return err.Error() + "; fix: " + fix
	}
	return err.Error()
}
