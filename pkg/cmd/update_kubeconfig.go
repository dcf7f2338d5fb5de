package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/discovery"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/login"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// UpdateKubeconfigOptions writes exec-based agent contexts.
type UpdateKubeconfigOptions struct {
	deps                 *Deps
	Kubeconfig           string
	GitLabURL            string
	AgentIDs             []int64
	Project              string
	KASURL               string
	CertificateAuthority string
	UseContext           string
	ContextNames         []string

	naming   agentcontext.Naming
	set      *kubeconfig.Set
	ca       *kas.CABundle
	inJob    bool
	jobToken string
	Web      bool
}

func newUpdateKubeconfigCommand(d *Deps) *cobra.Command {
	o := &UpdateKubeconfigOptions{deps: d}
	c := &cobra.Command{
		Use:   "update-kubeconfig",
		Short: "Write agent contexts whose credentials kubectl-gitlab mints on demand (no secret in the file)",
		Long: `Write a context per agent, whose user runs "kubectl-gitlab get-token --agent-id N"
(an exec entry: interactiveMode Never, resolved through PATH, no secret in it).

In a GitLab CI job (CI_JOB_TOKEN and CI_API_V4_URL set) it writes one context per
agent the job may use (GET /api/v4/job/allowed_agents), keeping the names GitLab
gave them and replacing the pasted job token.

On a workstation, --project PATH writes a context for every agent that admits you
through that project (its user_access lists the project or its group) and every
agent registered in it: PATH may be the project you deploy from or the agents' own
(see kubectl gitlab agents --project PATH, which also says which credential
may read GitLab's API; --web approves this command once in the browser).
--agent ID writes those agents only.
Contexts are named as in CI jobs, <agent project path>:<agent name>, so the same
manifests and scripts work in both places; --context-name chooses other names.
A name that another GitLab's context already has gets the host as a prefix
(<host>/<project>:<agent>); nothing of another GitLab is overwritten.

When the kubeconfig has no current context, the one written (the first in name
order, if several) becomes current, and it says which; --use-context picks
another. A current context stays unless --use-context is given. In a CI job, only
$KUBE_CONTEXT or a sole agent context is made current.

The KAS URL (KAS's k8s-proxy): --kas-url; in a job, the server GitLab wrote into
the job's kubeconfig (cluster gitlab, never overwritten), else $K8S_PROXY_URL;
on a workstation GET /api/v4/metadata when the token may read it (read_user,
read_api or api; not a k8s_proxy-only token), else the URL login --web recorded
from it, else the server the kubeconfig already has. Failing all of these it is
guessed from the GitLab URL, and stderr says so.`,
		Example: `  # in a CI job: every allowed agent, then switch to one
  kubectl gitlab update-kubeconfig --use-context path/to/agent/project:agent-name
  # on a workstation: the agents you may use to deploy group/app
  kubectl gitlab update-kubeconfig --gitlab-url https://gitlab.example.com --project group/app
  # other names: one per agent, or a template of {project} {agent} {id} {host}
  kubectl gitlab update-kubeconfig --project group/app --context-name 1234=prod --context-name 5678=staging
  kubectl gitlab update-kubeconfig --project group/app --context-name '{host}/{project}:{agent}'
  # one agent by ID, with a self-signed KAS
  kubectl gitlab update-kubeconfig --gitlab-url https://gitlab.example.com --agent 1234 --certificate-authority kas-ca.pem`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(context.Background())
		}),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance (default in a job: $CI_API_V4_URL)")
	addAgentIDsFlag(c, &o.AgentIDs, "agent ID to write a context for (repeatable; in a job, limits to these)", d)
	c.Flags().StringVar(&o.Project, "project", "", "write contexts for the agents you may use through this project (path; the deploying project or the agents' own)")
	c.Flags().StringArrayVar(&o.ContextNames, "context-name", nil, "name the contexts: NAME (one agent), ID=NAME (repeatable), or a template of {project} {agent} {id} {host} (default {project}:{agent})")
	c.Flags().StringVar(&o.KASURL, "kas-url", "", "the k8s-proxy URL, if GitLab's metadata does not tell it")
	addCAFlag(c, &o.CertificateAuthority, "")
	addContextFlag(c, &o.UseContext, "use-context", "switch to this context afterwards (full or agent name)", d)
	addAPIWebFlag(c, &o.Web)
	return c
}

