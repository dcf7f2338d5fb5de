package tokenstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAutoUsesTheKeyringWhenItWorks(t *testing.T) {
	dir := t.TempDir()
	kr := newFakeKeyring()
	var notices bytes.Buffer
	s := mustOpen(t, "auto", Options{ConfigDir: dir, Keyring: kr, Notices: &notices})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatal(err)
	}
	if _, ok := kr.secret("https://gitlab.example.com"); !ok {
		t.Fatal("not in the keyring")
	}
	if _, err := os.Stat(filepath.Join(dir, "tokens.json")); err == nil {
		t.Error("tokens.json written although the keyring works")
	}
	if e, err := s.Get("https://gitlab.example.com"); err != nil || e.Token != testToken {
		t.Fatalf("Get = %v, %v", e, err)
	}
	infos, err := s.List()
	if err != nil || len(infos) != 1 || infos[0].Kind != "keyring" {
		t.Fatalf("List = %+v, %v", infos, err)
	}
	if err := s.Delete("https://gitlab.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
	if notices.Len() != 0 {
		t.Errorf("notices: %q", notices.String())
	}
}

// Any keyring error sends auto mode to the file, with one notice line for
// the whole store however many calls follow, and no further keyring calls.
func TestAutoFallsBackToTheFileOnAnyKeyringError(t *testing.T) {
	for name, breakIt := range map[string]func(*fakeKeyring){
		"error": func(kr *fakeKeyring) {
			kr.err = errors.New("org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files")
		},
		"hang": func(kr *fakeKeyring) { kr.hang = make(chan struct{}) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			kr := newFakeKeyring()
			breakIt(kr)
			if kr.hang != nil {
				defer close(kr.hang)
			}
			var notices bytes.Buffer
			s := mustOpen(t, "auto", Options{ConfigDir: dir, Keyring: kr, Notices: &notices, KeyringTimeout: 100 * time.Millisecond})
			start := time.Now()
			if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if e, err := s.Get("https://gitlab.example.com"); err != nil || e.Token != testToken {
					t.Fatalf("Get = %v, %v", e, err)
				}
			}
			infos, err := s.List()
			if err != nil || len(infos) != 1 || infos[0].Kind != "file" {
				t.Fatalf("List = %+v, %v", infos, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s: the keyring was waited for more than once", d)
			}
			if kr.callCount() != 1 {
				t.Errorf("%d keyring calls, want 1", kr.callCount())
			}
			path := filepath.Join(dir, "tokens.json")
			if got := mode(t, path); got != 0o600 {
				t.Errorf("mode %04o", got)
			}
			lines := strings.Split(strings.TrimSuffix(notices.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "notice: no OS keyring (") || !strings.HasSuffix(lines[0], "); keeping the token in "+path+" (mode 0600)") {
				t.Errorf("notices = %q", notices.String())
			}
			noToken(t, "notice", notices.String())
		})
	}
}

func TestAutoPutsATooBigEntryInTheFile(t *testing.T) {
	dir := t.TempDir()
	var notices bytes.Buffer
	s := mustOpen(t, "auto", Options{ConfigDir: dir, Keyring: newFakeKeyring(), Notices: &notices})
	e := testEntry()
	e.TokenName = strings.Repeat("n", 70<<10)
	if err := s.Set("https://gitlab.example.com", e); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("https://gitlab.example.com"); err != nil || got.TokenName != e.TokenName {
		t.Fatalf("Get = %v", err)
	}
	if !strings.HasPrefix(notices.String(), "notice: the token does not fit the OS keyring") || strings.Count(notices.String(), "\n") != 1 {
		t.Errorf("notices = %q", notices.String())
	}
}

// After a fallback, a later login that reaches the keyring drops the file
// copy; and a file entry newer than the keyring's wins.
func TestAutoKeepsOneCurrentCopy(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Minute); return now }
	kr := newFakeKeyring()

	// The keyring has an old token; over ssh, without it, a new one went to the file.
	mustOpen(t, "keyring", Options{ConfigDir: dir, Keyring: kr, Now: clock}).Set("https://gitlab.example.com", Entry{Token: "old"})
	mustOpen(t, "file", Options{ConfigDir: dir, Now: clock}).Set("https://gitlab.example.com", Entry{Token: "new"})

	s := mustOpen(t, "auto", Options{ConfigDir: dir, Keyring: kr, Now: clock})
	if e, err := s.Get("https://gitlab.example.com"); err != nil || e.Token != "new" {
		t.Fatalf("Get = %q, %v; want the newer file entry", e.Token, err)
	}
	if err := s.Set("https://gitlab.example.com", Entry{Token: "newest"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mustOpen(t, "file", Options{ConfigDir: dir}).Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the file copy survived a keyring login: %v", err)
	}
	if e, err := s.Get("https://gitlab.example.com"); err != nil || e.Token != "newest" {
		t.Fatalf("Get = %q, %v", e.Token, err)
	}

	// Delete removes it from both places.
	mustOpen(t, "file", Options{ConfigDir: dir}).Set("https://gitlab.example.com", Entry{Token: "file"})
	if err := s.Delete("https://gitlab.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
	if err := s.Delete("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v", err)
	}
}

func TestAutoRefusesAnInsecureFileAfterFallingBack(t *testing.T) {
	dir := t.TempDir()
	kr := newFakeKeyring()
	kr.err = errors.New("no keyring")
	s := mustOpen(t, "auto", Options{ConfigDir: dir, Keyring: kr})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokens.json")
	os.Chmod(path, 0o644)
	_, err := s.Get("https://gitlab.example.com")
	if err == nil || !strings.Contains(err.Error(), "its mode is 0644") || !strings.Contains(said(err), "chmod 600 "+path) {
		t.Errorf("Get = %v", err)
	}
}

// With the keyring down and nothing in the file, Delete cannot tell whether
// the keyring holds the token: it says why instead of "not found".
func TestAutoDeleteWithTheKeyringDown(t *testing.T) {
	kr := newFakeKeyring()
	kr.err = errors.New("no keyring")
	s := mustOpen(t, "auto", Options{ConfigDir: t.TempDir(), Keyring: kr})
	err := s.Delete("https://gitlab.example.com")
	var ke *KeyringError
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "cannot remove the token for https://gitlab.example.com from") {
		t.Errorf("Delete = %v", err)
	}
}
