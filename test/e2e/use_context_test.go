package e2e

import (
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// jobKAS is a GitLab with two agents that one job may use.
func jobKAS(t *testing.T) *testkas.Server {
	return testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra", DefaultNamespace: "apps"},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, PipelineID: 77, ProjectID: 150, ProjectPath: "group/app",
			GroupIDs: []int64{23}, UserID: 5, Username: "alice", AllowedAgents: []int64{1234, 5678}}},
		Pods: map[string][]string{"default": {"hello-0"}, "apps": {"web-0", "web-1"}},
	})
}

// TestUseContextThroughRealKubectl: with every kubectl on the machine, the
// plugin is found, use-context switches, an untrusted KAS fails with x509,
// and after the CA is injected kubectl get pods works with the job token.
func TestUseContextThroughRealKubectl(t *testing.T) {
	for _, k := range kubectls(t) {
		t.Run(k.Version, func(t *testing.T) {
			kas := jobKAS(t)
			e := newEnv(t)
			e.jobKubeconfig("job-agents.yaml", kas.K8sProxyURL, jobToken)
			var all []result
			run := e.recording(k.Path, &all)

			run("plugin", "list").ok(t, "kubectl-gitlab")
			run("gitlab", "version").ok(t, "kubectl-gitlab")
			run("gitlab", "get-contexts").ok(t, "group/agents:prod", "1234", "ci-token")
			run("gitlab", "use-context", "group/agents:prod").ok(t, `Switched to context "group/agents:prod"`)

			run("get", "pods").fails(t, "certificate signed by unknown authority")
			if kas.SawBearer("ci:1234:" + jobToken) {
				t.Fatalf("a request reached KAS over an untrusted connection")
			}

			run("gitlab", "use-context", "group/agents:prod", "--certificate-authority", kas.CAFile).ok(t, "Embedded the CA bundle")
			run("get", "pods").ok(t, "hello-0")
			if !kas.SawBearer("ci:1234:" + jobToken) {
				t.Fatalf("testkas did not see ci:1234:<job token>; saw %+v", kas.Requests())
			}
			run("get", "ns").ok(t, "apps", "default")
			run("gitlab", "use-context", "staging").ok(t)
			run("get", "pods", "-n", "apps").ok(t, "web-0", "web-1")
			if !kas.SawBearer("ci:5678:" + jobToken) {
				t.Fatalf("testkas did not see ci:5678:<job token>")
			}
			if !strings.HasPrefix(k.Version, "v1.27") {
				run("auth", "whoami").ok(t, "system:serviceaccount:gitlab-agent:gitlab-agent")
			}
			noSecret(t, jobToken, all...)
		})
	}
}

// TestUseContextKubeContextOverGitlabDeploy: a job with a certificate-based
// gitlab-deploy context as current and KUBE_CONTEXT set.
func TestUseContextKubeContextOverGitlabDeploy(t *testing.T) {
	k := kubectls(t)[0]
	kas := jobKAS(t)
	e := newEnv(t)
	e.jobKubeconfig("job-gitlab-deploy.yaml", kas.K8sProxyURL, jobToken)
	e.vars["KUBE_CONTEXT"] = "group/agents:prod"
	e.vars["KAS_CERTIFICATE"] = string(kas.CAPEM)
	r1 := e.run(k.Path, "gitlab", "use-context").ok(t, `Switched to context "group/agents:prod"`)
	r2 := e.run(k.Path, "config", "current-context").ok(t, "group/agents:prod")
	r3 := e.run(k.Path, "get", "pods").ok(t, "hello-0")
	noSecret(t, jobToken, r1, r2, r3)
}
