package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/discovery"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/login"
)

// AgentsOptions lists the agents a user or a CI job may use.
type AgentsOptions struct {
	deps                 *Deps
	Kubeconfig           string
	GitLabURL            string
	Project              string
	CertificateAuthority string
	Output               string
	Web                  bool

	set      *kubeconfig.Set
	ca       *kas.CABundle
	inJob    bool
	jobToken string
}

func newAgentsCommand(d *Deps) *cobra.Command {
	o := &AgentsOptions{deps: d}
	c := &cobra.Command{
		Use:   "agents",
		Short: "List the GitLab agents you, or this CI job, may use",
		Long: `List the agents that a CI job, or a person, may use, with their IDs, configuration
projects, access and default namespaces.

In a GitLab CI job (CI_JOB_TOKEN and CI_API_V4_URL set), without --project: the
agents the job may use (GET /api/v4/job/allowed_agents), named as the job's
kubeconfig names them.

With --project PATH, the project you deploy from or the agents' own project.
GitLab's API needs a credential with read_api or api, the first of:
$KUBECTL_GITLAB_TOKEN or $GITLAB_TOKEN; the token kept by login, when it may;
the refresh token login --web --keep-refresh-token kept (a short-lived token,
in memory only); with --web, a one-off approval in the browser (its token is
revoked at the end). The token login --web mints has only k8s_proxy.
  ci_access    the agent admits the project's CI jobs (GraphQL ciAccessAuthorizedAgents)
  user_access  the agent admits you, a member of the project or its group,
               with a personal access token (GraphQL userAccessAuthorizedAgents)
  registered   the agent is registered in the project (REST cluster_agents)
and after each the identity KAS uses (access_as): agent, ci_job, impersonate, user.
GitLab shows these lists from the Developer role up.

update-kubeconfig --project PATH writes a context for each agent that admits you
(user_access) or is registered in the project; -o name prints those contexts' names.`,
		Example: `  # in a CI job
  kubectl gitlab agents
  # the agents you may use to deploy group/app
  kubectl gitlab agents --project group/app
  # as JSON, or the context names update-kubeconfig would write
  kubectl gitlab agents --project group/app -o json
  kubectl gitlab agents --project group/app -o name
  # with no token that may read GitLab's API: approve this once in the browser
  kubectl gitlab agents --project group/app --web`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(context.Background())
		}),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance (default in a job: $CI_API_V4_URL; else $GITLAB_URL, or the one you logged in to)")
	c.Flags().StringVar(&o.Project, "project", "", "the project (full path) whose agents to list: the one you deploy from, or the agents' own")
	addCAFlag(c, &o.CertificateAuthority, ", for GitLab's certificate")
	addOutputFlag(c, &o.Output, "wide", "name", "json", "yaml")
	addAPIWebFlag(c, &o.Web)
	return c
}

// Complete finds the GitLab and loads the kubeconfig (for the contexts'
// names; it need not exist).
func (o *AgentsOptions) Complete() error {
	var err error
	if o.GitLabURL, o.jobToken, o.inJob, err = o.deps.gitlabOf(o.GitLabURL, o.Project); err != nil {
		return err
	}
	if !o.inJob && o.Project == "" {
		return badInput("pass --project PATH: the project you deploy from, or the agents' own project", "which agents? not in a GitLab CI job, and no --project given")
	}
	if o.inJob && o.Web {
		return badInput("leave out --web: a job asks with its job token", "--web approves a workstation's command in the browser; this is a GitLab CI job")
	}
	if err := requireGitLabURL(o.GitLabURL); err != nil {
		return err
	}
	if o.ca, err = o.deps.loadCA(o.CertificateAuthority); err != nil {
		return err
	}
	o.set, err = o.deps.loadKubeconfig(o.Kubeconfig)
	return err
}

