package cmd

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// kubectlCompletionScript is kubectl_complete-gitlab: kubectl ≥ 1.26 runs it
// with the words after "kubectl gitlab" to complete a plugin's arguments.
const kubectlCompletionScript = `#!/bin/sh
# kubectl_complete-gitlab: lets kubectl (1.26+) complete "kubectl gitlab …".
# Install it on PATH next to kubectl-gitlab, e.g. in ${KREW_ROOT:-$HOME/.krew}/bin.
exec kubectl-gitlab __complete "$@"
`

// addCompletion sets up cobra's completion command, a kubectl subcommand
// for the plugin-completion script, and the completions of arguments and
// flag values.
func addCompletion(root *cobra.Command, d *Deps) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = `  # bash, for the plugin binary itself
  source <(kubectl-gitlab completion bash)
  # kubectl 1.26+: complete "kubectl gitlab …" through kubectl's own completion
  kubectl gitlab completion kubectl > "${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-gitlab"
  chmod +x "${KREW_ROOT:-$HOME/.krew}/bin/kubectl_complete-gitlab"`
		c.AddCommand(&cobra.Command{
			Use:     "kubectl",
			Short:   "Print kubectl_complete-gitlab, the script kubectl (1.26+) uses to complete plugin arguments",
			Example: `  kubectl gitlab completion kubectl > ~/.krew/bin/kubectl_complete-gitlab && chmod +x ~/.krew/bin/kubectl_complete-gitlab`,
			Args:    cobra.NoArgs,
			RunE: runE(func([]string) error {
				_, err := fmt.Fprint(d.IO.Out, kubectlCompletionScript)
				return err
			}),
		})
	}
	walk(root, func(c *cobra.Command) {
		if f := c.Flags().Lookup("kubeconfig"); f != nil {
			c.RegisterFlagCompletionFunc("kubeconfig", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return []string{"yaml", "yml", "json", "config"}, cobra.ShellCompDirectiveFilterFileExt
			})
		}
		if f := c.Flags().Lookup("token-store"); f != nil {
			c.RegisterFlagCompletionFunc("token-store", cobra.FixedCompletions(tokenstore.Kinds(), cobra.ShellCompDirectiveNoFileComp))
		}
		if f := c.Flags().Lookup("agent-id"); f != nil {
			c.RegisterFlagCompletionFunc("agent-id", agentIDCompletion(d))
		}
		if f := c.Flags().Lookup("output"); f != nil && c.Name() == "get-contexts" {
			c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"wide", "name", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.Name() == "use-context" {
			c.ValidArgsFunction = contextCompletion(d)
		}
		if c.Name() == "update-kubeconfig" {
			c.RegisterFlagCompletionFunc("use-context", contextCompletion(d))
		}
	})
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// kubeconfigFlag reads --kubeconfig from a command being completed.
func kubeconfigFlag(c *cobra.Command) string {
	if f := c.Flags().Lookup("kubeconfig"); f != nil {
		return f.Value.String()
	}
	return ""
}

// contextCompletion offers agent contexts (with their agent IDs), then the
// other contexts.
func contextCompletion(d *Deps) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 && c.Name() == "use-context" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		set, err := d.loadExistingKubeconfig(kubeconfigFlag(c))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		all := agentcontext.All(set)
		for _, info := range all {
			if info.Agent {
				out = append(out, info.Name+"\tagent "+strconv.FormatInt(info.AgentID, 10))
			}
		}
		for _, info := range all {
			if !info.Agent {
				out = append(out, info.Name+"\tnot an agent context")
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func agentIDCompletion(d *Deps) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		set, err := d.loadExistingKubeconfig(kubeconfigFlag(c))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		seen := map[int64]bool{}
		for _, info := range agentcontext.Agents(set) {
			if !seen[info.AgentID] {
				seen[info.AgentID] = true
				out = append(out, strconv.FormatInt(info.AgentID, 10)+"\t"+info.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
