package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestKubectlCompletesPluginArguments: with kubectl_complete-gitlab (as
// "kubectl gitlab completion kubectl" prints it) on PATH, kubectl's own
// completion completes "kubectl gitlab use-context <TAB>" with the agent
// contexts.
func TestKubectlCompletesPluginArguments(t *testing.T) {
	e := newEnv(t)
	e.jobKubeconfig("job-gitlab-deploy.yaml", "https://127.0.0.1:1/k8s-proxy", jobToken)
	script := e.run(filepath.Join(pluginDir, "kubectl-gitlab"), "completion", "kubectl").ok(t, "__complete")
	bin := filepath.Join(e.dir, "bin")
	os.MkdirAll(bin, 0o755)
	if err := os.WriteFile(filepath.Join(bin, "kubectl_complete-gitlab"), []byte(script.stdout), 0o755); err != nil {
		t.Fatal(err)
	}
	e.vars["PATH"] = bin + string(os.PathListSeparator) + e.vars["PATH"]
	for _, k := range kubectls(t) {
		t.Run(k.Version, func(t *testing.T) {
			r := e.run(k.Path, "__complete", "gitlab", "use-context", "")
			r.ok(t, "group/agents:prod", "group/agents:review", "gitlab-deploy")
			e.run(k.Path, "__complete", "gitlab", "use-context", "--agent-id", "").ok(t, "1234", "5678")
			noSecret(t, jobToken, r)
		})
	}
}
