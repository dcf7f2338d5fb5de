package tokenstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testRefreshToken = "oauth-refresh-SECRET-91c4"

func webEntry() Entry {
	e := testEntry()
	e.Origin, e.User, e.ClientID, e.RefreshToken = OriginWeb, "alice", "cli-app", testRefreshToken
	return e
}

// An OAuth refresh token (scope api) goes to the OS keyring or nowhere:
// the file store refuses it, and auto mode does not fall back to the
// file for it, leaving no file behind.
func TestRefreshTokenOnlyInTheKeyring(t *testing.T) {
	const url = "https://gitlab.example.com"
	kr := newFakeKeyring()
	k := mustOpen(t, "keyring", Options{ConfigDir: t.TempDir(), Keyring: kr})
	if err := k.Set(url, webEntry()); err != nil {
		t.Fatal(err)
	}
	if e, err := k.Get(url); err != nil || e.RefreshToken != testRefreshToken || !e.Minted() || e.ClientID != "cli-app" {
		t.Fatalf("keyring Get = %v, %v", e, err)
	}
	infos, _ := k.List()
	if len(infos) != 1 || !infos[0].RefreshTokenKept || infos[0].Origin != OriginWeb || infos[0].User != "alice" {
		t.Errorf("List = %+v", infos)
	}

	for name, opts := range map[string]func(dir string) (string, Options){
		"file": func(dir string) (string, Options) { return "file", Options{ConfigDir: dir} },
		"auto, no keyring": func(dir string) (string, Options) {
			return "auto", Options{ConfigDir: dir, Keyring: &fakeKeyring{err: errors.New("no D-Bus")}}
		},
		"auto, entry too big": func(dir string) (string, Options) {
			return "auto", Options{ConfigDir: dir, Keyring: newFakeKeyring()}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			kind, o := opts(dir)
			var notices bytes.Buffer
			o.Notices = &notices
			s := mustOpen(t, kind, o)
			e := webEntry()
			if name == "auto, entry too big" {
				e.TokenName = strings.Repeat("x", 70<<10) // over the Secret Service's limit
			}
			err := s.Set(url, e)
			if !errors.Is(err, ErrRefreshTokenNeedsKeyring) {
				t.Fatalf("Set = %v", err)
			}
			noToken(t, "the error", err.Error())
			if strings.Contains(err.Error(), testRefreshToken) {
				t.Errorf("the error shows the refresh token: %v", err)
			}
			if hits := filesContaining(t, dir, testRefreshToken); len(hits) != 0 {
				t.Errorf("the refresh token reached %v", hits)
			}
			if _, statErr := os.Stat(filepath.Join(dir, TokenFileName)); statErr == nil {
				t.Errorf("%s was written", TokenFileName)
			}
			// The same entry without its refresh token is kept.
			e.RefreshToken = ""
			if name != "auto, entry too big" {
				if err := s.Set(url, e); err != nil {
					t.Errorf("without the refresh token: %v", err)
				}
			}
		})
	}
}

func TestEntryFormattingHidesTheRefreshToken(t *testing.T) {
	e := webEntry()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := sprintf(verb, e); strings.Contains(s, testRefreshToken) || !strings.Contains(s, "refresh_token_kept:true") {
			t.Errorf("%s: %s", verb, s)
		}
	}
}
