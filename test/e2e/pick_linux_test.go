package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpty"
)

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
