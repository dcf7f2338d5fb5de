package realkas

import (
	"encoding/json"
	"maps"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/ciaccess"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

// ciAccess is the ci_access part of an agent's configuration as KAS posts it
// to GitLab (protojson of agentcfg.ConfigurationFile): the file as GitLab
// reads it, and each entry as posted, whose fields but its id become the
// authorization's configuration
// (gitlabhq: app/services/clusters/agents/authorizations/ci_access/refresh_service.rb).
type ciAccess struct {
	config           *access.Config
	projects, groups []map[string]any
	instance         map[string]any
}

// parseCIAccess reads agent_configuration's agent_config: JSON, which
// pkg/access reads as the YAML it is a subset of.
func parseCIAccess(agentConfig json.RawMessage) (ciAccess, error) {
	var file struct {
		CIAccess struct {
			Projects []map[string]any `json:"projects"`
			Groups   []map[string]any `json:"groups"`
			Instance map[string]any   `json:"instance"`
		} `json:"ci_access"`
	}
	if err := json.Unmarshal(agentConfig, &file); err != nil {
		return ciAccess{}, err
	}
	return ciAccess{config: access.Parse("agent_config", agentConfig),
		projects: file.CIAccess.Projects, groups: file.CIAccess.Groups, instance: file.CIAccess.Instance}, nil
}

// authorization is one agent a job may use, and the configuration of the
// ci_access entry that allows it.
type authorization struct {
	agent  *Agent
	config map[string]any
}

// allowedAgents is what GET /api/v4/job/allowed_agents lists for a job
// (gitlabhq lib/api/ci/jobs.rb): internal/testing/ciaccess decides, from the
// ci_access KAS last posted for each agent, as GitLab's finder does.
func (w *World) allowedAgents(job *Job, posted map[int64]ciAccess) []authorization {
	p := w.project(job.ProjectID)
	if p == nil {
		return nil
	}
	var agents []ciaccess.Agent
	for _, a := range w.Agents {
		ap := w.project(a.ProjectID)
		if ap == nil {
			continue
		}
		agents = append(agents, ciaccess.Agent{ID: a.ID, ConfigProject: ap.Path, Config: posted[a.ID].config})
	}
	j := ciaccess.Job{Project: p.Path, UserNamespace: w.groupByPath(rootNamespace(p.Path)) == nil}
	if job.Environment != nil {
		j.Environment = job.Environment.Name
	}
	var out []authorization
	for _, auth := range ciaccess.AllowedAgents(j, agents) {
		entry := map[string]any{}
		if auth.Entry != nil {
			list := map[access.EntryKind][]map[string]any{access.KindProject: posted[auth.Agent.ID].projects, access.KindGroup: posted[auth.Agent.ID].groups}[auth.Kind]
			if auth.Kind == access.KindInstance {
				entry = maps.Clone(posted[auth.Agent.ID].instance)
			} else {
				entry = maps.Clone(list[auth.Entry.Index])
			}
			delete(entry, "id")
		}
		out = append(out, authorization{agent: w.agent(auth.Agent.ID), config: entry})
	}
	return out
}

// userAccess is the user_access part of an agent's config.yaml, which
// GitLab reads from the repository itself (not from what KAS posted).
type userAccess struct {
	AccessAs map[string]any `yaml:"access_as"`
	Projects []struct {
		ID string `yaml:"id"`
	} `yaml:"projects"`
	Groups []struct {
		ID string `yaml:"id"`
	} `yaml:"groups"`
}

// authorizeProxyUser decides authorize_proxy_user for a user and an agent:
// gitlabhq app/services/clusters/agents/authorize_proxy_user_service.rb
// with its EE part (access_as: user). It returns the response body, or
// nil for 403 Forbidden.
func (w *World) authorizeProxyUser(u *User, a *Agent) map[string]any {
	var file struct {
		UserAccess *userAccess `yaml:"user_access"`
	}
	if yaml.Unmarshal([]byte(a.Config), &file) != nil || file.UserAccess == nil || len(file.UserAccess.AccessAs) != 1 {
		return nil
	}
	ua := file.UserAccess
	// Projects and groups the user may use the agent through: the
	// use_k8s_proxies ability, i.e. at least Developer.
	var projects, groups []map[string]any
	for i, e := range ua.Projects {
		if i == 500 {
			break
		}
		if p := w.projectByPath(e.ID); p != nil && w.projectAccess(p, u.Username) >= Developer {
			projects = append(projects, map[string]any{"id": p.ID, "roles": rolesUpTo(w.projectAccess(p, u.Username))})
		}
	}
	for i, e := range ua.Groups {
		if i == 500 {
			break
		}
		if g := w.groupByPath(e.ID); g != nil && w.groupAccess(g, u.Username) >= Developer {
			groups = append(groups, map[string]any{"id": g.ID, "roles": rolesUpTo(w.groupAccess(g, u.Username))})
		}
	}
	if len(projects)+len(groups) == 0 {
		return nil
	}
	body := map[string]any{
		"agent": map[string]any{"id": a.ID, "config_project": map[string]any{"id": a.ProjectID}},
		"user":  map[string]any{"id": u.ID, "username": u.Username},
	}
	switch {
	case hasKey(ua.AccessAs, "agent"):
		body["access_as"] = map[string]any{"agent": map[string]any{}}
	case hasKey(ua.AccessAs, "user"):
		body["access_as"] = map[string]any{"user": map[string]any{"projects": orEmpty(projects), "groups": orEmpty(groups)}}
	default:
		return nil
	}
	return body
}

func hasKey(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

func orEmpty(list []map[string]any) []map[string]any {
	if list == nil {
		return []map[string]any{}
	}
	return list
}
