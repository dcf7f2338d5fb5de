package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testapiserver"
)

const (
	// krewToolsModule pins krew, relative to the repository root.
	krewToolsModule = "test/e2e/tools/krew"

	// krewBuildRecipe is part of the cache key: change it whenever the way
	// the tools are built changes, so that old builds are not reused.
	krewBuildRecipe = "krew v1 CGO_ENABLED=0 -trimpath"
)

// krewTools are krew itself and krew-index's manifest validator.
type krewTools struct {
	Krew      string
	Validator string
}

var krewPackages = []string{"sigs.k8s.io/krew/cmd/krew", "sigs.k8s.io/krew/cmd/validate-krew-manifest"}

// buildKrewTools returns krew and validate-krew-manifest built from the
// versions pinned in test/e2e/tools/krew. They are built once into the e2e
// binary cache (as internal/testing/testapiserver does for kube-apiserver), keyed by
// that module's go.mod and go.sum. A failed build fails the test: it must
// never pass by not running.
func buildKrewTools(t *testing.T) krewTools {
	t.Helper()
	module := filepath.Join(moduleRoot(), filepath.FromSlash(krewToolsModule))
	h := sha256.New()
	h.Write([]byte(krewBuildRecipe))
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(module, name))
		if err != nil {
			t.Fatalf("krew tools module: %v", err)
		}
		h.Write(data)
	}
	root := e2eCacheRoot(t)
	dir := filepath.Join(root, "krew-"+hex.EncodeToString(h.Sum(nil))[:16])
	tools := krewTools{Krew: filepath.Join(dir, "krew"), Validator: filepath.Join(dir, "validate-krew-manifest")}
	if tools.present() {
		return tools
	}

	// Build into a fresh directory and rename it into place, so that dir is
	// either absent or complete. Two concurrent cold runs both build; the
	// second rename fails harmlessly.
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(root, filepath.Base(dir)+".tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Logf("building krew into %s (cold, this can take a minute)", dir)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-o", tmp + string(filepath.Separator)}, krewPackages...)...)
	build.Dir = module
	// GOWORK=off: a go.work around the checkout must not pull this module
	// into another build list.
	build.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building krew in %s: %v\n%s", module, err, out)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp made it private; the cache may be shared
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil && !tools.present() {
		t.Fatalf("caching krew: %v", err)
	}
	t.Logf("built krew in %v", time.Since(began).Round(time.Second))
	return tools
}

func (k krewTools) present() bool {
	for _, p := range []string{k.Krew, k.Validator} {
		if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// e2eCacheRoot is where the e2e tests keep built binaries: the directory
// internal/testing/testapiserver uses, so one variable moves them all.
func e2eCacheRoot(t *testing.T) string {
	if dir := os.Getenv(testapiserver.CacheEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache directory (set %s): %v", testapiserver.CacheEnv, err)
	}
	return filepath.Join(dir, "kubectl-gitlab-e2e")
}
