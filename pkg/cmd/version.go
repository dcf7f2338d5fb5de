package cmd

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/version"
)

func newVersionCommand(d *Deps) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version",
		Example: "  kubectl gitlab version\n  kubectl gitlab version -o json",
		Args:    cobra.NoArgs,
		RunE: runE(func([]string) error {
			info := struct {
				Version   string `json:"version" yaml:"version"`
				Commit    string `json:"commit,omitempty" yaml:"commit,omitempty"`
				GoVersion string `json:"goVersion" yaml:"goVersion"`
				Platform  string `json:"platform" yaml:"platform"`
			}{version.String(), version.Commit, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
			if output != "" {
				return printStructured(d.IO.Out, output, info)
			}
			fmt.Fprintf(d.IO.Out, "kubectl-gitlab %s (%s, %s)\n", info.Version, info.GoVersion, info.Platform)
			return nil
		}),
	}
	addOutputFlag(c, &output, "json", "yaml")
	return c
}
