//go:build secretservice

// Tests against a real Secret Service. Run them under the script:
//
//	hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 ./pkg/tokenstore/

package tokenstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkeyring"
)

// privateHome points HOME and the XDG dirs at a fresh directory.
func privateHome(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"} {
		t.Setenv(v, "")
	}
	return home
}

func uniqueURL(t *testing.T) string {
	return fmt.Sprintf("https://gitlab-%d.example.com/%s", time.Now().UnixNano(), strings.ToLower(t.Name()))
}

// secretToolLookup is what `secret-tool lookup service kubectl-gitlab username URL` prints.
func secretToolLookup(t *testing.T, url string) (string, bool) {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", ServiceName, "username", url).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return "", false
	}
	if err != nil {
		t.Fatalf("secret-tool: %v", err)
	}
	return string(out), true
}

func TestSecretServiceKeyringStore(t *testing.T) {
	testkeyring.Require(t)
	home := privateHome(t)
	url := uniqueURL(t)
	var notices bytes.Buffer
	s := mustOpen(t, "keyring", Options{Notices: &notices})

	start := time.Now()
	if err := s.Set(strings.ToUpper(url[:8])+url[8:]+"/", testEntry()); err != nil {
		t.Fatal(err)
	}
	setTook := time.Since(start)

	// The item is where secret-tool (libsecret) finds it.
	item, ok := secretToolLookup(t, url)
	if !ok || !strings.HasPrefix(item, `{"token":"`+testToken+`",`) {
		t.Fatalf("secret-tool lookup = %q, %v", item, ok)
	}

	start = time.Now()
	e, err := s.Get(url)
	getTook := time.Since(start)
	if err != nil || e.Token != testToken || e.TokenID != 4242 || e.ExpiresAt.String() != "2030-03-31" {
		t.Fatalf("Get = %v, %v", e, err)
	}
	infos, err := s.List()
	if err != nil || len(infos) != 1 || infos[0].URL != url || infos[0].Kind != KindKeyring {
		t.Fatalf("List = %+v, %v", infos, err)
	}

	// The token is in no file under HOME; the index is, without it.
	if hits := filesContaining(t, home, testToken); len(hits) != 0 {
		t.Errorf("the token is in %v", hits)
	}
	if hits := filesContaining(t, home, url); len(hits) != 1 || filepath.Base(hits[0]) != KeyringIndexFileName {
		t.Errorf("the URL is in %v, want only the index", hits)
	}

	start = time.Now()
	if err := s.Delete(url); err != nil {
		t.Fatal(err)
	}
	deleteTook := time.Since(start)
	if item, ok := secretToolLookup(t, url); ok {
		t.Errorf("secret-tool still finds %q", item)
	}
	if _, err := s.Get(url); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
	if infos, _ := s.List(); len(infos) != 0 {
		t.Errorf("List after Delete = %+v", infos)
	}
	if notices.Len() != 0 {
		t.Errorf("notices: %q", notices.String())
	}
	t.Logf("Set %s, Get %s, Delete %s", setTook, getTook, deleteTook)
}

func TestSecretServiceAutoUsesTheKeyring(t *testing.T) {
	testkeyring.Require(t)
	home := privateHome(t)
	url := uniqueURL(t)
	var notices bytes.Buffer
	s := mustOpen(t, "auto", Options{Notices: &notices})
	if err := s.Set(url, testEntry()); err != nil {
		t.Fatal(err)
	}
	defer s.Delete(url)
	if _, ok := secretToolLookup(t, url); !ok {
		t.Fatal("not in the Secret Service")
	}
	if e, err := s.Get(url); err != nil || e.Token != testToken {
		t.Fatalf("Get = %v, %v", e, err)
	}
	if hits := filesContaining(t, home, testToken); len(hits) != 0 {
		t.Errorf("the token is in %v", hits)
	}
	if notices.Len() != 0 {
		t.Errorf("notices: %q", notices.String())
	}
}

func TestSecretServiceEntryTooBig(t *testing.T) {
	testkeyring.Require(t)
	privateHome(t)
	url := uniqueURL(t)
	e := testEntry()
	e.TokenName = strings.Repeat("x", 70<<10)
	err := mustOpen(t, "keyring", Options{}).Set(url, e)
	var tb *TooBigError
	if !errors.As(err, &tb) || !strings.Contains(said(err), "more than the 65536 that fit; fix: keep it in a file with --token-store=file") {
		t.Fatalf("Set = %v", err)
	}
	noToken(t, "error", err.Error())
	if _, ok := secretToolLookup(t, url); ok {
		t.Error("a too big entry was stored")
	}
}

// What get-token pays: a fresh process that opens the auto store and reads
// one token from the Secret Service.
func TestSecretServiceGetInAFreshProcess(t *testing.T) {
	testkeyring.Require(t)
	privateHome(t)
	url := uniqueURL(t)
	s := mustOpen(t, "auto", Options{})
	if err := s.Set(url, testEntry()); err != nil {
		t.Fatal(err)
	}
	defer s.Delete(url)
	var times []string
	for i := 0; i < 5; i++ {
		cmd := helper(t, "get", "URL="+url)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v", err)
		}
		got, took, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
		if got != "ok" {
			t.Fatalf("helper said %q", out)
		}
		times = append(times, took)
	}
	t.Logf("Open(auto)+Get in a fresh process: %s", strings.Join(times, ", "))
}
