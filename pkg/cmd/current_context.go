package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
)

// CurrentContextOptions shows the current context.
type CurrentContextOptions struct {
	deps       *Deps
	Kubeconfig string
	Output     string
}

func newCurrentContextCommand(d *Deps) *cobra.Command {
	o := &CurrentContextOptions{deps: d}
	c := &cobra.Command{
		Use:   "current-context",
		Short: "Print the current context, and whether it is an agent context",
		Example: `  kubectl gitlab current-context
  kubectl gitlab current-context -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error { return o.Run() }),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addOutputFlag(c, &o.Output, "json", "yaml")
	return c
}

// Run prints the name on stdout; a note on stderr says when it is not an
// agent context. No current context, or one that names no context, is bad
// input (exit 2), as for whoami.
func (o *CurrentContextOptions) Run() error {
	set, err := o.deps.loadExistingKubeconfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	r, err := agentcontext.Resolve(set, agentcontext.Query{KubeContext: o.deps.Getenv("KUBE_CONTEXT"), Fallback: agentcontext.Current})
	if err != nil {
		return err
	}
	info, current := r.Info, r.Name
	if o.Output != "" {
		return printStructured(o.deps.IO.Out, o.Output, viewOf(info, current))
	}
	fmt.Fprintln(o.deps.IO.Out, termsafe.Text(current))
	if !info.Agent {
		fmt.Fprintf(o.deps.IO.ErrOut, "note: %q is not an agent context; kubectl gitlab get-contexts lists them\n", current)
	}
	return nil
}
