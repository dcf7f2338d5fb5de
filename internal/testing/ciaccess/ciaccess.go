// Package ciaccess decides, as GitLab does, which agents a CI job may use
// and through which ci_access entry: the one home of that rule for the two
// fakes of GitLab, realkas's (in front of the real KAS) and testkas's.
//
// Each agent's decision is pkg/access's Explain, the plugin's own model of
// GitLab's (app/finders/clusters/agents/authorizations/ci_access/finder.rb
// and filter_service.rb in gitlabhq/gitlabhq), read from the configuration
// as KAS reads it (test/kasoracle holds pkg/access to KAS 16.5's reading).
// This package adds what spans agents: GitLab's order of the list that
// GET /api/v4/job/allowed_agents answers.
package ciaccess

import (
	"cmp"
	"slices"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

// Agent is an agent and the ci_access GitLab holds for it.
type Agent struct {
	ID int64
	// ConfigProject is the full path of the agent's configuration project.
	ConfigProject string
	// Config is the configuration GitLab refreshed ci_access from: what
	// KAS last posted. nil, or a file KAS rejects (which KAS never posts),
	// authorizes only the agent's own project.
	Config *access.Config
}

// Job is a CI job as GitLab's finder sees it.
type Job struct {
	// Project is the full path of the job's project.
	Project string
	// UserNamespace: the project's top-level namespace is a user, so its
	// path holds no groups.
	UserNamespace bool
	// Environment is the name of the job's environment; "" for none.
	Environment string
	// ProtectedBranch: the job runs on a protected branch or tag.
	ProtectedBranch bool
}

// Authorization is one agent the job may use and the entry that allows it.
type Authorization struct {
	Agent *Agent
	// Kind is project, group or instance for an entry of ci_access, or
	// implicit for the agent's own project.
	Kind access.EntryKind
	// Entry is the ci_access entry; nil for the implicit authorization.
	Entry *access.Entry
}

// gitlabVersion and tier are what the fakes model: GitLab beside KAS 16.5,
// with Premium's access_as (ci_job, impersonate).
var gitlabVersion = access.Version{Major: 16, Minor: 5}

// KASRejects reports whether KAS 16.5 rejects the file: what pkg/access
// finds that any KAS rejects, and every field added to KAS's schema after
// 16.5 (an unknown key to it), e.g. protected_branches_only.
func KASRejects(cfg *access.Config) bool {
	if cfg.Rejected() {
		return true
	}
	for _, d := range access.LintConfig(cfg, access.LintOptions{GitLabVersion: gitlabVersion}).Diagnostics {
		if d.Code == access.CodeNeedsNewerGitLab {
			return true
		}
	}
	return false
}

// kindOrder is GitLab's order of the list: the project's own entries,
// the implicit authorization, then the groups' and the instance's
// (Finder#execute: project_authorizations + implicit + group, uniq by agent).
var kindOrder = map[access.EntryKind]int{access.KindProject: 0, access.KindImplicit: 1, access.KindGroup: 2, access.KindInstance: 3}

// AllowedAgents lists the agents the job may use, each once with the entry
// that allows it, in GitLab's order (agents of one kind in the order given).
func AllowedAgents(job Job, agents []Agent) []Authorization {
	var out []Authorization
	for i := range agents {
		a := &agents[i]
		cfg := a.Config
		if cfg == nil || KASRejects(cfg) {
			cfg = &access.Config{}
		}
		ex, err := access.Explain(cfg, access.ExplainOptions{
			GitLabVersion: gitlabVersion, Tier: access.TierPremium,
			AgentProject: a.ConfigProject, Project: job.Project, UserNamespace: job.UserNamespace,
			Environment: job.Environment, ProtectedBranch: job.ProtectedBranch,
		})
		if err != nil || !ex.Allowed || ex.Entry == nil {
			continue
		}
		auth := Authorization{Agent: a, Kind: ex.Entry.Kind}
		switch ex.Entry.Kind {
		case access.KindProject:
			auth.Entry = &cfg.CIAccess.Projects[ex.Entry.Index]
		case access.KindGroup:
			auth.Entry = &cfg.CIAccess.Groups[ex.Entry.Index]
		case access.KindInstance:
			auth.Entry = cfg.CIAccess.Instance
		}
		out = append(out, auth)
	}
	slices.SortStableFunc(out, func(a, b Authorization) int { return cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]) })
	return out
}
