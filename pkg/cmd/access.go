package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

func newAccessCommand(d *Deps) *cobra.Command {
	c := &cobra.Command{
		Use:   "access",
		Short: "Check an agent's ci_access config offline: lint it, explain who gets in, generate RBAC",
		Long: `Who may use an agent, and as whom, is decided by the agent's
.gitlab/agents/<name>/config.yaml (ci_access) and by RBAC on the impersonated
identity. Mistakes show up only as a 403 in someone's pipeline; these commands
find them before you push.`,
	}
	c.AddCommand(newAccessLintCommand(d), newAccessExplainCommand(d), newAccessRBACCommand(d))
	return c
}

func readConfigFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, badInput("pass the agent's .gitlab/agents/<name>/config.yaml", "%s: no such file", path)
	case err != nil:
		return nil, badInput("", "cannot read %s: %w", path, errors.Unwrap(err))
	}
	return data, nil
}

func newAccessLintCommand(d *Deps) *cobra.Command {
	var opts access.LintOptions
	var output string
	c := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Report mistakes in agent config files, like a compiler (file:line:col: error|warning: message)",
		Example: `  kubectl gitlab access lint .gitlab/agents/prod/config.yaml
  kubectl gitlab access lint --agent-project group/agents --gitlab-com .gitlab/agents/*/config.yaml
  kubectl gitlab access lint -o json .gitlab/agents/prod/config.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(func(files []string) error {
			if err := opts.Validate(); err != nil {
				return badInput("see kubectl gitlab access lint --help", "%w", err)
			}
			bad := false
			for _, f := range files {
				data, err := readConfigFile(f)
				if err != nil {
					return err
				}
				r := access.Lint(f, data, opts)
				if output == "json" {
					err = r.WriteJSON(d.IO.Out)
				} else {
					err = r.WriteText(d.IO.Out)
				}
				if err != nil {
					return err
				}
				bad = bad || r.HasErrors()
			}
			if bad {
				return failed("", "the agent config has errors; GitLab would not authorize what it means to")
			}
			return nil
		}),
	}
	c.Flags().StringVar(&opts.AgentProject, "agent-project", "", "full path of the project holding the agent config, to check entries against its top-level group")
	c.Flags().BoolVar(&opts.GitLabCom, "gitlab-com", false, "check for GitLab.com (no protected_branches_only, no instance-level authorization)")
	c.Flags().BoolVar(&opts.InstanceLevelAuthorization, "instance-level-authorization", false, "an administrator enabled instance-level authorization (self-managed)")
	addOutputFlag(c, &output, "json")
	return c
}

func newAccessExplainCommand(d *Deps) *cobra.Command {
	var opts access.ExplainOptions
	var output string
	c := &cobra.Command{
		Use:   "explain FILE --agent-project PATH --project PATH",
		Short: "Tell whether a job gets in, through which ci_access entry, in which namespace and as whom",
		Example: `  kubectl gitlab access explain .gitlab/agents/prod/config.yaml \
    --agent-project group/agents --project group/app --environment review/feature-1
  # with IDs, the exact impersonated user and groups
  kubectl gitlab access explain config.yaml --agent-project group1/agents --project group1/group1-1/project1 \
    --project-id 150 --group-id 23 --group-id 25 --environment prod --environment-tier production --job-id 1074499489`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(args []string) error {
			data, err := readConfigFile(args[0])
			if err != nil {
				return err
			}
			ex, err := access.Explain(access.Parse(args[0], data), opts)
			if err != nil {
				return badInput("see kubectl gitlab access explain --help", "%w", err)
			}
			if output == "json" {
				return ex.WriteJSON(d.IO.Out)
			}
			return ex.WriteText(d.IO.Out)
		}),
	}
	f := c.Flags()
	f.StringVar(&opts.AgentProject, "agent-project", "", "full path of the project holding the agent config (required)")
	f.StringVar(&opts.Project, "project", "", "full path of the job's project (required)")
	f.StringSliceVar(&opts.Groups, "group", nil, "a group the project belongs to, beyond those in its path (repeatable)")
	f.BoolVar(&opts.UserNamespace, "user-namespace", false, "the project lives in a user's namespace, not a group")
	f.StringVar(&opts.Environment, "environment", "", "the job's environment name")
	f.StringVar(&opts.EnvironmentSlug, "environment-slug", "", "the environment's slug, if not the one GitLab derives from its name")
	f.StringVar(&opts.EnvironmentTier, "environment-tier", "", "the environment's tier (production, staging, testing, development, other)")
	f.BoolVar(&opts.ProtectedBranch, "protected-branch", false, "the job runs on a protected branch or tag")
	f.BoolVar(&opts.InstanceLevelAuthorization, "instance-level-authorization", false, "an administrator enabled instance-level authorization")
	f.Int64Var(&opts.ProjectID, "project-id", 0, "the project's ID, for the impersonated groups")
	f.Int64SliceVar(&opts.GroupIDs, "group-id", nil, "IDs of the project's groups, outermost first (repeatable)")
	f.Int64Var(&opts.JobID, "job-id", 0, "the job's ID, for the impersonated user")
	f.Int64Var(&opts.PipelineID, "pipeline-id", 0, "the pipeline's ID")
	f.Int64Var(&opts.AgentID, "agent-id", 0, "the agent's ID")
	f.Int64Var(&opts.AgentProjectID, "agent-project-id", 0, "the agent project's ID")
	f.StringVar(&opts.Username, "username", "", "the GitLab user the job runs as")
	addOutputFlag(c, &output, "json")
	return c
}

func newAccessRBACCommand(d *Deps) *cobra.Command {
	var opts access.BindingOptions
	var output string
	c := &cobra.Command{
		Use:   "rbac",
		Short: "Print a RoleBinding or ClusterRoleBinding for the groups KAS impersonates",
		Long: `Print RBAC for CI jobs that an agent impersonates (access_as: {ci_job: {}}).
Without flags: the GitLab page's ci-job-view example, every CI job may view.`,
		Example: `  kubectl gitlab access rbac | kubectl apply -f -
  # jobs of project 150 in environment production may edit namespace shop
  kubectl gitlab access rbac --for-project-id 150 --environment production --clusterrole edit --namespace shop`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			b, err := access.NewBinding(opts)
			if err != nil {
				return badInput("see kubectl gitlab access rbac --help", "%w", err)
			}
			for _, n := range b.Notes {
				fmt.Fprintln(d.IO.ErrOut, "note: "+n)
			}
			if output == "json" {
				return b.WriteJSON(d.IO.Out)
			}
			return b.WriteYAML(d.IO.Out)
		}),
	}
	f := c.Flags()
	f.StringVar(&opts.Name, "name", "", "the binding's name (default: derived from subjects and role)")
	f.StringVar(&opts.Namespace, "namespace", "", "make a RoleBinding in this namespace (default: a ClusterRoleBinding)")
	f.StringVar(&opts.ClusterRole, "clusterrole", "view", "the ClusterRole to bind: view, edit, admin or any name")
	f.StringSliceVar(&opts.Groups, "group-subject", nil, "a group subject as is, e.g. gitlab:ci_job (repeatable)")
	f.Int64Var(&opts.ProjectID, "for-project-id", 0, "bind the jobs of this project (gitlab:project:<id>)")
	f.Int64Var(&opts.GroupID, "for-group-id", 0, "bind the jobs of the projects in this group (gitlab:group:<id>)")
	f.StringVar(&opts.Environment, "environment", "", "narrow to jobs in this environment")
	f.StringVar(&opts.EnvironmentTier, "environment-tier", "", "narrow to jobs in environments of this tier")
	output = "yaml"
	addOutputFlag(c, &output, "yaml", "json")
	return c
}
