package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const deployerPAT = "glpat-e2eDeployerSecret"

// TestDiscoveryThroughRealKubectl: with a stored token, kubectl gitlab
// agents lists what the deploying project's member may use;
// update-kubeconfig --project writes CI-named contexts and makes one
// current, so kubectl get pods works with no further step; use-context -
// goes back, and kubectl follows.
func TestDiscoveryThroughRealKubectl(t *testing.T) {
	k := kubectls(t)[0]
	kas := testkas.Start(t, testkas.DeployingProject(deployerPAT))
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	var all []result
	run := e.recording(k.Path, &all)
	e.login(t, kas.URL, deployerPAT).ok(t, "Logged in")

	run("gitlab", "agents", "--project", "group/app").ok(t, `AGENT-ID   NAME     CONFIG-PROJECT   ACCESS                              NAMESPACE
1234       prod     group/agents     ci_access:ci_job,user_access:user   apps
9012       static   group/agents     user_access:agent                   -
5555       hidden   secret/agents    user_access:user                    -
`)
	run("gitlab", "update-kubeconfig", "--project", "group/app").ok(t,
		"group/agents:prod (agent 1234, namespace apps)", "group/agents:static (agent 9012)", "secret/agents:hidden (agent 5555)",
		`Switched to context "group/agents:prod" (agent 1234) (the first of the 3 written, in name order).`)
	run("config", "current-context").ok(t, "group/agents:prod")
	run("get", "pods").ok(t, "web-0") // namespace apps, as a job of group/app gets it
	if !kas.SawBearer("pat:1234:" + deployerPAT) {
		t.Fatalf("testkas did not see pat:1234:<token>")
	}

	run("gitlab", "use-context", "hidden").ok(t, `Switched to context "secret/agents:hidden" (agent 5555).`)
	kas.Reset()
	run("get", "pods").ok(t, "hello-0")
	if !kas.SawBearer("pat:5555:" + deployerPAT) {
		t.Fatalf("kubectl did not go through agent 5555")
	}
	run("gitlab", "use-context", "-").ok(t, `Switched to context "group/agents:prod" (agent 1234).`)
	run("config", "current-context").ok(t, "group/agents:prod")
	kas.Reset()
	run("get", "pods").ok(t, "web-0")
	if !kas.SawBearer("pat:1234:" + deployerPAT) {
		t.Fatalf("after use-context -, kubectl did not go through agent 1234")
	}
	// The previous context of ~/.kube/config is kubectx's record.
	if data, _ := os.ReadFile(filepath.Join(e.vars["HOME"], ".kube", "kubectx")); string(data) != "secret/agents:hidden" {
		t.Errorf("~/.kube/kubectx holds %q", data)
	}
	noSecret(t, deployerPAT, all...)
	if found := filesContaining(e.dir, deployerPAT); len(found) != 1 || !strings.HasSuffix(found[0], "tokens.json") {
		t.Errorf("the token is in %v; want only the token file", found)
	}
}
