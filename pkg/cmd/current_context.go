package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
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
	c.Flags().StringVar(&o.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	c.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json or yaml")
	return c
}

// Run prints the name on stdout; a note on stderr says when it is not an
// agent context.
func (o *CurrentContextOptions) Run() error {
	if err := checkOutput(o.Output, "", "json", "yaml"); err != nil {
		return err
	}
	set, err := loadExisting(o.deps, o.Kubeconfig)
	if err != nil {
		return err
	}
	current := set.CurrentContext()
	if current == "" {
		return failed("switch to an agent context: kubectl gitlab use-context [NAME]", "no current context is set in %s", describeFiles(set))
	}
	if _, _, ok := set.Context(current); !ok {
		return failed("switch to an existing context: kubectl gitlab use-context [NAME]", "current-context %q names no context in %s", current, describeFiles(set))
	}
	info := set.Describe(current)
	if o.Output != "" {
		return printStructured(o.deps.IO.Out, o.Output, viewOf(info, current))
	}
	fmt.Fprintln(o.deps.IO.Out, current)
	if !info.Agent {
		fmt.Fprintf(o.deps.IO.ErrOut, "note: %q is not an agent context; kubectl gitlab get-contexts lists them\n", current)
	}
	return nil
}
