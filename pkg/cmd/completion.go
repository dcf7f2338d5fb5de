package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

// kubectlCompletionScript is kubectl_complete-gitlab: kubectl ≥ 1.26 runs it
// with the words after "kubectl gitlab" to complete a plugin's arguments.
const kubectlCompletionScript = `#!/bin/sh
# kubectl_complete-gitlab: lets kubectl (1.26+) complete "kubectl gitlab …".
# Install it on PATH next to kubectl-gitlab, e.g. in ${KREW_ROOT:-$HOME/.krew}/bin.
exec kubectl-gitlab __complete "$@"
`

// addCompletion sets up cobra's completion command and a kubectl
// subcommand for the plugin-completion script. Arguments and flag values
// complete where they are defined (flags.go).
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
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}
