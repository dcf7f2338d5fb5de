package testprocess

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// CacheEnv names the environment variable that overrides where built
// binaries are kept (default: the user cache dir).
const CacheEnv = "KUBECTL_GITLAB_E2E_CACHE"

// CacheRoot is the directory under which tests keep the binaries they build.
func CacheRoot() (string, error) {
	if dir := os.Getenv(CacheEnv); dir != "" {
		return filepath.Abs(dir)
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(dir, "kubectl-gitlab-e2e"), nil
}

// buildMu serializes builds within one test binary; Lock does the same
// across the test binaries that `go test ./...` runs at once.
var buildMu sync.Mutex

// Cached returns CacheRoot()/name, a directory that holds files, built by
// build into an empty directory the first time and reused afterwards. name
// should carry a hash of everything the build depends on. The directory is
// renamed into place only when complete, so a killed build leaves nothing a
// later run would take for a cache hit; the next build removes what it left.
// build may keep scratch files in its directory if it removes them before
// it returns. what names the binaries in logs.
func Cached(t testing.TB, what, name string, files []string, build func(dir string) error) (string, error) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	root, err := CacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, name)
	if present(dir, files) {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	unlock, err := Lock(filepath.Join(root, name+".lock"))
	if err != nil {
		return "", fmt.Errorf("locking the binary cache: %w", err)
	}
	defer unlock()
	// Another process may have finished the build while we waited.
	if present(dir, files) {
		return dir, nil
	}
	// Under the lock, a temporary directory of this name is what a killed
	// build left behind.
	if stale, err := filepath.Glob(filepath.Join(root, name+".tmp-*")); err == nil {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}

	t.Logf("building %s into %s (a cold build takes minutes)", what, dir)
	began := time.Now()
	tmp, err := os.MkdirTemp(root, name+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := build(tmp); err != nil {
		return "", err
	}
	if !present(tmp, files) {
		return "", fmt.Errorf("building %s left out one of %q", what, files)
	}
	// MkdirTemp made it private; the cache may be shared, e.g. by CI users.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	// A directory left incomplete by hand would make the rename fail.
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	t.Logf("built %s in %v", what, time.Since(began).Round(time.Second))
	return dir, nil
}

func present(dir string, files []string) bool {
	for _, name := range files {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || !info.Mode().IsRegular() {
			return false
		}
	}
	return true
}
