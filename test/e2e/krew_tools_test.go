package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
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
// binary cache, keyed by that module's go.mod and go.sum. A failed build
// fails the test: it must never pass by not running.
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
	dir, err := testprocess.Cached(t, "krew", "krew-"+hex.EncodeToString(h.Sum(nil))[:16], []string{"krew", "validate-krew-manifest"},
		func(dir string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			build := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}, krewPackages...)...)
			build.Dir = module
			// GOWORK=off: a go.work around the checkout must not pull this
			// module into another build list.
			build.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				return fmt.Errorf("building krew in %s: %v\n%s", module, err, out)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return krewTools{Krew: filepath.Join(dir, "krew"), Validator: filepath.Join(dir, "validate-krew-manifest")}
}
