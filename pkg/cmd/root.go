package cmd

import (
	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
)

// NewRoot builds the command tree.
func NewRoot(d *Deps) *cobra.Command {
	root := newBareRoot(d)
	root.AddCommand(
		newGetContextsCommand(d),
		newCurrentContextCommand(d),
		newUseContextCommand(d),
		newGetTokenCommand(d),
		newUpdateKubeconfigCommand(d),
		newAgentsCommand(d),
		newLoginCommand(d),
		newLogoutCommand(d),
		newAccessCommand(d),
		newWhoamiCommand(d),
		newDoctorCommand(d),
		newVersionCommand(d),
	)
	addCompletion(root, d)
	return root
}

// newBareRoot is the root command without subcommands.
func newBareRoot(d *Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-gitlab",
		Short: "Use Kubernetes clusters through the GitLab agent: switch agent contexts, trust KAS, mint credentials",
		Long: `kubectl gitlab works with the kubeconfig that GitLab gives a CI job (one context
per agent, named <agent project path>:<agent name>) and with workstations that
reach a cluster through the GitLab agent server (KAS).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl gitlab"},
	}
	root.SetIn(d.IO.In)
	root.SetOut(d.IO.Out)
	root.SetErr(d.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return badInput(fixable.FixOr(err, "see 'kubectl gitlab "+c.Name()+" --help'"), "%w", err)
	})
	return root
}

// Main runs the command line args (without the program name) and returns
// the exit code.
func Main(args []string, d *Deps) int {
	d, flush := terminalSafe(args, d)
	defer flush()
	root := newRootFor(args, d)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	if !fixable.Is[*Error](err) {
		// cobra's own errors: unknown command, wrong number of arguments
		err = badInput("see 'kubectl gitlab --help'", "%w", err)
	}
	return report(d.IO.ErrOut, err)
}

// newRootFor builds the command tree, or for get-token, which kubectl runs
// before every command, just that command: building the other twenty
// (flags, completion) is start-up time for nothing.
func newRootFor(args []string, d *Deps) *cobra.Command {
	if len(args) == 0 || args[0] != "get-token" {
		return NewRoot(d)
	}
	root := newBareRoot(d)
	root.AddCommand(newGetTokenCommand(d))
	return root
}

// runE adapts a command's Run to cobra, giving its errors their exit code.
func runE(run func(args []string) error) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		if err := run(args); err != nil {
			return withExitCode(err)
		}
		return nil
	}
}

// terminalSafe escapes the control characters of everything the command
// prints for people (internal/termsafe): stderr always, stdout but for
// what programs read as it is, get-token's credential and the completion
// scripts. Line breaks and tabs stay; -o json and yaml stay valid.
func terminalSafe(args []string, d *Deps) (*Deps, func()) {
	safe := *d
	errOut := termsafe.NewWriter(d.IO.ErrOut)
	safe.IO.ErrOut = errOut
	if len(args) > 0 && (args[0] == "get-token" || args[0] == "completion") {
		return &safe, func() { errOut.Flush() }
	}
	out := termsafe.NewWriter(d.IO.Out)
	safe.IO.Out = out
	return &safe, func() { out.Flush(); errOut.Flush() }
}
