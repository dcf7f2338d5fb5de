package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpty"
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
	run := func(args ...string) result {
		r := e.run(k.Path, args...)
		all = append(all, r)
		return r
	}
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

// TestUseContextPickOnATerminal: on a real terminal, use-context without a
// name is the fuzzy pick: typing narrows the list and Enter switches; Esc
// leaves, with exit code 2, the kubeconfig unchanged, the terminal in its
// normal mode.
func TestUseContextPickOnATerminal(t *testing.T) {
	k := kubectls(t)[0]
	e := newEnv(t)
	path := e.jobKubeconfig("job-agents.yaml", "https://kas.gitlab.example/k8s-proxy", jobToken)
	// pick types keys; before the last key, it waits for shown to be drawn.
	pick := func(keys, shown string) (result, string) {
		t.Helper()
		pty := testpty.Open(t)
		c := exec.Command(k.Path, "gitlab", "use-context")
		c.Env = e.list()
		c.Stdin, c.Stderr = pty.Terminal, pty.Terminal
		var stdout strings.Builder
		c.Stdout = &stdout
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		pty.WaitFor(t, "Switch to which agent context?", 30*time.Second)
		pty.Type(t, keys[:len(keys)-1])
		pty.WaitFor(t, shown, 30*time.Second)
		pty.Type(t, keys[len(keys)-1:])
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			c.Process.Kill()
			<-done
			t.Fatalf("use-context did not end after %q; drawn:\n%q", keys, pty.Seen())
		}
		r := result{cmd: "kubectl gitlab use-context", stdout: stdout.String()}
		if exitErr, ok := err.(*exec.ExitError); ok {
			r.code = exitErr.ExitCode()
		}
		return r, pty.Seen()
	}
	// Typing narrows the list to the one match, marked, before Enter.
	r, drawn := pick("infra\r", "infra\r\n> group/sub/infra:staging\r\n  1/2")
	if r.code != 0 || !strings.Contains(r.stdout, `Switched to context "group/sub/infra:staging" (agent 5678).`) {
		t.Fatalf("%s\ndrawn: %q", r, drawn)
	}
	before, _ := os.ReadFile(path)
	r, drawn = pick("pro\x1b", "pro\r\n> group/agents:prod\r\n  1/2")
	if r.code != 2 || r.stdout != "" || !strings.Contains(drawn, "no context chosen; the current context is unchanged") {
		t.Errorf("Esc: %s\ndrawn: %q", r, drawn)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("Esc changed the kubeconfig")
	}
}
