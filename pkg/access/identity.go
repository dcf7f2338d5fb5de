package access

import (
	"strconv"
)

// Identity is who a job is in the cluster.
type Identity struct {
	AccessAs AccessMode `json:"accessAs"`
	// Description says in words who this is.
	Description string `json:"description"`
	// Username, UID, Groups and Extra are what KAS impersonates; empty for
	// the agent, which is not impersonated.
	Username string       `json:"username,omitempty"`
	UID      string       `json:"uid,omitempty"`
	Groups   []string     `json:"groups,omitempty"`
	Extra    []ExtraField `json:"extra,omitempty"`
	// Exact is false when placeholders such as `<job id>` stand in the
	// username or groups for IDs that were not given. (Extras may hold
	// placeholders for the agent's IDs even when Exact is true.)
	Exact bool `json:"exact"`
}

// CIJob describes a CI job by the IDs KAS puts into its impersonated
// identity. Zero IDs and empty strings are unknown, and show as
// placeholders.
type CIJob struct {
	JobID      int64
	PipelineID int64
	ProjectID  int64
	// Groups are the full paths of the project's groups, outermost first, and
	// GroupIDs their IDs in the same order (or nil when unknown).
	Groups   []string
	GroupIDs []int64
	// EnvironmentSlug and EnvironmentTier are empty when the job has no
	// environment. A job with an environment always has a tier; an unknown
	// one shows as `<tier>`.
	EnvironmentSlug string
	EnvironmentTier string
	HasEnvironment  bool
	// Username is the GitLab user the job runs as.
	Username string
	// AgentID and ConfigProjectID identify the agent.
	AgentID         int64
	ConfigProjectID int64
}

// CIJobIdentity is the identity KAS impersonates for `access_as: {ci_job:
// {}}`: user `gitlab:ci_job:<job id>` in the groups `gitlab:ci_job`, then
// for each group of the project, outermost first, `gitlab:group:<id>` (and
// `gitlab:group_env_tier:<id>:<tier>` in an environment), then
// `gitlab:project:<id>` (and `gitlab:project_env:<id>:<slug>`,
// `gitlab:project_env_tier:<id>:<tier>`), with the `agent.gitlab.com/*`
// extras.
func CIJobIdentity(job CIJob) Identity {
	exact := true
	id := func(v int64, placeholder string) string {
		if v > 0 {
			return strconv.FormatInt(v, 10)
		}
		exact = false
		return placeholder
	}
	text := func(v, placeholder string) string {
		if v != "" {
			return v
		}
		exact = false
		return placeholder
	}

	projectID := id(job.ProjectID, "<project id>")
	groups := []string{"gitlab:ci_job"}
	var tier, slug string
	if job.HasEnvironment {
		tier = text(job.EnvironmentTier, "<tier>")
		slug = text(job.EnvironmentSlug, "<environment slug>")
	}
	for i, path := range job.Groups {
		var groupID int64
		if i < len(job.GroupIDs) {
			groupID = job.GroupIDs[i]
		}
		gid := id(groupID, "<id of "+path+">")
		groups = append(groups, "gitlab:group:"+gid)
		if job.HasEnvironment {
			groups = append(groups, "gitlab:group_env_tier:"+gid+":"+tier)
		}
	}
	groups = append(groups, "gitlab:project:"+projectID)
	if job.HasEnvironment {
		groups = append(groups, "gitlab:project_env:"+projectID+":"+slug, "gitlab:project_env_tier:"+projectID+":"+tier)
	}

	username := "gitlab:ci_job:" + id(job.JobID, "<job id>")
	userAndGroupsExact := exact // extras with placeholders do not make the identity inexact

	one := func(key, value string) ExtraField { return ExtraField{Key: key, Values: []string{value}} }
	extra := []ExtraField{
		one("agent.gitlab.com/id", id(job.AgentID, "<agent id>")),
		one("agent.gitlab.com/config_project_id", id(job.ConfigProjectID, "<agent project id>")),
		one("agent.gitlab.com/project_id", projectID),
		one("agent.gitlab.com/ci_pipeline_id", id(job.PipelineID, "<pipeline id>")),
		one("agent.gitlab.com/ci_job_id", id(job.JobID, "<job id>")),
		one("agent.gitlab.com/username", text(job.Username, "<username>")),
	}
	if job.HasEnvironment {
		extra = append(extra, one("agent.gitlab.com/environment_slug", slug), one("agent.gitlab.com/environment_tier", tier))
	}
	return Identity{
		AccessAs:    AccessCIJob,
		Description: "the CI job, impersonated by KAS",
		Username:    username,
		Groups:      groups,
		Extra:       extra,
		Exact:       userAndGroupsExact,
	}
}

// agentIdentity is the default: no impersonation at all.
func agentIdentity() Identity {
	return Identity{
		AccessAs:    AccessAgent,
		Description: "the agent's own service account (the one agentk runs as in the cluster; KAS impersonates nobody), with all of its permissions",
		Exact:       true,
	}
}

// staticIdentity is access_as.impersonate, exactly as configured.
func staticIdentity(imp *Impersonation) Identity {
	return Identity{
		AccessAs:    AccessImpersonate,
		Description: "the static identity from access_as.impersonate",
		Username:    imp.Username,
		UID:         imp.UID,
		Groups:      imp.Groups,
		Extra:       imp.Extra,
		Exact:       true,
	}
}
