package cmd

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

func newAccessCommand(d *Deps) *cobra.Command {
	c := &cobra.Command{
		Use:   "access",
		Short: "Check an agent's config.yaml offline as KAS reads it: lint it, explain who gets in, generate RBAC",
		Long: `Who may use an agent, and as whom, is decided by the agent's
.gitlab/agents/<name>/config.yaml (ci_access for CI jobs, user_access for
people) and by RBAC on the impersonated identity. KAS reads the whole file
strictly: one mistake anywhere and it rejects the file, and the agent keeps
its previous configuration. Mistakes show up only as a 403 in someone's
pipeline; these commands find them before you push.`,
	}
	c.AddCommand(newAccessLintCommand(d), newAccessExplainCommand(d), newAccessRBACCommand(d))
	return c
}

// maxConfigFileSize bounds the config.yaml read; KAS reads at most 128 KiB
// unless its max_configuration_file_size says more (KAS
// internal/module/agent_configuration/server/defaulting.go).
const maxConfigFileSize = 4 << 20

func readConfigFile(path string) ([]byte, error) {
	data, err := atomicfile.ReadFile(path, maxConfigFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, badInput("pass the agent's .gitlab/agents/<name>/config.yaml", "%s: no such file", path)
	case err != nil:
		return nil, badInput("", "cannot read %s: %w", path, errors.Unwrap(err))
	}
	return data, nil
}

// versionAndTier reads --gitlab-version and --tier.
func versionAndTier(version, tier string) (access.Version, access.Tier, error) {
	var v access.Version
	if version != "" {
		var err error
		if v, err = access.ParseVersion(version); err != nil {
			return v, "", badInput("pass the GitLab release, as in --gitlab-version 17.3", "%w", err)
		}
	}
	t, err := access.ParseTier(tier)
	if err != nil {
		return v, "", badInput("pass --tier free, premium or ultimate", "%w", err)
	}
	return v, t, nil
}

func addVersionAndTierFlags(c *cobra.Command, version, tier *string) {
	c.Flags().StringVar(version, "gitlab-version", "", "the GitLab (and KAS) release to check against, as in 17.3 (default: the newest this plugin knows, "+access.NewestVersion.String()+")")
	c.Flags().StringVar(tier, "tier", "", "the GitLab tier: free, premium or ultimate (Free drops ci_job and impersonate entries, and refuses user_access as the user)")
}

