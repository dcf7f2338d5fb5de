package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkubeconfig"
)

// bigKubeconfig writes testkubeconfig.PlatformTeam's 5,000 contexts to a
// file.
func bigKubeconfig(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "config")
	if err := os.WriteFile(path, testkubeconfig.PlatformTeam(5000), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// newestKubectl is the kubectl to compare with: the newest versioned one of
// the Google Cloud SDK, else kubectl on PATH.
func newestKubectl(b *testing.B) string {
	versioned, _ := filepath.Glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*")
	if len(versioned) > 0 {
		sort.Slice(versioned, func(i, j int) bool { return minor(versioned[i]) < minor(versioned[j]) })
		return versioned[len(versioned)-1]
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		b.Fatal("no kubectl to compare with")
	}
	return p
}

func minor(path string) int {
	var n int
	fmt.Sscanf(path[strings.LastIndex(path, ".")+1:], "%d", &n)
	return n
}

// restore copies the pristine file over a working copy, before each run.
func restore(from, to string) func() error {
	data, err := os.ReadFile(from)
	return func() error {
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o600)
	}
}

// scaleRounds bounds the rounds of the 5,000-context benchmarks: kubectl
// takes most of a second per use-context there.
const scaleRounds = 40

// BenchmarkScaleGetContexts: listing 5,000 contexts.
func BenchmarkScaleGetContexts(b *testing.B) {
	path := bigKubeconfig(b)
	env := []string{"HOME=" + b.TempDir()}
	compareRounds(b, "5,000 contexts: get-contexts", scaleRounds,
		command{Name: "kubectl config get-contexts", Path: newestKubectl(b), Args: []string{"config", "get-contexts", "--kubeconfig", path}, Env: env},
		command{Name: "kubectl-gitlab get-contexts --all", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: []string{"get-contexts", "--all", "--kubeconfig", path}, Env: env},
		command{Name: "kubectl-gitlab get-contexts", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: []string{"get-contexts", "--kubeconfig", path}, Env: env},
	)
}

// BenchmarkScaleUseContext: switching contexts in a 5,000-context file,
// each run on a fresh copy of the same file.
func BenchmarkScaleUseContext(b *testing.B) {
	pristine := bigKubeconfig(b)
	dir := b.TempDir()
	theirs, ours := filepath.Join(dir, "kubectl-copy"), filepath.Join(dir, "plugin-copy")
	target := testkubeconfig.AgentContext(2520)
	env := []string{"HOME=" + b.TempDir()}
	compareRounds(b, "5,000 contexts: use-context", scaleRounds,
		command{Name: "kubectl config use-context", Path: newestKubectl(b), Args: []string{"config", "use-context", target, "--kubeconfig", theirs}, Env: env, Setup: restore(pristine, theirs)},
		command{Name: "kubectl-gitlab use-context", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: []string{"use-context", target, "--kubeconfig", ours}, Env: env, Setup: restore(pristine, ours)},
	)
}
