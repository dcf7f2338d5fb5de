package agentcontext

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// ForJob plans one context per agent a CI job may use. allowed is GitLab's
// answer to /job/allowed_agents; only, when not empty, narrows it to those
// agent IDs, each of which must be allowed. The contexts GitLab rendered
// keep their names (found by the agent ID of their user); an agent the
// kubeconfig lacks gets ContextNameByID. Without only, the contexts GitLab
// rendered for agents the job may no longer use are planned too, so that
// no job token stays in the file: their exec entries fail as the token
// would have.
func ForJob(set *kubeconfig.Set, allowed []gitlab.AllowedAgent, only []int64) ([]Spec, error) {
	ids := make([]int64, len(allowed))
	for i, a := range allowed {
		ids[i] = a.ID
	}
	var denied []int64
	for _, id := range only {
		if !slices.Contains(ids, id) && !slices.Contains(denied, id) {
			denied = append(denied, id)
		}
	}
	if len(denied) > 0 || len(allowed) == 0 {
		return nil, &NotAllowedError{Denied: denied, Allowed: ids}
	}
	var out []Spec
	for _, a := range allowed {
		if len(only) > 0 && !slices.Contains(only, a.ID) {
			continue
		}
		c := Spec{AgentID: a.ID, Namespace: a.Configuration.DefaultNamespace,
			Context: ContextNameByID(a.ConfigProject.PathWithNamespace, a.ID), User: JobUser(a.ID), Cluster: JobCluster}
		if existing, ok := OfAgent(set, a.ID); ok {
			c.Context, c.User = existing.Name, existing.User
			if existing.Cluster != "" {
				c.Cluster = existing.Cluster
			}
			if existing.Namespace != "" {
				c.Namespace = existing.Namespace
			}
		}
		out = append(out, c)
	}
	if len(only) == 0 {
		for _, c := range Agents(set) {
			if c.Auth == AuthCIToken && !slices.Contains(ids, c.AgentID) {
				out = append(out, Spec{AgentID: c.AgentID, Context: c.Name, User: c.User, Cluster: c.Cluster, Namespace: c.Namespace})
			}
		}
	}
	return out, nil
}

// NotAllowedError is a job that may not use the agents it asked for, or
// none at all.
type NotAllowedError struct {
	// Denied are the agent IDs asked for that the job may not use; empty
	// when GitLab allows the job no agent.
	Denied []int64
	// Allowed are the agent IDs the job may use.
	Allowed []int64
}

func (e *NotAllowedError) Error() string {
	if len(e.Denied) == 0 {
		return "GitLab allows this job no agent"
	}
	allowed := "none"
	if len(e.Allowed) > 0 {
		allowed = joinIDs(e.Allowed)
	}
	agent := "agent"
	if len(e.Denied) > 1 {
		agent = "agents"
	}
	return fmt.Sprintf("this job may not use %s %s; it may use: %s", agent, joinIDs(e.Denied), allowed)
}

// Fix says where GitLab's rule lives.
func (e *NotAllowedError) Fix() string {
	if len(e.Denied) == 0 {
		return "share an agent with this project: ci_access in the agent's .gitlab/agents/<name>/config.yaml"
	}
	return "the agent's config.yaml must share it with this project (ci_access), for this environment and branch"
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// ForProject plans a context for each agent of a project (only, when not
// empty, narrows them to those IDs) of the GitLab at host, named as GitLab
// names them in a job.
func ForProject(host string, agents []gitlab.Agent, only []int64) []Spec {
	var out []Spec
	for _, a := range agents {
		if len(only) > 0 && !slices.Contains(only, a.ID) {
			continue
		}
		out = append(out, Spec{AgentID: a.ID, Context: ContextName(a.ConfigProject.PathWithNamespace, a.Name),
			User: WorkstationUser(host, a.ID), Cluster: WorkstationCluster(host)})
	}
	return out
}

// ForAgentIDs plans a context for each agent ID of the GitLab at host.
func ForAgentIDs(host string, ids []int64) []Spec {
	var out []Spec
	for _, id := range ids {
		out = append(out, Spec{AgentID: id, Context: HostContextName(host, id),
			User: WorkstationUser(host, id), Cluster: WorkstationCluster(host)})
	}
	return out
}