// Complete checks every input before any network call or write.
func (o *UpdateKubeconfigOptions) Complete() error {
	var err error
	if o.GitLabURL, o.jobToken, o.inJob, err = o.deps.gitlabOf(o.GitLabURL, o.Project); err != nil {
		return err
	}
	switch {
	case o.inJob && len(o.ContextNames) > 0:
		return badInput("leave --context-name out in a job (or write workstation contexts with --project and a personal access token)",
			"in a CI job the contexts keep the names GitLab gave them; --context-name is for workstations")
	case o.Web && (o.inJob || o.Project == ""):
		return badInput("leave out --web, or add --project PATH on a workstation", "--web approves finding a project's agents in the browser; it goes with --project on a workstation")
	case !o.inJob && o.Project == "" && len(o.AgentIDs) == 0:
		return badInput("on a workstation pass --agent ID or --project PATH, with --gitlab-url; in a CI job CI_JOB_TOKEN and CI_API_V4_URL are set for you",
			"no agents to write: not in a GitLab CI job, and neither --agent nor --project given")
	}
	if err := requireGitLabURL(o.GitLabURL); err != nil {
		return err
	}
	if o.KASURL != "" {
		if err := kas.CheckProxyURL(o.KASURL, kas.FromFlag); err != nil {
			return err
		}
	}
	if o.naming, err = agentcontext.ParseNaming(o.ContextNames); err != nil {
		return err
	}
	if o.ca, err = o.deps.loadCA(o.CertificateAuthority); err != nil {
		return err
	}
	o.set, err = o.deps.loadKubeconfig(o.Kubeconfig)
	return err
}

// Run asks GitLab for the agents, writes their contexts, and switches if
// asked to. Nothing is written when a GitLab call fails.
func (o *UpdateKubeconfigOptions) Run(ctx context.Context) error {
	var client *gitlab.Client
	var contexts []agentcontext.Spec
	var found kas.ProxyURL
	var err error
	switch {
	case o.Project != "" && !o.inJob:
		// Discovery needs GitLab's API: login.API finds the credential;
		// the one that found the agents may read /metadata too (read_api
		// or api).
		ctx, stop := o.deps.context()
		defer stop()
		err = o.deps.apiAccess(o.GitLabURL, o.ca, o.Web).Do(ctx, func(ctx context.Context, s *login.Session) error {
			client = s.Client
			if contexts, err = o.workstationContexts(ctx, client); err != nil {
				return err
			}
			found, err = o.findKAS(ctx, client, contexts, kas.MetadataAllowed, "")
			return err
		})
	default:
		var userToken string
		if client, userToken, err = o.deps.clientOf(o.GitLabURL, o.jobToken, o.inJob, o.ca); err != nil {
			return err
		}
		if o.inJob {
			var allowed *gitlab.AllowedAgents
			if allowed, err = client.AllowedAgents(ctx); err != nil {
				return err
			}
			if contexts, err = agentcontext.ForJob(o.set, allowed.Agents, o.AgentIDs); err != nil {
				return err
			}
		} else if contexts, err = o.workstationContexts(ctx, client); err != nil {
			return err
		}
		access, why := kas.MetadataDenied, "there is no token to ask GitLab's /api/v4/metadata with (kubectl gitlab login, or $KUBECTL_GITLAB_TOKEN)"
		if userToken != "" && !o.inJob {
			scopes, known := o.deps.userTokenScopes(o.GitLabURL)
			access = kas.MetadataAccessOf(scopes, known)
			why = "the stored token's scopes (" + strings.Join(scopes, ", ") + ") may not read GitLab's /api/v4/metadata, which needs read_user, read_api or api"
		}
		found, err = o.findKAS(ctx, client, contexts, access, why)
	}
	if err != nil {
		return err
	}
	printNote(o.deps.IO.ErrOut, found.Note)
	w := agentcontext.Write{Contexts: contexts, KASURL: found.URL, CA: o.ca.PEMOrNil()}
	if !o.inJob {
		// The exec entry names the instance, so get-token finds its token.
		w.GitLabURL = client.BaseURL().String()
	}
	if err := w.Apply(o.set); err != nil {
		return err
	}
	out := o.deps.IO.Out
	for _, c := range contexts {
		if c.Renamed != "" {
			fmt.Fprintf(out, "Renamed context %q to %q.\n", c.Renamed, c.Context)
		}
		fmt.Fprintf(out, "Context %s: exec %s get-token --agent-id=%d\n", c, agentcontext.PluginCommand, c.AgentID)
		if c.Note != "" {
			fmt.Fprintf(o.deps.IO.ErrOut, "note: context %q is host-qualified: %s\n", c.Context, c.Note)
		}
	}
	fmt.Fprintf(out, "KAS: %s (from %s)\n", redact.URL(found.URL), found.Source)
	if !o.deps.onPath(agentcontext.PluginCommand) {
		fmt.Fprintf(o.deps.IO.ErrOut, "warning: %s is not on PATH, so kubectl will not find it; install it with kubectl krew install gitlab\n", agentcontext.PluginCommand)
	}
	return o.makeCurrent(contexts)
}