func newAccessLintCommand(d *Deps) *cobra.Command {
	var opts access.LintOptions
	var output, version, tier string
	c := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Report mistakes in agent config files, like a compiler (file:line:col: error|warning: message)",
		Long: `Check agent config files as KAS and GitLab read them: every section, strictly,
with YAML 1.1's scalars (an unquoted no is false), and the validation rules
of KAS's schema. An error marked "KAS rejects the whole file" means the agent
keeps its previous configuration, its ci_access and user_access included.
Exit code 1 when a file has an error, 2 on bad usage.`,
		Example: `  kubectl gitlab access lint .gitlab/agents/prod/config.yaml
  kubectl gitlab access lint --agent-project group/agents --gitlab-com .gitlab/agents/*/config.yaml
  kubectl gitlab access lint --gitlab-version 17.2 --tier free -o json .gitlab/agents/prod/config.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(func(files []string) error {
			var err error
			if opts.GitLabVersion, opts.Tier, err = versionAndTier(version, tier); err != nil {
				return err
			}
			if err := opts.Validate(); err != nil {
				return badInput("see kubectl gitlab access lint --help", "%w", err)
			}
			bad, rejected := false, false
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
				bad, rejected = bad || r.HasErrors(), rejected || r.Rejected
			}
			switch {
			case rejected:
				return failed("", "the agent config has errors: KAS rejects the file, and the agent keeps its previous configuration")
			case bad:
				return failed("", "the agent config has errors; GitLab would not authorize what it means to")
			}
			return nil
		}),
	}
	c.Flags().StringVar(&opts.AgentProject, "agent-project", "", "full path of the project holding the agent config, to check entries against its top-level group")
	c.Flags().BoolVar(&opts.GitLabCom, "gitlab-com", false, "check for GitLab.com (no protected_branches_only, no instance-level authorization)")
	c.Flags().BoolVar(&opts.InstanceLevelAuthorization, "instance-level-authorization", false, "an administrator enabled instance-level authorization (self-managed)")
	addVersionAndTierFlags(c, &version, &tier)
	addOutputFlag(c, &output, "json")
	return c
}

func newAccessExplainCommand(d *Deps) *cobra.Command {
	var opts access.ExplainOptions
	var output, version, tier string
	var members, ids []string
	c := &cobra.Command{
		Use:   "explain FILE (--project PATH | --user NAME --role ROLE)",
		Short: "Tell whether a CI job or a user gets in, through which entry, and as whom",
		Long: `Explain what GitLab makes of an agent's config.yaml for one CI job (ci_access:
--project and the job's environment and branch) or for one GitLab user
(user_access: --user with --role or --member): which entry applies (the most
specific one; on GitLab Free without the entries that need Premium), whether
they get in, and the exact identity KAS impersonates.

Exit codes, as kubectl auth can-i: 0 the job or user gets in; 1 they are
denied; 2 bad usage or input, including a file that KAS rejects (it then
grants nothing, and the agent keeps its previous configuration).`,
		Example: `  kubectl gitlab access explain .gitlab/agents/prod/config.yaml \
    --agent-project group/agents --project group/app --environment review/feature-1
  # with IDs, the exact impersonated user and groups
  kubectl gitlab access explain config.yaml --agent-project group1/agents --project group1/group1-1/project1 \
    --project-id 150 --group-id 23 --group-id 25 --environment prod --environment-tier production --job-id 1074499489
  # a user of user_access, and the groups KAS gives them
  kubectl gitlab access explain config.yaml --user alice --member group-2=maintainer --id group-2/project-2=2 --id group-2=2`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(args []string) error {
			var err error
			if opts.GitLabVersion, opts.Tier, err = versionAndTier(version, tier); err != nil {
				return err
			}
			for _, m := range members {
				ms, err := access.ParseMembership(m)
				if err != nil {
					return badInput("see kubectl gitlab access explain --help", "%w", err)
				}
				opts.Memberships = append(opts.Memberships, ms)
			}
			for _, s := range ids {
				path, id, err := access.ParsePathID(s)
				if err != nil {
					return badInput("see kubectl gitlab access explain --help", "%w", err)
				}
				if opts.IDs == nil {
					opts.IDs = map[string]int64{}
				}
				opts.IDs[path] = id
			}
			data, err := readConfigFile(args[0])
			if err != nil {
				return err
			}
			ex, err := access.Explain(access.Parse(args[0], data), opts)
			if err != nil {
				return badInput("see kubectl gitlab access explain --help", "%w", err)
			}
			if output == "json" {
				err = ex.WriteJSON(d.IO.Out)
			} else {
				err = ex.WriteText(d.IO.Out)
			}
			switch {
			case err != nil:
				return err
			case ex.Rejected:
				return badInput("fix what kubectl gitlab access lint "+args[0]+" reports", "KAS rejects %s, so it grants nothing", args[0])
			case !ex.Allowed:
				return failed("", "denied: %s", ex.Reason)
			}
			return nil
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
	f.StringVar(&opts.User, "user", "", "explain user_access for this GitLab username instead of a CI job")
	f.StringVar(&opts.Role, "role", "", "the user's role in every project and group user_access lists (guest, planner, reporter, developer, maintainer, owner)")
	f.StringArrayVar(&members, "member", nil, "the user's role in a project or group, PATH=ROLE; a group's role holds below it (repeatable)")
	f.StringArrayVar(&ids, "id", nil, "the ID of a project or group of user_access, PATH=ID, for the exact groups (repeatable)")
	addVersionAndTierFlags(c, &version, &tier)
	addOutputFlag(c, &output, "json")
	return c
}

func newAccessRBACCommand(d *Deps) *cobra.Command {
	var opts access.BindingOptions
	var output string
	c := &cobra.Command{
		Use:   "rbac",
		Short: "Print a RoleBinding or ClusterRoleBinding for the identities KAS impersonates",
		Long: `Print RBAC for the identities an agent impersonates: CI jobs (access_as:
{ci_job: {}}: gitlab:ci_job, gitlab:project:<id>, …) and GitLab users of
user_access (access_as: {user: {}}: gitlab:user:<username>,
gitlab:project_role:<id>:<role>, gitlab:group_role:<id>:<role>).
Without flags: the GitLab page's ci-job-view example, every CI job may view.`,
		Example: `  kubectl gitlab access rbac | kubectl apply -f -
  # jobs of project 150 in environment production may edit namespace shop
  kubectl gitlab access rbac --for-project-id 150 --environment production --clusterrole edit --namespace shop
  # maintainers (and owners) of project 123 may view (the user_access page's example)
  kubectl gitlab access rbac --for-project-id 123 --role maintainer
  # one user may edit namespace shop
  kubectl gitlab access rbac --user alice --clusterrole edit --namespace shop`,
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
	f.StringVar(&opts.Role, "role", "", "user_access: bind the members of --for-project-id or --for-group-id with this role or a higher one (gitlab:project_role:<id>:<role>)")
	f.StringArrayVar(&opts.Users, "user", nil, "user_access: bind this GitLab user (gitlab:user:<username>) (repeatable)")
	output = "yaml"
	addOutputFlag(c, &output, "yaml", "json")
	return c
}
