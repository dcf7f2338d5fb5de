package cmd

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
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

	set       *kubeconfig.Set
	ca        *kas.CABundle
	inJob     bool
	jobToken  string
	userToken string
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
gave them and replacing the pasted job token. On a workstation, pass --agent ID
or --project PATH (all its agents) with --gitlab-url.

The KAS URL comes from GET /api/v4/metadata, else is derived from the GitLab URL;
--kas-url overrides.`,
		Example: `  # in a CI job: every allowed agent, then switch to one
  kubectl gitlab update-kubeconfig --use-context path/to/agent/project:agent-name
  # on a workstation: all agents of a project
  kubectl gitlab update-kubeconfig --gitlab-url https://gitlab.example.com --project group/agents
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
	c.Flags().StringVar(&o.Project, "project", "", "write contexts for every agent of this project (path or ID)")
	c.Flags().StringVar(&o.KASURL, "kas-url", "", "the k8s-proxy URL, if GitLab's metadata does not tell it")
	addCAFlag(c, &o.CertificateAuthority, "")
	addContextFlag(c, &o.UseContext, "use-context", "switch to this context afterwards (full or agent name)", d)
	return c
}

// Complete checks every input before any network call or write.
func (o *UpdateKubeconfigOptions) Complete() error {
	jobURL, jobToken, inJob := o.deps.jobGitLab()
	o.inJob = inJob && o.Project == ""
	o.jobToken = jobToken
	if err := credential.CheckSecret("CI_JOB_TOKEN", jobToken); o.inJob && err != nil {
		return err
	}
	if o.GitLabURL == "" && o.inJob {
		o.GitLabURL = jobURL
	}
	if o.GitLabURL == "" && !o.inJob {
		o.GitLabURL = o.deps.Getenv("GITLAB_URL")
	}
	if o.GitLabURL == "" && !o.inJob {
		if store, err := o.deps.tokenStore(tokenstore.KindAuto, nil); err == nil {
			o.GitLabURL, _ = tokenstore.SoleURL(store)
		}
	}
	switch {
	case o.inJob:
	case o.Project == "" && len(o.AgentIDs) == 0:
		return badInput("on a workstation pass --agent ID or --project PATH, with --gitlab-url; in a CI job CI_JOB_TOKEN and CI_API_V4_URL are set for you",
			"no agents to write: not in a GitLab CI job, and neither --agent nor --project given")
	case o.GitLabURL == "":
		return badInput("pass --gitlab-url https://gitlab.example.com (or log in first: kubectl gitlab login --gitlab-url …)", "which GitLab? --gitlab-url is needed outside a CI job")
	}
	if _, err := gitlab.ParseBaseURL(o.GitLabURL); err != nil {
		return err
	}
	if o.KASURL != "" {
		// The URL is written into the kubeconfig: no credential in it,
		// and shown redacted.
		const fix = "pass the https URL of KAS's k8s-proxy, e.g. https://kas.gitlab.example.com/k8s-proxy/"
		u, err := url.Parse(o.KASURL)
		switch {
		case redact.Differs(o.KASURL):
			return badInput(fix+", without a user name, token or query: get-token supplies the credential", "--kas-url %q carries a user name, token, query or fragment", redact.URL(o.KASURL))
		case err != nil || u.Scheme != "https" || u.Host == "":
			return badInput(fix, "--kas-url %q is not an https URL", redact.URL(o.KASURL))
		}
	}
	var err error
	if o.ca, err = o.deps.loadCA(o.CertificateAuthority); err != nil {
		return err
	}
	o.set, err = o.deps.loadKubeconfig(o.Kubeconfig)
	return err
}

