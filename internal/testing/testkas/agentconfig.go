package testkas

import (
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/ciaccess"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

// jobAuthorization is one agent a job may use, with the configuration
// GitLab stored for the ci_access entry that allows it.
type jobAuthorization struct {
	agent  *Agent
	config object
}

// jobAuthorizations are the agents the job may use, in GitLab's order:
// Job.AllowedAgents when it lists them, else derived from the agents'
// config.yaml (Agent.Config) as GitLab derives them
// (internal/testing/ciaccess, shared with realkas's GitLab).
func jobAuthorizations(cfg Config, job *Job) []jobAuthorization {
	var out []jobAuthorization
	if job.AllowedAgents != nil {
		for _, id := range job.AllowedAgents {
			for i := range cfg.Agents {
				if a := &cfg.Agents[i]; a.ID == id {
					out = append(out, jobAuthorization{agent: a, config: ciAccessConfiguration(a)})
				}
			}
		}
		return out
	}
	var agents []ciaccess.Agent
	byID := map[int64]*Agent{}
	for i := range cfg.Agents {
		a := &cfg.Agents[i]
		if a.Config == "" {
			continue
		}
		byID[a.ID] = a
		agents = append(agents, ciaccess.Agent{ID: a.ID, ConfigProject: a.ConfigProjectPath, Config: a.parsedConfig()})
	}
	j := ciaccess.Job{Project: job.ProjectPath, ProtectedBranch: job.ProtectedBranch}
	if env := job.Environment; env != nil {
		j.Environment = env.Name
	}
	for _, auth := range ciaccess.AllowedAgents(j, agents) {
		out = append(out, jobAuthorization{agent: byID[auth.Agent.ID], config: entryConfiguration(auth.Entry)})
	}
	return out
}

// parsedConfig reads the agent's config.yaml as KAS reads it. A file KAS
// rejects (an unknown key, a wrong type, a broken rule) is never posted
// to GitLab, so it authorizes nothing but the agent's own project.
func (a *Agent) parsedConfig() *access.Config {
	return access.Parse(".gitlab/agents/"+a.Name+"/config.yaml", []byte(a.Config))
}

// entryConfiguration is the ci_access entry as GitLab stores it from KAS's
// post (protojson of agentcfg's CiAccessProjectCf / CiAccessGroupCf, in
// their fields' order, without id); {} for the implicit authorization.
func entryConfiguration(e *access.Entry) object {
	conf := object{}
	if e == nil {
		return conf
	}
	if e.DefaultNamespace != "" {
		conf = append(conf, member{"default_namespace", e.DefaultNamespace})
	}
	if as := e.AccessAs; as != nil {
		switch as.Mode {
		case access.AccessAgent, access.AccessCIJob:
			conf = append(conf, member{"access_as", object{{string(as.Mode), object{}}}})
		case access.AccessImpersonate:
			id := &Identity{Username: as.Impersonate.Username, UID: as.Impersonate.UID, Groups: as.Impersonate.Groups}
			for _, x := range as.Impersonate.Extra {
				if id.Extra == nil {
					id.Extra = map[string][]string{}
				}
				id.Extra[x.Key] = x.Values
			}
			conf = append(conf, member{"access_as", object{{"impersonate", impersonateJSON(id)}}})
		}
	}
	if len(e.Environments) > 0 {
		envs := make([]string, len(e.Environments))
		for i, p := range e.Environments {
			envs[i] = p.Pattern
		}
		conf = append(conf, member{"environments", envs})
	}
	return conf
}
