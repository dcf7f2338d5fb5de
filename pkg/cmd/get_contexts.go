package cmd

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// GetContextsOptions lists agent contexts.
type GetContextsOptions struct {
	deps       *Deps
	Kubeconfig string
	Output     string
	All        bool

	set *kubeconfig.Set
}

func newGetContextsCommand(d *Deps) *cobra.Command {
	o := &GetContextsOptions{deps: d}
	c := &cobra.Command{
		Use:   "get-contexts",
		Short: "List the agent contexts of the kubeconfig",
		Long: `List the contexts that reach a cluster through a GitLab agent: those whose user
has a ci:/pat: token or runs kubectl-gitlab get-token. Tokens are never shown.`,
		Example: `  # in a CI job
  kubectl gitlab get-contexts
  # with server and CA, or every context including gitlab-deploy
  kubectl gitlab get-contexts -o wide --all
  # names only, for scripts
  kubectl gitlab get-contexts -o name`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		}),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addOutputFlag(c, &o.Output, "wide", "name", "json", "yaml")
	c.Flags().BoolVar(&o.All, "all", false, "also list contexts that are not agent contexts (e.g. gitlab-deploy)")
	return c
}

// Complete validates flags and loads the kubeconfig.
func (o *GetContextsOptions) Complete() error {
	set, err := o.deps.loadExistingKubeconfig(o.Kubeconfig)
	o.set = set
	return err
}

// contextView is a context as get-contexts shows it.
type contextView struct {
	Name      string `json:"name" yaml:"name"`
	Current   bool   `json:"current" yaml:"current"`
	Agent     bool   `json:"agent" yaml:"agent"`
	AgentID   int64  `json:"agentID,omitempty" yaml:"agentID,omitempty"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Auth      string `json:"auth" yaml:"auth"`
	Cluster   string `json:"cluster" yaml:"cluster"`
	User      string `json:"user" yaml:"user"`
	Server    string `json:"server,omitempty" yaml:"server,omitempty"`
	CA        string `json:"ca,omitempty" yaml:"ca,omitempty"`
	File      string `json:"file" yaml:"file"`
}

func viewOf(info agentcontext.Info, current string) contextView {
	auth := string(info.Auth)
	if !info.Agent {
		auth = "not-agent"
	}
	return contextView{Name: info.Name, Current: info.Name == current, Agent: info.Agent, AgentID: info.AgentID,
		Namespace: info.Namespace, Auth: auth, Cluster: info.Cluster, User: info.User, Server: info.Server, CA: info.CA, File: info.File}
}

// Run prints the contexts, and warns of values kubectl would misread.
func (o *GetContextsOptions) Run() error {
	warnMisread(o.deps.IO.ErrOut, o.set, nil)
	current := o.set.CurrentContext()
	var views []contextView
	infos := agentcontext.Agents(o.set)
	if o.All {
		infos = agentcontext.All(o.set)
	}
	for _, info := range infos {
		views = append(views, viewOf(info, current))
	}
	out := o.deps.IO.Out
	switch o.Output {
	case "json", "yaml":
		list := struct {
			CurrentContext string        `json:"currentContext" yaml:"currentContext"`
			Contexts       []contextView `json:"contexts" yaml:"contexts"`
		}{current, views}
		if list.Contexts == nil {
			list.Contexts = []contextView{}
		}
		return printStructured(out, o.Output, list)
	case "name":
		for _, v := range views {
			fmt.Fprintln(out, termsafe.Text(v.Name))
		}
		return nil
	}
	if len(views) == 0 {
		fmt.Fprintf(o.deps.IO.ErrOut, "No agent contexts in %s.\n", agentcontext.Where(o.set))
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	header := "CURRENT\tNAME\tAGENT-ID\tNAMESPACE\tAUTH"
	if o.Output == "wide" {
		header += "\tSERVER\tCA"
	}
	fmt.Fprintln(tw, header)
	for _, v := range views {
		mark, id := "", "-"
		if v.Current {
			mark = "*"
		}
		if v.Agent {
			id = strconv.FormatInt(v.AgentID, 10)
		}
		// A cell is escaped whole: a tab or line break in a name would
		// shift the columns or start a line of its own.
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", mark, termsafe.Text(v.Name), id, termsafe.Text(v.Namespace), v.Auth)
		if o.Output == "wide" {
			row += fmt.Sprintf("\t%s\t%s", termsafe.Text(v.Server), v.CA)
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}
