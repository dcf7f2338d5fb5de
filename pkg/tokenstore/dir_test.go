//go:build unix

package tokenstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
)

// TestFileStoreRefusesADirectoryOthersMayWrite: a token store directory
// (or one above it) that other users may write is refused for reading and
// writing, with the chmod that fixes it; nothing is written there.
func TestFileStoreRefusesADirectoryOthersMayWrite(t *testing.T) {
	for _, c := range []struct {
		name    string
		chmod   string // relative to the temp dir
		mode    os.FileMode
		culprit string
	}{
		{"world-writable", "kubectl-gitlab", 0o777, "kubectl-gitlab"},
		{"group-writable", "kubectl-gitlab", 0o770, "kubectl-gitlab"},
		{"world-writable parent", ".", 0o777, "."},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "kubectl-gitlab")
			s := mustOpen(t, "file", Options{ConfigDir: dir})
			if err := s.Set("https://gitlab.example.com", testEntry()); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(base, c.chmod), c.mode); err != nil {
				t.Fatal(err)
			}
			culprit := filepath.Clean(filepath.Join(base, c.culprit))
			_, getErr := s.Get("https://gitlab.example.com")
			_, listErr := s.List()
			setErr := s.Set("https://other.example.com", testEntry())
			for op, err := range map[string]error{"Get": getErr, "List": listErr, "Set": setErr} {
				var r *atomicfile.RefusedError
				if !errors.As(err, &r) || !strings.Contains(err.Error(), "writable by other users") || !strings.HasPrefix(r.Fix(), "chmod go-w "+culprit) {
					t.Errorf("%s = %v", op, err)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("files in the store directory: %v", entries)
			}
		})
	}
}

// TestFileStoreLockIsNeverFollowed: a tokens.json.lock planted as a symlink
// is refused; the file it points to stays as it was.
func TestFileStoreLockIsNeverFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(victim, old, old)
	if err := os.Symlink(victim, filepath.Join(dir, TokenFileName+".lock")); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, "file", Options{ConfigDir: dir, LockTimeout: 2 * time.Second})
	err := s.Set("https://gitlab.example.com", testEntry())
	var r *atomicfile.RefusedError
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Set = %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep\n" {
		t.Errorf("the link's target was written: %q", data)
	}
}
