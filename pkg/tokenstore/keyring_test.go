package tokenstore

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// Note: go-keyring's MockInit swaps a process-wide provider for good, which
// would turn the real-keyring tests in this binary into mock tests; the
// fake backend is injected instead.

func TestKeyringStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	kr := newFakeKeyring()
	s := mustOpen(t, "keyring", Options{ConfigDir: dir, Keyring: kr})

	if _, err := s.Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set = %v", err)
	}
	if err := s.Set("https://GitLab.example.com/", testEntry()); err != nil {
		t.Fatal(err)
	}
	// One item: service kubectl-gitlab, user the normalised URL, the entry as compact JSON.
	secret, ok := kr.secret("https://gitlab.example.com")
	if !ok || !strings.HasPrefix(secret, `{"token":"`+testToken+`","token_id":4242,`) || strings.Contains(secret, "\n") {
		t.Fatalf("keyring item = %q, %v", secret, ok)
	}
	e, err := s.Get("gitlab.example.com")
	if err != nil || e.Token != testToken || e.TokenName != "kubectl-gitlab on laptop" || e.ExpiresAt.String() != "2030-03-31" || e.StoredAt.IsZero() {
		t.Fatalf("Get = %v, %v", e, err)
	}

	// List comes from the index file, which holds no token.
	infos, err := s.List()
	if err != nil || len(infos) != 1 || infos[0].URL != "https://gitlab.example.com" || infos[0].Kind != "keyring" || infos[0].Where != s.Where() || infos[0].ExpiresAt.String() != "2030-03-31" {
		t.Fatalf("List = %+v, %v", infos, err)
	}
	if hits := filesContaining(t, dir, testToken); len(hits) != 0 {
		t.Errorf("the token is in %v", hits)
	}
	if got := mode(t, filepath.Join(dir, "keyring-index.json")); got != 0o600 {
		t.Errorf("index mode %04o", got)
	}

	if err := s.Delete("https://gitlab.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, ok := kr.secret("https://gitlab.example.com"); ok {
		t.Error("Delete left the item")
	}
	if infos, _ := s.List(); len(infos) != 0 {
		t.Errorf("List after Delete = %+v", infos)
	}
	if err := s.Delete("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v", err)
	}
}

// An item removed behind our back (seahorse, secret-tool) leaves an index
// entry that Delete cleans up without complaint.
func TestKeyringStoreDeleteCleansAStaleIndexEntry(t *testing.T) {
	dir := t.TempDir()
	kr := newFakeKeyring()
	s := mustOpen(t, "keyring", Options{ConfigDir: dir, Keyring: kr})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatal(err)
	}
	kr.Delete(ServiceName, "https://gitlab.example.com")
	if err := s.Delete("https://gitlab.example.com"); err != nil {
		t.Errorf("Delete = %v", err)
	}
	if infos, _ := s.List(); len(infos) != 0 {
		t.Errorf("List = %+v", infos)
	}
}

func TestKeyringStoreEntryTooBig(t *testing.T) {
	for _, c := range []struct {
		goos, keyring string
		nameLen       int
		want          string
	}{
		{"darwin", "", 3000, "more than the 4096 that fit"},
		{"windows", "", 2500, "more than the 2560 that fit"},
		{"linux", "", 70 << 10, "more than the 65536 that fit"},
	} {
		t.Run(c.goos, func(t *testing.T) {
			kr := newFakeKeyring()
			s := newKeyringStore(t.TempDir(), nil, Options{Keyring: kr, KeyringTimeout: time.Second, Now: time.Now})
			s.goos = c.goos
			e := testEntry()
			e.TokenName = strings.Repeat("n", c.nameLen)
			err := s.Set("https://gitlab.example.com", e)
			var tb *TooBigError
			if !errors.As(err, &tb) || !strings.Contains(err.Error(), "cannot store the token for https://gitlab.example.com in "+s.Where()+": the entry (token, name, scopes and URL) needs ") ||
				!strings.Contains(said(err), c.want) || !strings.Contains(said(err), "fix: keep it in a file with --token-store=file") {
				t.Fatalf("Set = %v", err)
			}
			noToken(t, "error", err.Error())
			if kr.callCount() != 0 {
				t.Error("the keyring was called although the entry cannot fit")
			}
			// A normal entry fits everywhere.
			if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
				t.Errorf("a normal entry: %v", err)
			}
		})
	}

	// go-keyring's own refusal is reported the same way.
	kr := newFakeKeyring()
	kr.err = keyring.ErrSetDataTooBig
	err := mustOpen(t, "keyring", Options{ConfigDir: t.TempDir(), Keyring: kr}).Set("https://gitlab.example.com", testEntry())
	var tb *TooBigError
	if !errors.As(err, &tb) || !strings.Contains(said(err), "is too big for it; fix: keep it in a file with --token-store=file") {
		t.Errorf("Set with ErrSetDataTooBig = %v", err)
	}
}

