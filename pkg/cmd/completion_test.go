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

// TestSharedFlagsAreOneDefinition: a flag that several commands take has
// one help text and completes its values everywhere.
func TestSharedFlagsAreOneDefinition(t *testing.T) {
	root := NewRoot(newHarness(t).deps(""))
	help := map[string]string{}
	walk(root, func(c *cobra.Command) {
		for _, name := range []string{"kubeconfig", "token-store", "gitlab-url", "certificate-authority", "agent-id", "context", "output"} {
			f := c.LocalFlags().Lookup(name)
			if f == nil || (name == "agent-id" && c.Parent().Name() == "access") {
				// access explain's --agent-id describes the job it
				// explains, not an agent context of the kubeconfig.
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(name); !ok {
				t.Errorf("%s --%s completes nothing", c.CommandPath(), name)
			}
			if name == "kubeconfig" || name == "token-store" {
				if h, seen := help[name]; seen && h != f.Usage {
					t.Errorf("%s --%s: help %q, elsewhere %q", c.CommandPath(), name, f.Usage, h)
				}
				help[name] = f.Usage
			}
		}
	})
	h := newHarness(t)
	h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", "")
	for _, cmd := range []string{"whoami", "doctor"} {
		h.run("__complete", cmd, "--context", "").expect(t, 0, "group/agents:prod\tagent 1234", "group/sub/infra:staging\tagent 5678")
	}
	h.run("__complete", "whoami", "-o", "").expect(t, 0, "json", "yaml")
}
