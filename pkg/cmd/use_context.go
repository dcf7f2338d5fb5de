package cmd

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

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
	AgentID              string
	CertificateAuthority string
	Namespace            string

	set        *kubeconfig.Set
	agentID    int64
	ca         *kas.CABundle
	caFromFlag bool
}

func newUseContextCommand(d *Deps) *cobra.Command {
	o := &UseContextOptions{deps: d}
	c := &cobra.Command{
		Use:   "use-context [NAME]",
		Short: "Switch to an agent context, optionally trusting KAS's CA",
		Long: `Switch the current context to an agent context.

NAME is a full context name (group/agents:prod) or an agent name (prod) when it
is unique. Without NAME: $KUBE_CONTEXT; else the only agent context; else a
choice on a terminal; else an error that lists the candidates.

--certificate-authority FILE, or $KAS_CERTIFICATE (a path or the PEM text),
embeds the CA bundle into that context's cluster, for a KAS with a self-signed
certificate.`,
		Example: `  # the context GitLab made for agent "prod" of project group/agents
  kubectl gitlab use-context group/agents:prod
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
	c.Flags().StringVar(&o.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	c.Flags().StringVar(&o.AgentID, "agent-id", "", "switch to the context of this agent ID")
	c.Flags().StringVar(&o.CertificateAuthority, "certificate-authority", "", "PEM file of the CA that signed KAS's certificate, embedded into the context's cluster (default: $KAS_CERTIFICATE)")
	c.Flags().StringVarP(&o.Namespace, "namespace", "n", "", "also set the context's namespace")
	return c
}

// Complete reads the arguments, the CA bundle and the kubeconfig. Every
// input is checked here, before anything is written.
func (o *UseContextOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	if o.AgentID != "" {
		if o.Name != "" {
			return badInput("give either NAME or --agent-id", "both a context name and --agent-id were given")
		}
		id, err := credential.ParseAgentID(o.AgentID)
		if err != nil {
			return badInput("pass the agent's numeric ID, as shown by kubectl gitlab get-contexts", "--agent-id: %v", err)
		}
		o.agentID = id
	}
	var err error
	o.caFromFlag = o.CertificateAuthority != ""
	if o.ca, err = loadCA(o.deps, o.CertificateAuthority); err != nil {
		return err
	}
	if _, _, inJob := o.deps.jobGitLab(); inJob && o.agentID != 0 {
		// In a job, --agent-id can create the context in a new file.
		o.set, err = kubeconfig.Load(o.deps.kubeconfigPaths(o.Kubeconfig))
		return err
	}
	o.set, err = loadExisting(o.deps, o.Kubeconfig)
	return err
}

// Run resolves the context, edits the files it must, and says what it did.
func (o *UseContextOptions) Run() error {
	name, err := o.resolve()
	if err != nil {
		return err
	}
	info := o.set.Describe(name)
	edits := map[string][]func(*kubeconfig.Document) error{}
	var notes []string
	if o.ca != nil && (info.Agent || o.caFromFlag) {
		_, file, ok := o.set.Cluster(info.Cluster)
		if !ok {
			return badInput("fix the context or add the cluster", "context %q names cluster %q, which is not defined", name, info.Cluster)
		}
		data := base64.StdEncoding.EncodeToString(o.ca.PEM)
		edits[file] = append(edits[file], func(d *kubeconfig.Document) error { return d.SetClusterCA(info.Cluster, data) })
		notes = append(notes, fmt.Sprintf("Embedded the CA bundle from %s (%d certificate%s) into cluster %q.", o.ca.Source, len(o.ca.Certs), plural(len(o.ca.Certs)), info.Cluster))
	}
	if o.Namespace != "" {
		edits[info.File] = append(edits[info.File], func(d *kubeconfig.Document) error { return d.SetContextNamespace(name, o.Namespace) })
		notes = append(notes, fmt.Sprintf("Namespace of %q set to %q.", name, o.Namespace))
	}
	currentFile := o.set.CurrentContextFile()
	edits[currentFile] = append(edits[currentFile], func(d *kubeconfig.Document) error { return d.SetCurrentContext(name) })

	if err := applyEdits(o.set, edits); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(o.deps.IO.Out, n)
	}
	switch {
	case info.Agent:
		fmt.Fprintf(o.deps.IO.Out, "Switched to context %q (agent %d).\n", name, info.AgentID)
	default:
		fmt.Fprintf(o.deps.IO.Out, "Switched to context %q.\n", name)
		fmt.Fprintf(o.deps.IO.ErrOut, "note: %q is not an agent context\n", name)
	}
	return nil
}

func applyAll(edits []func(*kubeconfig.Document) error) func(*kubeconfig.Document) error {
	return func(d *kubeconfig.Document) error {
		for _, e := range edits {
			if err := e(d); err != nil {
				return err
			}
		}
		return nil
	}
}

// resolve applies the rules in order: NAME, --agent-id, $KUBE_CONTEXT, the
// only agent context, a choice on a terminal.
func (o *UseContextOptions) resolve() (string, error) {
	switch {
	case o.Name != "":
		return o.byName(o.Name, "")
	case o.agentID != 0:
		return o.byAgentID(o.agentID)
	}
	if v := o.deps.Getenv("KUBE_CONTEXT"); v != "" {
		return o.byName(v, "$KUBE_CONTEXT")
	}
	agents := o.set.Contexts(true)
	switch {
	case len(agents) == 0:
		return "", badInput(kubeconfig.NoAgentContextsHint, "no agent contexts in %s", describeFiles(o.set))
	case len(agents) == 1:
		return agents[0].Name, nil
	case o.deps.Terminal != nil && o.deps.Terminal.Interactive():
		names := contextNames(agents)
		i, err := o.deps.Terminal.Pick("Switch to which agent context?", names)
		if err != nil {
			return "", badInput("pass NAME: kubectl gitlab use-context NAME", "%v", err)
		}
		return names[i], nil
	}
	return "", badInput(kubeconfig.SwitchHint(agents)+"\nor set KUBE_CONTEXT (as Auto DevOps does)",
		"%d agent contexts in %s, and no NAME, --agent-id or $KUBE_CONTEXT to choose one", len(agents), describeFiles(o.set))
}

// byName finds a context by full name, else by agent name when that is
// unique among agent contexts.
func (o *UseContextOptions) byName(q, from string) (string, error) {
	if _, _, ok := o.set.Context(q); ok {
		return q, nil
	}
	agents := o.set.Contexts(true)
	var matches []kubeconfig.ContextInfo
	for _, a := range agents {
		if i := strings.LastIndexByte(a.Name, ':'); i >= 0 && a.Name[i+1:] == q {
			matches = append(matches, a)
		}
	}
	what := fmt.Sprintf("%q", q)
	if from != "" {
		what = from + " " + what
	}
	switch len(matches) {
	case 1:
		return matches[0].Name, nil
	case 0:
		return "", badInput(kubeconfig.SwitchHint(agents), "no context named %s in %s", what, describeFiles(o.set))
	}
	return "", badInput(kubeconfig.SwitchHint(matches), "agent name %s is ambiguous: %d agent contexts match", what, len(matches))
}

func (o *UseContextOptions) byAgentID(id int64) (string, error) {
	agents := o.set.Contexts(true)
	var matches []kubeconfig.ContextInfo
	for _, a := range agents {
		if a.AgentID == id {
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0].Name, nil
	case 0:
		if _, _, inJob := o.deps.jobGitLab(); inJob {
			return o.createForJob(id)
		}
		return "", badInput(kubeconfig.SwitchHint(agents), "no agent context for agent ID %d in %s", id, describeFiles(o.set))
	}
	return "", badInput(kubeconfig.SwitchHint(matches), "agent ID %d is ambiguous: %d contexts use it", id, len(matches))
}

// createForJob writes an exec-based context for an agent that the job may
// use but whose context is missing (e.g. the job's kubeconfig was replaced):
// the four "kubectl config set-…" lines of GitLab's docs in one step.
func (o *UseContextOptions) createForJob(id int64) (string, error) {
	baseURL, jobToken, _ := o.deps.jobGitLab()
	client, err := o.deps.gitlabClient(baseURL, gitlab.JobToken(jobToken), o.ca)
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	allowed, err := client.AllowedAgents(ctx)
	if err != nil {
		return "", gitlabFailure(err)
	}
	i := slices.IndexFunc(allowed.Agents, func(a gitlab.AllowedAgent) bool { return a.ID == id })
	if i < 0 {
		return "", failed("the agent's config.yaml must share it with this project (ci_access), for this environment and branch",
			"this job may not use agent %d; it may use: %s", id, allowedIDs(allowed.Agents))
	}
	contexts := jobAgentContexts(o.set, allowed.Agents[i:i+1])
	kasURL, err := resolveKASURL(ctx, client, "")
	if err != nil {
		return "", err
	}
	if err := (agentWrite{Contexts: contexts, KASURL: kasURL, CA: o.ca}).write(o.set); err != nil {
		return "", err
	}
	fmt.Fprintf(o.deps.IO.Out, "Created context %s, exec-based.\n", describeAgentContext(contexts[0]))
	// Reload: the CA and current-context edits below apply to the new file.
	if o.set, err = kubeconfig.Load(o.set.Paths); err != nil {
		return "", err
	}
	return contexts[0].Context, nil
}

func contextNames(infos []kubeconfig.ContextInfo) []string {
	names := make([]string, len(infos))
	for i, c := range infos {
		names[i] = c.Name
	}
	return names
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
