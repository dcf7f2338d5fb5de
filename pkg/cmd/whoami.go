package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
)

// WhoamiOptions asks the cluster behind a context who it takes us for.
type WhoamiOptions struct {
	deps       *Deps
	Kubeconfig string
	Context    string
	Output     string
}

func newWhoamiCommand(d *Deps) *cobra.Command {
	o := &WhoamiOptions{deps: d}
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Show the identity the cluster sees through the agent (SelfSubjectReview), and which access_as that means",
		Long: `Send a SelfSubjectReview through the current (or given) context and show the
identity the cluster sees: with access_as: {agent: {}} the agent's service
account, with {ci_job: {}} gitlab:ci_job:<job id> and its groups, with
{impersonate: ...} a static identity; and the agent.gitlab.com/* extras.
RBAC on that identity decides what kubectl may do.`,
		Example: `  kubectl gitlab whoami
  kubectl gitlab whoami --context group/agents:prod -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error { return o.Run(context.Background()) }),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addContextFlag(c, &o.Context, "context", "the context to ask through, by name or agent name (default: the current context)", d)
	addOutputFlag(c, &o.Output, "json", "yaml")
	return c
}

// whoamiView is whoami's structured output.
type whoamiView struct {
	Context    string        `json:"context" yaml:"context"`
	Agent      bool          `json:"agent" yaml:"agent"`
	AgentID    int64         `json:"agentID,omitempty" yaml:"agentID,omitempty"`
	Server     string        `json:"server" yaml:"server"`
	APIVersion string        `json:"apiVersion" yaml:"apiVersion"`
	UserInfo   kas.UserInfo  `json:"userInfo" yaml:"userInfo"`
	AccessAs   *kas.AccessAs `json:"accessAs,omitempty" yaml:"accessAs,omitempty"`
}

// Run sends the review and prints the identity.
func (o *WhoamiOptions) Run(ctx context.Context) error {
	set, err := o.deps.loadExistingKubeconfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	r, err := agentcontext.Resolve(set, agentcontext.Query{Name: o.Context, KubeContext: o.deps.Getenv("KUBE_CONTEXT"), Fallback: agentcontext.Current})
	if err != nil {
		return err
	}
	name, info := r.Name, r.Info
	client, err := o.deps.kasClient(set, name)
	if err != nil {
		return err
	}
	review, err := client.SelfSubjectReview(ctx)
	if err != nil {
		return err
	}
	view := whoamiView{Context: name, Agent: info.Agent, AgentID: info.AgentID, Server: client.Server(),
		APIVersion: review.APIVersion, UserInfo: review.UserInfo}
	if info.Agent {
		access := kas.DescribeAccess(review.UserInfo)
		view.AccessAs = &access
	}
	if o.Output != "" {
		return printStructured(o.deps.IO.Out, o.Output, view)
	}
	printWhoami(o.deps.IO.Out, view)
	if !info.Agent {
		fmt.Fprintf(o.deps.IO.ErrOut, "note: %q is not an agent context; kubectl gitlab get-contexts lists them\n", name)
	}
	return nil
}

// printWhoami writes the identity as an ATTRIBUTE/VALUE table, like
// kubectl auth whoami, with one group or extra per line. Every value came
// from the kubeconfig or the cluster: each cell is escaped whole.
func printWhoami(w io.Writer, v whoamiView) {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "ATTRIBUTE\tVALUE")
	ctx := termsafe.Text(v.Context)
	if v.Agent {
		ctx += fmt.Sprintf(" (agent %d)", v.AgentID)
	}
	fmt.Fprintf(tw, "Context\t%s\n", ctx)
	fmt.Fprintf(tw, "Username\t%s\n", termsafe.Text(v.UserInfo.Username))
	if v.UserInfo.UID != "" {
		fmt.Fprintf(tw, "UID\t%s\n", termsafe.Text(v.UserInfo.UID))
	}
	for i, g := range v.UserInfo.Groups {
		label := ""
		if i == 0 {
			label = "Groups"
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, termsafe.Text(g))
	}
	keys := make([]string, 0, len(v.UserInfo.Extra))
	for k := range v.UserInfo.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "Extra: %s\t%s\n", termsafe.Text(k), termsafe.Text(strings.Join(v.UserInfo.Extra[k], ", ")))
	}
	tw.Flush()
	if v.AccessAs != nil {
		fmt.Fprintf(w, "\nAccess as %s (%s).\n%s\n", v.AccessAs.Mode, v.AccessAs.Config, v.AccessAs.Description)
	}
}
