package tokenstore

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFileStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubectl-gitlab")
	now := time.Date(2029, 5, 1, 8, 0, 0, 0, time.UTC)
	s := mustOpen(t, "file", Options{ConfigDir: dir, Now: func() time.Time { return now }})
	path := filepath.Join(dir, "tokens.json")
	if s.Where() != path {
		t.Fatalf("Where() = %q", s.Where())
	}

	if _, err := s.Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set = %v, want ErrNotFound", err)
	}
	if err := s.Set("https://GitLab.example.com/", testEntry()); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("file mode %04o, want 0600", got)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("dir mode %04o, want 0700", got)
	}

	e, err := s.Get("gitlab.example.com")
	want := testEntry()
	want.StoredAt = now
	if err != nil || fmt.Sprint(e) != fmt.Sprint(want) || e.Token != testToken || !e.StoredAt.Equal(now) || !e.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("Get = %v, %v; want %v", e, err, want)
	}

	if err := s.Set("https://other.example.com:8443", Entry{Token: "other"}); err != nil {
		t.Fatal(err)
	}
	infos, err := s.List()
	if err != nil || len(infos) != 2 {
		t.Fatalf("List = %v, %v", infos, err)
	}
	if infos[0].URL != "https://gitlab.example.com" || infos[0].Kind != "file" || infos[0].Where != path || infos[0].ExpiresAt.String() != "2030-03-31" || infos[1].URL != "https://other.example.com:8443" {
		t.Errorf("List = %+v", infos)
	}
	noToken(t, "List", fmt.Sprintf("%+v", infos))

	if err := s.Delete("https://gitlab.example.com/"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("https://gitlab.example.com/"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	if _, err := s.Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Get after Delete = %v", err)
	}
	if err := s.Set("https://x.example.com", Entry{}); err == nil {
		t.Error("Set stored an empty token")
	}
	// Only the file remains: no temp file, no lock file.
	names, _ := os.ReadDir(dir)
	if len(names) != 1 {
		t.Errorf("dir holds %v", names)
	}
}

func TestFileStoreRefusesAFileOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, "file", Options{ConfigDir: dir})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokens.json")
	for _, m := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		for op, call := range map[string]func() error{
			"Get":    func() error { _, err := s.Get("https://gitlab.example.com"); return err },
			"List":   func() error { _, err := s.List(); return err },
			"Set":    func() error { return s.Set("https://gitlab.example.com", testEntry()) },
			"Delete": func() error { return s.Delete("https://gitlab.example.com") },
		} {
			err := call()
			want := fmt.Sprintf("refusing to read %s: its mode is %04o, so other users can read the tokens in it; fix: chmod 600 %s", path, m, path)
			if err == nil || !strings.Contains(said(err), want) {
				t.Errorf("%s with mode %04o = %v\nwant: %s", op, m, err, want)
			}
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("https://gitlab.example.com"); err != nil {
		t.Errorf("after chmod 600: %v", err)
	}
}

func TestFileStoreRefusesAFileOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	dir := t.TempDir()
	s := mustOpen(t, "file", Options{ConfigDir: dir})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokens.json")
	if err := os.Chown(path, 4321, 4321); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get("https://gitlab.example.com")
	if err == nil || !strings.Contains(err.Error(), "it belongs to uid 4321, not to you (uid 0)") || !strings.Contains(said(err), "chmod 600 "+path) {
		t.Errorf("Get = %v", err)
	}
}

func TestFileStoreBadFileNamesWhereNotWhat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	bad := "{\"version\":1,\n\"tokens\":{\"https://a\":{\"token\":\"" + testToken + "\"}},\n" + testToken + "}"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, "file", Options{ConfigDir: dir})
	_, err := s.Get("https://a")
	if err == nil || !strings.Contains(err.Error(), path+": not the JSON that kubectl-gitlab writes (near line 3)") {
		t.Fatalf("Get = %v", err)
	}
	noToken(t, "error", err.Error())
	if err := s.Set("https://a", testEntry()); err == nil {
		t.Error("Set overwrote a file it cannot read")
	}
	if data, _ := os.ReadFile(path); string(data) != bad {
		t.Error("the bad file was changed")
	}

	if err := os.WriteFile(path, []byte(`{"version":2,"tokens":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("https://a"); err == nil || !strings.Contains(err.Error(), "written by a newer kubectl-gitlab") {
		t.Errorf("Get of a version 2 file = %v", err)
	}
}

// Many writers at once, each with its own store (and so its own lock file
// descriptor), lose no entry.
func TestFileStoreConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := mustOpen(t, "file", Options{ConfigDir: dir, LockTimeout: time.Minute})
			errs <- s.Set(fmt.Sprintf("https://gitlab-%d.example.com", i), Entry{Token: fmt.Sprint("tok-", i)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	checkURLs(t, dir, writers, func(i int) string { return fmt.Sprintf("https://gitlab-%d.example.com", i) })
}

// The same across processes.
func TestFileStoreConcurrentProcessesLoseNothing(t *testing.T) {
	dir := t.TempDir()
	const workers, each = 8, 10
	var cmds []*exec.Cmd
	for w := 0; w < workers; w++ {
		cmd := helper(t, "set-many", "TOKENSTORE_DIR="+dir, fmt.Sprint("WORKER=", w), fmt.Sprint("N=", each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer: %v", err)
		}
	}
	checkURLs(t, dir, workers*each, func(i int) string {
		return fmt.Sprintf("https://gitlab-%d-%d.example.com", i/each, i%each)
	})
}

func checkURLs(t *testing.T, dir string, n int, url func(int) string) {
	t.Helper()
	infos, err := mustOpen(t, "file", Options{ConfigDir: dir}).List()
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, in := range infos {
		got = append(got, in.URL)
	}
	for i := 0; i < n; i++ {
		want = append(want, url(i))
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stored %d URLs, want %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
}

// A live holder of the lock makes a writer time out with a clear error; a
// holder killed with SIGKILL leaves nothing that blocks the next writer.
func TestFileStoreLockHeldThenHolderKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := helper(t, "hold-lock", "TOKENSTORE_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}

	s := mustOpen(t, "file", Options{ConfigDir: dir, LockTimeout: 300 * time.Millisecond})
	start := time.Now()
	err = s.Set("https://gitlab.example.com", testEntry())
	lock := filepath.Join(dir, "tokens.json.lock")
	if err == nil || !strings.Contains(err.Error(), "waiting for the lock "+lock+" after 300ms: another kubectl or kubectl-gitlab is writing") || !strings.Contains(err.Error(), "try again when it has finished") {
		t.Fatalf("Set while locked = %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("gave up after %s, want about 300ms", d)
	}
	// Readers never wait for the lock.
	if _, err := s.Get("https://gitlab.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get while locked = %v", err)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no clean-up in the holder
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("the lock file should still be there, as after a crash: %v", err)
	}
	start = time.Now()
	s = mustOpen(t, "file", Options{ConfigDir: dir, LockTimeout: 5 * time.Second})
	if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
		t.Fatalf("Set after the holder died: %v", err)
	}
	t.Logf("Set after a killed holder took %s", time.Since(start))
}
