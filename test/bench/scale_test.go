package bench

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// bigKubeconfig is what a platform team keeps: 5,000 contexts, half of
// them agent contexts (ci: tokens and exec entries), 50 clusters, some
// with CA data, a comment here and there.
func bigKubeconfig(b *testing.B) string {
	ca := base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\n" + strings.Repeat("MIIB", 220) + "\n-----END CERTIFICATE-----\n"))
	var s strings.Builder
	s.WriteString("# platform team kubeconfig\napiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n")
	for c := range 50 {
		fmt.Fprintf(&s, "- name: kas-%d\n  cluster:\n    server: https://kas-%d.gitlab.example.com/k8s-proxy\n", c, c)
		if c%10 == 0 {
			fmt.Fprintf(&s, "    certificate-authority-data: %s\n", ca)
		}
	}
	s.WriteString("users:\n")
	for i := range 5000 {
		switch {
		case i%4 == 0:
			fmt.Fprintf(&s, "- name: agent:%d\n  user:\n    token: ci:%d:glcbt-64_%08d\n", 100000+i, 100000+i, i)
		case i%4 == 2:
			fmt.Fprintf(&s, "- name: agent:%d\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubectl-gitlab\n      args:\n      - get-token\n      - --agent-id=%d\n      interactiveMode: Never\n", 100000+i, 100000+i)
		default:
			fmt.Fprintf(&s, "- name: admin-%d\n  user:\n    token: static-token-%d # rotated quarterly\n", i, i)
		}
	}
	s.WriteString("contexts:\n")
	for i := range 5000 {
		if i%2 == 0 {
			fmt.Fprintf(&s, "- name: group-%d/team-%d/agents-%d:agent-%d\n  context:\n    cluster: kas-%d\n    user: agent:%d\n", i%97, i%13, i, i, i%50, 100000+i)
		} else {
			fmt.Fprintf(&s, "- name: cluster-admin-%d\n  context:\n    cluster: kas-%d\n    user: admin-%d\n", i, i%50, i)
		}
		if i%3 == 0 {
			fmt.Fprintf(&s, "    namespace: ns-%d\n", i)
		}
	}
	s.WriteString("current-context: cluster-admin-1\n")
	path := filepath.Join(b.TempDir(), "config")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
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
	i := 2520
	target := fmt.Sprintf("group-%d/team-%d/agents-%d:agent-%d", i%97, i%13, i, i)
	env := []string{"HOME=" + b.TempDir()}
	compareRounds(b, "5,000 contexts: use-context", scaleRounds,
		command{Name: "kubectl config use-context", Path: newestKubectl(b), Args: []string{"config", "use-context", target, "--kubeconfig", theirs}, Env: env, Setup: restore(pristine, theirs)},
		command{Name: "kubectl-gitlab use-context", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: []string{"use-context", target, "--kubeconfig", ours}, Env: env, Setup: restore(pristine, ours)},
	)
}
