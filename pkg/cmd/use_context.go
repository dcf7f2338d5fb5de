package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// UseContextOptions switches to an agent context.
type UseContextOptions struct {
	deps                 *Deps
	Kubeconfig           string
	Name                 string
	AgentID              int64
	CertificateAuthority string
	Namespace            string

	set        *kubeconfig.Set
	ca         *kas.CABundle
	caFromFlag bool
}

func newUseContextCommand(d *Deps) *cobra.Command {
	o := &UseContextOptions{deps: d}
	c := &cobra.Command{
		Use:   "use-context [NAME | -]",
		Short: "Switch to an agent context, optionally trusting KAS's CA",
		Long: `Switch the current context to an agent context.

NAME is a full context name (group/agents:prod) or an agent name (prod) when it
is unique. Without NAME: $KUBE_CONTEXT; else the only agent context; else, on a
terminal, a pick from a list that narrows as you type (arrows to move, Enter to
switch, Esc or Ctrl-C to leave without a change); else an error that lists the
candidates.

"-" goes back to the context that was current before the last switch, as
kubectx - does. Every switch remembers it: for ~/.kube/config in kubectx's own
file, ~/.kube/kubectx, so that kubectx - and this command go back and forth
together; for any other kubeconfig in kubectl-gitlab's config directory.

--certificate-authority FILE, or $KAS_CERTIFICATE (a path or the PEM text),
embeds the CA bundle into that context's cluster, for a KAS with a self-signed
certificate.`,
		Example: `  # the context GitLab made for agent "prod" of project group/agents
  kubectl gitlab use-context group/agents:prod
  # back to the previous context
  kubectl gitlab use-context -
  # in a job with KUBE_CONTEXT set (e.g. per environment), or one agent
  kubectl gitlab use-context
  # by agent ID, trusting a self-signed KAS
  kubectl gitlab use-context --agent-id 1234 --certificate-authority "$KAS_CERTIFICATE"`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(func(args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			return o.Run()
		}),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addAgentIDFlag(c, &o.AgentID, "switch to the context of this agent ID", d)
	addCAFlag(c, &o.CertificateAuthority, ", embedded into the context's cluster")
	c.Flags().StringVarP(&o.Namespace, "namespace", "n", "", "also set the context's namespace")
	contexts := contextCompletion(d)
	c.ValidArgsFunction = func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return contexts(c, args, toComplete)
	}
	return c
}

// Complete reads the arguments, the CA bundle and the kubeconfig. Every
// input is checked here, before anything is written.
func (o *UseContextOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	if o.AgentID != 0 && o.Name != "" {
		return badInput("give either NAME, - or --agent-id", "both a context name and --agent-id were given")
	}
	var err error
	o.caFromFlag = o.CertificateAuthority != ""
	if o.ca, err = o.deps.loadCA(o.CertificateAuthority); err != nil {
		return err
	}
	if o.deps.inJob() && o.AgentID != 0 {
		// In a job, --agent-id can create the context in a new file.
		o.set, err = o.deps.loadKubeconfig(o.Kubeconfig)
		return err
	}
	o.set, err = o.deps.loadExistingKubeconfig(o.Kubeconfig)
	return err
}

// Run resolves the context, edits the files it must, and says what it did.
func (o *UseContextOptions) Run() error {
	info, err := o.resolve()
	if err != nil {
		return err
	}
	done, err := agentcontext.Switch{Context: info, CA: o.ca.PEMOrNil(), CAExplicit: o.caFromFlag, Namespace: o.Namespace, History: o.deps.history()}.Apply(o.set)
	if err != nil {
		return err
	}
	// --namespace rewrites, quoted, a namespace kubectl misread.
	warnMisread(o.deps.IO.ErrOut, o.set, func(m kubeconfig.Misread) bool {
		return o.Namespace != "" && m.Kind == "context" && m.Name == info.Name && m.Field == "namespace"
	})
	out := o.deps.IO.Out
	if done.CACluster != "" {
		fmt.Fprintf(out, "Embedded the CA bundle from %s (%d certificate%s) into cluster %q.\n", o.ca.Source, len(o.ca.Certs), plural(len(o.ca.Certs)), done.CACluster)
	}
	if o.Namespace != "" {
		fmt.Fprintf(out, "Namespace of %q set to %q.\n", info.Name, o.Namespace)
	}
	reportSwitch(o.deps, info, "", done)
	return nil
}

// switchContext makes a context current, remembering the one before, and
// says so; why, when set, says how it was chosen (" (…)").
func switchContext(d *Deps, set *kubeconfig.Set, info agentcontext.Info, why string) error {
	done, err := agentcontext.Switch{Context: info, History: d.history()}.Apply(set)
	if err != nil {
		return err
	}
	reportSwitch(d, info, why, done)
	return nil
}

