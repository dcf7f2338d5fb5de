package realkas

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ciAccess is the ci_access part of an agent's configuration as KAS posts it
// to GitLab (protojson of agentcfg.ConfigurationFile): each entry's fields
// but its id become the authorization's configuration.
type ciAccess struct {
	Projects map[string]map[string]any // by lower-cased full path
	Groups   map[string]map[string]any
}

// parseCIAccess reads ci_access from agent_configuration's agent_config, as
// Clusters::Agents::Authorizations::CiAccess::RefreshService does
// (gitlabhq: app/services/clusters/agents/authorizations/ci_access/refresh_service.rb):
// at most 500 entries of each kind, keyed by the lower-cased id, a later
// entry replacing an earlier one.
func parseCIAccess(agentConfig json.RawMessage) (ciAccess, error) {
	var file struct {
		CIAccess struct {
			Projects []map[string]any `json:"projects"`
			Groups   []map[string]any `json:"groups"`
		} `json:"ci_access"`
	}
	if err := json.Unmarshal(agentConfig, &file); err != nil {
		return ciAccess{}, err
	}
	index := func(entries []map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for i, e := range entries {
			if i == 500 {
				break
			}
			id, _ := e["id"].(string)
			delete(e, "id")
			out[strings.ToLower(id)] = e
		}
		return out
	}
	return ciAccess{Projects: index(file.CIAccess.Projects), Groups: index(file.CIAccess.Groups)}, nil
}

// authorization is one agent a job may use, and the configuration of the
// ci_access entry that allows it.
type authorization struct {
	agent  *Agent
	config map[string]any
}

// allowedAgents is what GET /api/v4/job/allowed_agents lists for a job:
// gitlabhq lib/api/ci/jobs.rb with
// app/finders/clusters/agents/authorizations/ci_access/finder.rb and
// app/services/clusters/agents/authorizations/ci_access/filter_service.rb.
// An agent counts once, by its most specific authorization: an entry for
// the job's project, then the agent's own project (implicitly, with an
// empty configuration), then the nearest of the project's groups. Only
// agents in the project's top-level namespace count. Entries that list
// environments apply only to jobs in a matching environment.
func (w *World) allowedAgents(job *Job, posted map[int64]ciAccess) []authorization {
	p := w.project(job.ProjectID)
	if p == nil {
		return nil
	}
	var out []authorization
	seen := map[int64]bool{}
	add := func(a *Agent, config map[string]any) {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, authorization{agent: a, config: config})
		}
	}
	sameRoot := func(a *Agent) bool {
		ap := w.project(a.ProjectID)
		return ap != nil && rootNamespace(ap.Path) == rootNamespace(p.Path)
	}
	for i := range w.Agents {
		a := &w.Agents[i]
		if entry, ok := posted[a.ID].Projects[strings.ToLower(p.Path)]; ok && sameRoot(a) {
			add(a, entry)
		}
	}
	for i := range w.Agents {
		if a := &w.Agents[i]; a.ProjectID == p.ID {
			add(a, map[string]any{})
		}
	}
	groups := w.ancestors(p.Path)
	for i := range w.Agents {
		a := &w.Agents[i]
		// Group entries count only when the agent's top-level namespace
		// is a group (RefreshService#allowed_groups).
		if !sameRoot(a) || w.groupByPath(rootNamespace(p.Path)) == nil {
			continue
		}
		for _, g := range groups {
			if entry, ok := posted[a.ID].Groups[strings.ToLower(g.Path)]; ok {
				add(a, entry)
				break
			}
		}
	}
	return slices.DeleteFunc(out, func(auth authorization) bool { return !environmentAllowed(auth.config, job.Environment) })
}

// environmentAllowed: an entry without environments allows every job; one
// with environments only jobs whose environment's name matches one of them
// (Gitlab::Ci::EnvironmentMatcher: * matches anything).
func environmentAllowed(config map[string]any, env *Environment) bool {
	patterns, _ := config["environments"].([]any)
	if len(patterns) == 0 {
		return true
	}
	if env == nil {
		return false
	}
	for _, p := range patterns {
		if s, ok := p.(string); ok && environmentMatcher(s).MatchString(env.Name) {
			return true
		}
	}
	return false
}

func environmentMatcher(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`\A` + strings.Join(parts, ".*") + `\z`)
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