// Run asks GitLab for the agents, writes their contexts, and switches if
// asked to. Nothing is written when a GitLab call fails.
func (o *UpdateKubeconfigOptions) Run(ctx context.Context) error {
	auth := gitlab.JobToken(o.jobToken)
	if !o.inJob {
		var err error
		if o.userToken, err = o.workstationToken(); err != nil {
			return err
		}
		auth = gitlab.PrivateToken(o.userToken)
	}
	client, err := o.deps.gitlabClient(o.GitLabURL, auth, o.ca)
	if err != nil {
		return err
	}
	var contexts []agentcontext.Spec
	if o.inJob {
		allowed, err := client.AllowedAgents(ctx)
		if err != nil {
			return err
		}
		if contexts, err = agentcontext.ForJob(o.set, allowed.Agents, o.AgentIDs); err != nil {
			return err
		}
	} else {
		if contexts, err = o.workstationContexts(ctx, client); err != nil {
			return err
		}
	}
	kasURL := o.KASURL
	if kasURL == "" {
		fallback := ""
		if existing, ok := agentcontext.OfAgent(o.set, contexts[0].AgentID); ok {
			// The cluster's own URL (Info.Server is redacted), unless it
			// carries a credential, which is not copied.
			if cluster, _, ok := o.set.Cluster(existing.Cluster); ok && !redact.Differs(cluster.Server) {
				fallback = cluster.Server
			}
		}
		if kasURL, err = kas.DiscoverProxyURL(ctx, client, fallback); err != nil {
			return err
		}
	}
	w := agentcontext.Write{Contexts: contexts, KASURL: kasURL, CA: o.ca.PEMOrNil()}
	if !o.inJob {
		// The exec entry names the instance, so get-token finds its token.
		w.GitLabURL = client.BaseURL().String()
	}
	if err := w.Apply(o.set); err != nil {
		return err
	}
	out := o.deps.IO.Out
	for _, c := range contexts {
		fmt.Fprintf(out, "Context %s: exec %s get-token --agent-id=%d\n", c, agentcontext.PluginCommand, c.AgentID)
	}
	fmt.Fprintf(out, "KAS: %s\n", redact.URL(kasURL))
	if !o.deps.onPath(agentcontext.PluginCommand) {
		fmt.Fprintf(o.deps.IO.ErrOut, "warning: %s is not on PATH, so kubectl will not find it; install it with kubectl krew install gitlab\n", agentcontext.PluginCommand)
	}
	if o.UseContext == "" {
		return nil
	}
	return o.switchTo(o.UseContext)
}

// workstationContexts plans contexts for --project and/or --agent.
func (o *UpdateKubeconfigOptions) workstationContexts(ctx context.Context, client *gitlab.Client) ([]agentcontext.Spec, error) {
	host := client.BaseURL().Host
	if o.Project == "" {
		return agentcontext.ForAgentIDs(host, o.AgentIDs), nil
	}
	if o.userToken == "" {
		return nil, badInput("set KUBECTL_GITLAB_TOKEN (or GITLAB_TOKEN) to a token with the read_api scope, or log in with such a token (kubectl gitlab login); or pass --agent ID", "--project needs a token to list the project's agents")
	}
	agents, err := client.ProjectAgents(ctx, o.Project)
	if err != nil {
		return nil, err
	}
	contexts := agentcontext.ForProject(host, agents, o.AgentIDs)
	if len(contexts) == 0 {
		return nil, failed("check the project path, or create an agent in it", "project %s has no agents to write", o.Project)
	}
	return contexts, nil
}

// workstationToken is $KUBECTL_GITLAB_TOKEN or $GITLAB_TOKEN, else the
// token login stored for the instance; empty when there is none.
func (o *UpdateKubeconfigOptions) workstationToken() (string, error) {
	if t, variable := pat.FromEnv(o.deps.Getenv); t != "" {
		return t, credential.CheckSecret(variable, t)
	}
	store, err := o.deps.tokenStore(tokenstore.KindAuto, nil)
	if err != nil {
		return "", nil
	}
	if e, err := store.Get(o.GitLabURL); err == nil {
		return e.Token, credential.CheckSecret("the token stored for "+o.GitLabURL, e.Token)
	}
	return "", nil
}

// switchTo switches as use-context NAME does, in the kubeconfig just
// written.
func (o *UpdateKubeconfigOptions) switchTo(name string) error {
	set, err := kubeconfig.Load(o.set.Paths)
	if err != nil {
		return err
	}
	r, err := agentcontext.Resolve(set, agentcontext.Query{Name: name})
	if err != nil {
		return err
	}
	if _, err := (agentcontext.Switch{Context: r.Info}).Apply(set); err != nil {
		return err
	}
	fmt.Fprintf(o.deps.IO.Out, "Switched to context %q.\n", r.Name)
	return nil
}
