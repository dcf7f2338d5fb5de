package cmd

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestCompleteUseContextListsAgentContexts(t *testing.T) {
	h := newHarness(t)
	h.env["KUBECONFIG"] = h.kubeconfig("job-gitlab-deploy.yaml", "")
	r := h.run("__complete", "use-context", "")
	r.expect(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := []string{"group/agents:prod\tagent 1234", "group/agents:review\tagent 5678", "gitlab-deploy\tnot an agent context", ":4"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("completion:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
	}
	ids := h.run("__complete", "use-context", "--agent-id", "")
	ids.expect(t, 0, "1234\tgroup/agents:prod", "5678\tgroup/agents:review")
	h.run("__complete", "update-kubeconfig", "--use-context", "group/agents:").expect(t, 0, "group/agents:prod")
	h.run("__complete", "login", "--token-store", "").expect(t, 0, "auto", "keyring", "file", "none")
	h.run("__complete", "get-contexts", "-o", "").expect(t, 0, "wide", "name", "json", "yaml")
	h.run("__complete", "").expect(t, 0, "use-context", "get-token", "update-kubeconfig", "doctor", "whoami", "access")
}

func TestCompletionScripts(t *testing.T) {
	h := newHarness(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := h.run("completion", shell); r.code != 0 || len(r.stdout) < 500 {
			t.Errorf("completion %s: %d bytes, exit %d", shell, len(r.stdout), r.code)
		}
	}
	h.run("completion", "kubectl").expect(t, 0, "#!/bin/sh", `exec kubectl-gitlab __complete "$@"`)
}

// TestEveryCommandHasHelp: a one-line summary, and an example for every
// command that runs.
func TestEveryCommandHasHelp(t *testing.T) {
	root := NewRoot(newHarness(t).deps(""))
	walk(root, func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || (c.Parent() != nil && c.Parent().Name() == "completion" && c.Name() != "kubectl") {
			return // cobra's own
		}
		if c.Short == "" || strings.Contains(c.Short, "\n") {
			t.Errorf("%s: no one-line summary", c.CommandPath())
		}
		if c.Runnable() && c.Example == "" {
			t.Errorf("%s: no example", c.CommandPath())
		}
	})
}
