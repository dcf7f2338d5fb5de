package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	d, err := ParseDate("2030-03-31")
	if err != nil || d != (Date{2030, time.March, 31}) || d.String() != "2030-03-31" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	if got := d.UTCMidnight(); !got.Equal(time.Date(2030, 3, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTCMidnight = %v", got)
	}
	if _, err := ParseDate("31.03.2030"); err == nil {
		t.Error("ParseDate accepted 31.03.2030")
	}
	// JSON: a day, omitted when zero, null/"" read as zero.
	b, _ := json.Marshal(Entry{Token: "x", ExpiresAt: d})
	if !strings.Contains(string(b), `"expires_at":"2030-03-31"`) {
		t.Errorf("marshal: %s", b)
	}
	b, _ = json.Marshal(Entry{Token: "x"})
	if strings.Contains(string(b), "expires_at") || strings.Contains(string(b), "stored_at") {
		t.Errorf("zero values not omitted: %s", b)
	}
	for _, in := range []string{`{"expires_at":null}`, `{"expires_at":""}`, `{}`} {
		var e Entry
		if err := json.Unmarshal([]byte(in), &e); err != nil || !e.ExpiresAt.IsZero() {
			t.Errorf("unmarshal %s = %v, %v", in, e.ExpiresAt, err)
		}
	}
}

// Printing an Entry by mistake must not print its token.
func TestEntryFormattingHidesTheToken(t *testing.T) {
	e := testEntry()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		noToken(t, verb, sprintf(verb, e))
		noToken(t, verb+" of a pointer", sprintf(verb, &e))
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for kind, wantKind := range map[string]string{"": KindAuto, "auto": KindAuto, "keyring": KindKeyring, "file": KindFile, "none": KindNone} {
		s := mustOpen(t, kind, Options{ConfigDir: dir, Keyring: newFakeKeyring()})
		if s.Kind() != wantKind {
			t.Errorf("Open(%q).Kind() = %q", kind, s.Kind())
		}
		if s.Where() == "" {
			t.Errorf("Open(%q).Where() is empty", kind)
		}
	}
	_, err := Open("vault", Options{ConfigDir: dir})
	if err == nil || !strings.Contains(err.Error(), `unknown token store "vault": use one of auto, keyring, file, none`) {
		t.Errorf("Open(vault) = %v", err)
	}
	// Open does no I/O: nothing appears in the config dir.
	mustOpen(t, "auto", Options{ConfigDir: dir + "/sub"})
	if _, err := os.Stat(dir + "/sub"); err == nil {
		t.Error("Open created the config dir")
	}
}

func TestDefaultConfigDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	s := mustOpen(t, "file", Options{})
	want, _ := os.UserConfigDir()
	if s.Where() != want+"/kubectl-gitlab/tokens.json" {
		t.Errorf("Where() = %q, want under %q", s.Where(), want)
	}
}

func TestNoneStore(t *testing.T) {
	s := mustOpen(t, "none", Options{})
	if _, err := s.Get("https://gitlab.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
	err := s.Set("https://gitlab.com", testEntry())
	if err == nil || !strings.Contains(err.Error(), "--token-store=none keeps no tokens") || !strings.Contains(said(err), "$GITLAB_TOKEN") {
		t.Errorf("Set = %v", err)
	}
	noToken(t, "Set error", err.Error())
	if infos, err := s.List(); err != nil || len(infos) != 0 {
		t.Errorf("List = %v, %v", infos, err)
	}
	if err := s.Delete("https://gitlab.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete = %v, want ErrNotFound", err)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