// findKAS finds the k8s-proxy URL to write (kas.FindProxyURL): in a job
// GitLab's own or $K8S_PROXY_URL; on a workstation /metadata when access
// allows, else what login --web recorded, else the kubeconfig's server,
// else a guess.
func (o *UpdateKubeconfigOptions) findKAS(ctx context.Context, client *gitlab.Client, contexts []agentcontext.Spec, access kas.MetadataAccess, why string) (kas.ProxyURL, error) {
	find := kas.FindProxyURL{Flag: o.KASURL, Client: client, Metadata: access, Why: why, Override: "--kas-url URL"}
	if o.inJob {
		find.GitLabWrote = agentcontext.JobServer(o.set)
		find.Env = o.deps.Getenv("K8S_PROXY_URL")
		find.Metadata, find.Why = kas.MetadataDenied, "GitLab's /api/v4/metadata takes no job token"
		find.Override = "--kas-url URL (or set $K8S_PROXY_URL)"
		return find.Find(ctx)
	}
	if recorded, err := tokenstore.NewKASURLs(o.deps.configDir()).Get(client.BaseURL().String()); err == nil {
		find.Recorded = recorded.URL
	}
	// The kubeconfig's own server, unless it carries a credential, which
	// is not copied.
	if cluster, _, ok := o.set.Cluster(contexts[0].Cluster); ok && !redact.Differs(cluster.Server) {
		find.Previous = cluster.Server
	}
	return find.Find(ctx)
}

// makeCurrent switches as the cloud CLIs do after writing: to
// --use-context, else, when the kubeconfig has no (usable) current
// context, to the one written, the first in name order. In a job only an
// unambiguous choice is made ($KUBE_CONTEXT, or the only agent context):
// a guess could deploy to the wrong cluster.
func (o *UpdateKubeconfigOptions) makeCurrent(written []agentcontext.Spec) error {
	set, err := kubeconfig.Load(o.set.Paths)
	if err != nil {
		return err
	}
	out := o.deps.IO.Out
	if o.UseContext != "" {
		r, err := agentcontext.Resolve(set, agentcontext.Query{Name: o.UseContext})
		if err != nil {
			return err
		}
		return switchContext(o.deps, set, r.Info, "")
	}
	if current := set.CurrentContext(); current != "" {
		if _, _, ok := set.Context(current); ok {
			fmt.Fprintf(out, "The current context stays %q (switch with kubectl gitlab use-context NAME).\n", current)
			return nil
		}
	}
	if o.inJob {
		r, err := agentcontext.Resolve(set, agentcontext.Query{KubeContext: o.deps.Getenv("KUBE_CONTEXT")})
		if err != nil {
			fmt.Fprintf(out, "No current context: %v. Switch with kubectl gitlab use-context NAME.\n", err)
			return nil
		}
		return switchContext(o.deps, set, r.Info, " ("+r.By+")")
	}
	names := make([]string, len(written))
	for i, c := range written {
		names[i] = c.Context
	}
	slices.Sort(names)
	why := " (the context written)"
	if len(names) > 1 {
		why = fmt.Sprintf(" (the first of the %d written, in name order)", len(names))
	}
	return switchContext(o.deps, set, agentcontext.Describe(set, names[0]), why)
}

// workstationContexts plans contexts for --project and/or --agent.
func (o *UpdateKubeconfigOptions) workstationContexts(ctx context.Context, client *gitlab.Client) ([]agentcontext.Spec, error) {
	var targets []agentcontext.Target
	if o.Project == "" {
		for _, id := range o.AgentIDs {
			targets = append(targets, agentcontext.Target{ID: id})
		}
	} else {
		found, err := discovery.ForProject(ctx, client, o.Project)
		if err != nil {
			return nil, err
		}
		for _, note := range found.Notes {
			fmt.Fprintf(o.deps.IO.ErrOut, "note: %s\n", note)
		}
		if targets, err = o.usable(found.Agents); err != nil {
			return nil, err
		}
	}
	return agentcontext.ForWorkstation(o.set, client.BaseURL().String(), client.BaseURL().Host, targets, o.naming)
}

// usable are the agents the user may reach with a personal access token:
// those whose user_access admits them, and those registered in the
// project (their user_access may admit the user through another project).
// An agent only the project's CI jobs may use is left out, and said so.
func (o *UpdateKubeconfigOptions) usable(agents []discovery.Agent) ([]agentcontext.Target, error) {
	var targets []agentcontext.Target
	var ciOnly []string
	for _, id := range o.AgentIDs {
		if !slices.ContainsFunc(agents, func(a discovery.Agent) bool { return a.ID == id }) {
			return nil, failed("see kubectl gitlab agents --project "+o.Project, "agent %d neither authorizes project %s nor is registered in it", id, o.Project)
		}
	}
	for _, a := range agents {
		if len(o.AgentIDs) > 0 && !slices.Contains(o.AgentIDs, a.ID) {
			continue
		}
		if a.Has(discovery.ViaUserAccess) || a.Has(discovery.ViaRegistered) {
			targets = append(targets, a.Target())
			continue
		}
		ciOnly = append(ciOnly, fmt.Sprintf("%s:%s (agent %d)", a.ConfigProject, a.Name, a.ID))
	}
	if len(ciOnly) > 0 {
		fmt.Fprintf(o.deps.IO.ErrOut, "note: not written, as they admit the CI jobs of %s (ci_access) but not you (user_access): %s\n", o.Project, strings.Join(ciOnly, ", "))
	}
	if len(targets) == 0 {
		return nil, failed("an agent's .gitlab/agents/<name>/config.yaml must list "+o.Project+" (or a group above it) under user_access, where you are at least Developer (see kubectl gitlab access explain)",
			"no agent admits you through project %s", o.Project)
	}
	return targets, nil
}