// Run asks GitLab and prints the agents.
func (o *AgentsOptions) Run(ctx context.Context) error {
	var found discovery.Found
	var names map[int64]string
	if o.inJob {
		client, _, err := o.deps.clientOf(o.GitLabURL, o.jobToken, o.inJob, o.ca)
		if err != nil {
			return err
		}
		if found, err = discovery.ForJob(ctx, client, o.set); err != nil {
			return err
		}
		names = o.contextNames(client, found.Agents)
	} else {
		ctx, stop := o.deps.context()
		defer stop()
		err := o.deps.apiAccess(o.GitLabURL, o.ca, o.Web).Do(ctx, func(ctx context.Context, s *login.Session) error {
			var err error
			found, err = discovery.ForProject(ctx, s.Client, o.Project)
			names = o.contextNames(s.Client, found.Agents)
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, note := range found.Notes {
		fmt.Fprintf(o.deps.IO.ErrOut, "note: %s\n", note)
	}
	return printAgents(o.deps, o.Output, found.Agents, names, o.where())
}

// where names the source of the list, for an empty one.
func (o *AgentsOptions) where() string {
	if o.inJob {
		return "this job may use"
	}
	return "authorize or are registered in project " + o.Project
}

// contextNames are the contexts the agents have, or that update-kubeconfig
// would write for them.
func (o *AgentsOptions) contextNames(client *gitlab.Client, agents []discovery.Agent) map[int64]string {
	names := map[int64]string{}
	if o.inJob {
		for _, a := range agents {
			names[a.ID] = agentcontext.JobContextName(o.set, a.ID, a.ConfigProject)
		}
		return names
	}
	var targets []agentcontext.Target
	for _, a := range agents {
		targets = append(targets, a.Target())
	}
	specs, err := agentcontext.ForWorkstation(o.set, client.BaseURL().String(), client.BaseURL().Host, targets, agentcontext.Naming{})
	if err != nil {
		return names // no name for any: update-kubeconfig will say why
	}
	for _, s := range specs {
		names[s.AgentID] = s.Context
	}
	return names
}

// agentView is an agent as the agents command shows it.
type agentView struct {
	ID               int64              `json:"id" yaml:"id"`
	Name             string             `json:"name,omitempty" yaml:"name,omitempty"`
	ConfigProject    string             `json:"configProject,omitempty" yaml:"configProject,omitempty"`
	Access           []discovery.Access `json:"access" yaml:"access"`
	DefaultNamespace string             `json:"defaultNamespace,omitempty" yaml:"defaultNamespace,omitempty"`
	Context          string             `json:"context,omitempty" yaml:"context,omitempty"`
}

func printAgents(d *Deps, format string, agents []discovery.Agent, contexts map[int64]string, where string) error {
	views := []agentView{}
	for _, a := range agents {
		views = append(views, agentView{ID: a.ID, Name: a.Name, ConfigProject: a.ConfigProject, Access: a.Access,
			DefaultNamespace: a.DefaultNamespace, Context: contexts[a.ID]})
	}
	out := d.IO.Out
	switch format {
	case "json", "yaml":
		return printStructured(out, format, struct {
			Agents []agentView `json:"agents" yaml:"agents"`
		}{views})
	case "name":
		for _, v := range views {
			if v.Context != "" {
				fmt.Fprintln(out, termsafe.Text(v.Context))
			}
		}
		return nil
	}
	if len(views) == 0 {
		fmt.Fprintf(d.IO.ErrOut, "No agents %s.\n", where)
		return nil
	}
	// Names come from GitLab: each is one cell, its control characters
	// escaped (tabs and line breaks included).
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return termsafe.Text(s)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	header := "AGENT-ID\tNAME\tCONFIG-PROJECT\tACCESS\tNAMESPACE"
	if format == "wide" {
		header += "\tCONTEXT"
	}
	fmt.Fprintln(tw, header)
	for _, v := range views {
		access := make([]string, len(v.Access))
		for i, a := range v.Access {
			access[i] = a.String()
		}
		row := strings.Join([]string{strconv.FormatInt(v.ID, 10), dash(v.Name), dash(v.ConfigProject), strings.Join(access, ","), dash(v.DefaultNamespace)}, "\t")
		if format == "wide" {
			row += "\t" + dash(v.Context)
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}
