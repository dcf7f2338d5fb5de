//go:build demoreal

package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/realkas"
)

// TestDemoReal is `make demo-real`: the demo's job against the real KAS and
// agentk in front of a real kube-apiserver. It is a test only because the
// harness needs one to stop everything it starts.
func TestDemoReal(t *testing.T) {
	// The demo builds the plugin from the repository root, as `go run` does.
	_, file, _, _ := runtime.Caller(0)
	t.Chdir(filepath.Join(filepath.Dir(file), "..", ".."))
	err := run(func() (*backend, error) {
		s := realkas.Start(t, realkas.World{
			Groups:   []realkas.Group{{ID: 23, Path: "group"}},
			Projects: []realkas.Project{{ID: 77, Path: "group/agents"}, {ID: 78, Path: "group/sub/infra"}, {ID: 150, Path: "group/app"}},
			Users:    []realkas.User{{ID: 5, Username: "alice"}},
			Agents: []realkas.Agent{
				{ID: 1234, Name: "prod", ProjectID: 77, Token: "glagent-demoProdAgentToken", Config: "ci_access:\n  projects:\n  - id: group/app\n"},
				{ID: 5678, Name: "staging", ProjectID: 78, Token: "glagent-demoStagingAgentToken",
					Config: "ci_access:\n  groups:\n  - id: group\n    default_namespace: apps\n"},
			},
			Jobs: []realkas.Job{{Token: jobToken, ID: 4242, PipelineID: 77, ProjectID: 150, Username: "alice"}},
		})
		// No kubelet runs: the pods exist, but stay Pending.
		apply := exec.Command("kubectl", "--kubeconfig", s.AdminKubeconfig, "apply", "-f", "-")
		apply.Stdin = strings.NewReader(demoPods)
		if out, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("creating the demo's pods: %v\n%s", err, out)
		}
		return &backend{
			what:      "GitLab (fake), the real KAS " + realkas.Version + " and agentk, and a real kube-apiserver, at " + s.K8sProxyURL,
			gitlabURL: s.GitLab.URL, k8sProxyURL: s.K8sProxyURL, caPEM: s.CAPEM,
			close: func() {}, // the test's cleanups stop the stack
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const demoPods = `
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: v1
kind: Pod
metadata: {name: hello-0, namespace: default}
spec: {containers: [{name: hello, image: registry.example/hello:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: apps}
spec: {containers: [{name: web, image: registry.example/web:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: apps}
spec: {containers: [{name: web, image: registry.example/web:1}]}
`
