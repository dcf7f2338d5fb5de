package e2e

import (
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestExecCredentialThroughRealKubectl: update-kubeconfig in a simulated
// job writes exec-based contexts; every kubectl then gets its credential
// from get-token, in v1 and in v1beta1; without a token kubectl shows the
// plugin's hint.
func TestExecCredentialThroughRealKubectl(t *testing.T) {
	for _, k := range kubectls(t) {
		t.Run(k.Version, func(t *testing.T) {
			kas := jobKAS(t)
			e := newEnv(t)
			path := e.jobKubeconfig("job-agents.yaml", kas.K8sProxyURL, jobToken)
			e.vars["CI_JOB_TOKEN"] = jobToken
			e.vars["CI_API_V4_URL"] = kas.URL + "/api/v4"
			e.vars["KAS_CERTIFICATE"] = kas.CAFile
			var all []result
			run := e.recording(k.Path, &all)
			run("gitlab", "update-kubeconfig", "--use-context", "group/agents:prod").ok(t, "group/agents:prod (agent 1234)")
			if data, _ := os.ReadFile(path); strings.Contains(string(data), jobToken) {
				t.Fatalf("the job token is still in the kubeconfig")
			}
			run("gitlab", "get-contexts").ok(t, "exec")

			run("get", "pods").ok(t, "hello-0")
			if !kas.SawBearer("ci:1234:" + jobToken) {
				t.Fatalf("testkas did not see ci:1234:<job token>")
			}

			// The same exec entry in v1beta1.
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg.AuthInfos["agent:5678"].Exec.APIVersion = "client.authentication.k8s.io/v1beta1"
			if err := clientcmd.WriteToFile(*cfg, path); err != nil {
				t.Fatal(err)
			}
			kas.Reset()
			run("get", "pods", "--context", "group/sub/infra:staging", "-n", "apps").ok(t, "web-0")
			if !kas.SawBearer("ci:5678:" + jobToken) {
				t.Fatalf("v1beta1: testkas did not see ci:5678:<job token>")
			}

			// No token: kubectl fails and shows the plugin's hint.
			delete(e.vars, "CI_JOB_TOKEN")
			run("get", "pods").fails(t, "no token for agent 1234", "kubectl gitlab login")
			noSecret(t, jobToken, all...)
		})
	}
}