// keyringCapacity must agree with the command go-keyring builds on macOS.
func TestKeyringCapacityDarwinMatchesGoKeyring(t *testing.T) {
	unsafe := regexp.MustCompile(`[^\w@%+=:,./-]`)
	quote := func(s string) string { // go-keyring's internal/shellescape.Quote
		if s == "" {
			return "''"
		}
		if unsafe.MatchString(s) {
			return "'" + strings.ReplaceAll(s, "'", "'\"'\"'") + "'"
		}
		return s
	}
	for _, c := range []struct{ service, user, secret string }{
		{ServiceName, "https://gitlab.example.com", `{"token":"x"}`},
		{ServiceName, "https://gitlab.example.com/it's a path", strings.Repeat("é", 1000)},
		{"", "https://[::1]:8443", ""},
	} {
		pw := "go-keyring-base64:" + base64.StdEncoding.EncodeToString([]byte(c.secret))
		cmd := fmt.Sprintf("add-generic-password -U -s %s -a %s -w %s\n", quote(c.service), quote(c.user), quote(pw))
		if used, limit := keyringCapacity("darwin", c.service, c.user, c.secret); used != len(cmd) || limit != 4096 {
			t.Errorf("keyringCapacity(darwin, %q, %q) = %d, %d; go-keyring's command is %d bytes", c.service, c.user, used, limit, len(cmd))
		}
	}
}

func TestKeyringStoreTimesOut(t *testing.T) {
	kr := newFakeKeyring()
	kr.hang = make(chan struct{})
	defer close(kr.hang)
	s := mustOpen(t, "keyring", Options{ConfigDir: t.TempDir(), Keyring: kr, KeyringTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := s.Get("https://gitlab.example.com")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Get took %s", d)
	}
	var ke *KeyringError
	if !errors.As(err, &ke) || !strings.Contains(said(err), "cannot read the token for https://gitlab.example.com from "+s.Where()+": it did not answer within 200ms") || !strings.Contains(said(err), "; fix: ") || !strings.Contains(said(err), "--token-store=file") {
		t.Errorf("Get = %v", err)
	}
}

type panickyKeyring struct{ fakeKeyring }

func (*panickyKeyring) Get(string, string) (string, error) { panic("interface conversion: surprise") }

func TestKeyringStoreSurvivesAPanickingLibrary(t *testing.T) {
	s := mustOpen(t, "keyring", Options{ConfigDir: t.TempDir(), Keyring: &panickyKeyring{}})
	_, err := s.Get("https://gitlab.example.com")
	if err == nil || !strings.Contains(err.Error(), "the keyring library failed: interface conversion: surprise") {
		t.Errorf("Get = %v", err)
	}
}

// echoKeyring fails Set with an error that quotes what it was given.
type echoKeyring struct{ fakeKeyring }

func (*echoKeyring) Set(service, user, secret string) error {
	return fmt.Errorf("org.freedesktop.DBus.Error.Failed: cannot store %q", secret)
}

func TestKeyringErrorsNeverQuoteTheToken(t *testing.T) {
	s := mustOpen(t, "keyring", Options{ConfigDir: t.TempDir(), Keyring: &echoKeyring{}})
	err := s.Set("https://gitlab.example.com", testEntry())
	if err == nil || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("Set = %v", err)
	}
	noToken(t, "Set error", err.Error())

	// An item that kubectl-gitlab did not write is not quoted either.
	kr := newFakeKeyring()
	kr.Set(ServiceName, "https://gitlab.example.com", testToken)
	s = mustOpen(t, "keyring", Options{ConfigDir: t.TempDir(), Keyring: kr})
	_, err = s.Get("https://gitlab.example.com")
	if err == nil || !strings.Contains(said(err), `is not one that kubectl-gitlab wrote; fix: log in again`) {
		t.Fatalf("Get = %v", err)
	}
	noToken(t, "Get error", err.Error())
}

func TestKeyringStoreWithoutConfigDirStillStores(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	kr := newFakeKeyring()
	s := mustOpen(t, "keyring", Options{Keyring: kr})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get("https://gitlab.example.com"); err != nil || e.Token != testToken {
		t.Fatalf("Get = %v, %v", e, err)
	}
	if _, err := s.List(); err == nil || !strings.Contains(err.Error(), "cannot find the user's config directory") {
		t.Errorf("List = %v", err)
	}
	_, err := Open("file", Options{})
	if err == nil || !strings.Contains(said(err), "fix: set HOME") {
		t.Errorf("Open(file) = %v", err)
	}
}