// reportSwitch says which context is current now.
func reportSwitch(d *Deps, info agentcontext.Info, why string, done agentcontext.Switched) {
	if info.Agent {
		fmt.Fprintf(d.IO.Out, "Switched to context %q (agent %d)%s.\n", info.Name, info.AgentID, why)
	} else {
		fmt.Fprintf(d.IO.Out, "Switched to context %q%s.\n", info.Name, why)
		fmt.Fprintf(d.IO.ErrOut, "note: %q is not an agent context\n", info.Name)
	}
	if done.HistoryErr != nil {
		fmt.Fprintf(d.IO.ErrOut, "warning: use-context - will not know to go back to %q: %v\n", done.Previous, done.HistoryErr)
	}
}

// resolve asks agentcontext.Resolve (NAME, --agent-id, $KUBE_CONTEXT, the
// only agent context). Two answers it lacks are use-context's own: in a CI
// job, a missing agent ID's context is created; on a terminal, a person
// picks among several agent contexts.
func (o *UseContextOptions) resolve() (agentcontext.Info, error) {
	if o.Name == "-" {
		return o.previous()
	}
	r, err := agentcontext.Resolve(o.set, agentcontext.Query{Name: o.Name, AgentID: o.AgentID, KubeContext: o.deps.Getenv("KUBE_CONTEXT")})
	var e *agentcontext.Error
	switch {
	case err == nil:
		return r.Info, nil
	case !errors.As(err, &e):
		return agentcontext.Info{}, err
	case e.Problem == agentcontext.NoSuchAgent && o.deps.inJob():
		return o.createForJob(o.AgentID)
	case e.Problem == agentcontext.NoChoice && o.deps.Terminal != nil && o.deps.Terminal.Interactive():
		names := make([]string, len(e.Choices))
		for i, c := range e.Choices {
			names[i] = termsafe.Text(c.Name) // shown on the terminal
		}
		i, err := o.deps.Terminal.Pick("Switch to which agent context?", names)
		if err != nil {
			return agentcontext.Info{}, badInput("pass NAME: kubectl gitlab use-context NAME", "%w; the current context is unchanged", err)
		}
		return e.Choices[i], nil
	}
	return agentcontext.Info{}, err
}

// previous is use-context -: the context current before the last switch.
func (o *UseContextOptions) previous() (agentcontext.Info, error) {
	h := o.deps.history()
	name, err := h.Previous(o.set)
	if err != nil {
		return agentcontext.Info{}, err
	}
	where := agentcontext.Where(o.set)
	if name == "" {
		return agentcontext.Info{}, badInput("switch with kubectl gitlab use-context NAME first; - then goes back",
			"no previous context to go back to: none is remembered for %s (in %s)", where, h.File(o.set))
	}
	if _, _, ok := o.set.Context(name); !ok {
		return agentcontext.Info{}, badInput("switch with kubectl gitlab use-context NAME",
			"the previous context %q (remembered in %s) is not in %s", name, h.File(o.set), where)
	}
	return agentcontext.Describe(o.set, name), nil
}

// createForJob writes an exec-based context for an agent that the job may
// use but whose context is missing (e.g. the job's kubeconfig was replaced):
// the four "kubectl config set-…" lines of GitLab's docs in one step.
func (o *UseContextOptions) createForJob(id int64) (agentcontext.Info, error) {
	baseURL, jobToken, _ := o.deps.jobGitLab()
	if err := credential.CheckSecret("CI_JOB_TOKEN", jobToken); err != nil {
		return agentcontext.Info{}, err
	}
	client, err := o.deps.gitlabClient(baseURL, gitlab.JobToken(jobToken), o.ca)
	if err != nil {
		return agentcontext.Info{}, err
	}
	ctx := context.Background()
	allowed, err := client.AllowedAgents(ctx)
	if err != nil {
		return agentcontext.Info{}, err
	}
	contexts, err := agentcontext.ForJob(o.set, allowed.Agents, []int64{id})
	if err != nil {
		return agentcontext.Info{}, err
	}
	kasURL, err := kas.FindProxyURL{GitLabWrote: agentcontext.JobServer(o.set), Env: o.deps.Getenv("K8S_PROXY_URL"), Client: client,
		Metadata: kas.MetadataDenied, Why: "GitLab's /api/v4/metadata takes no job token",
		Override: "$K8S_PROXY_URL, the variable GitLab's docs set for this (or run kubectl gitlab update-kubeconfig --kas-url URL)"}.Find(ctx)
	if err != nil {
		return agentcontext.Info{}, err
	}
	printNote(o.deps.IO.ErrOut, kasURL.Note)
	if err := (agentcontext.Write{Contexts: contexts, KASURL: kasURL.URL, CA: o.ca.PEMOrNil()}).Apply(o.set); err != nil {
		return agentcontext.Info{}, err
	}
	fmt.Fprintf(o.deps.IO.Out, "Created context %s, exec-based.\n", contexts[0])
	// Reload: the CA and current-context edits apply to the new file.
	if o.set, err = kubeconfig.Load(o.set.Paths); err != nil {
		return agentcontext.Info{}, err
	}
	return agentcontext.Describe(o.set, contexts[0].Context), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
