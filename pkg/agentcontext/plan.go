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
			Context: JobContextName(set, a.ID, a.ConfigProject.PathWithNamespace), User: JobUser(a.ID), Cluster: JobCluster}
		if existing, ok := OfAgent(set, a.ID); ok {
			c.User = existing.User
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

// JobContextName is the context of an agent in a job: the one GitLab
// wrote for it, else ContextNameByID.
func JobContextName(set *kubeconfig.Set, agentID int64, agentProjectPath string) string {
	if existing, ok := OfAgent(set, agentID); ok {
		return existing.Name
	}
	return ContextNameByID(agentProjectPath, agentID)
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

// Target is an agent to write a workstation context for, as GitLab
// describes it; its name and project may be unknown ("").
type Target struct {
	ID          int64
	Name        string
	ProjectPath string
	// Namespace is the namespace a job of the project would get (its
	// ci_access entry's default_namespace).
	Namespace string
}

// ForWorkstation plans an exec context per target for the GitLab at
// gitlabURL (canonical) on host. The rules, in order:
//
//  1. The name wanted is --context-name's (naming), else GitLab's:
//     "<agent project>:<agent name>", or "<host>:agent-<id>" when GitLab
//     does not tell the agent's project and name.
//  2. An agent that already has an exec context of this GitLab keeps it,
//     and its name and namespace; it is renamed to the name wanted when
//     --context-name asks, or when it has the old name "<host>:agent-<id>"
//     and GitLab's name is known now, unless another context has that
//     name (then --context-name is refused, and the old name stays).
//  3. A new context whose name another context holds (another GitLab's,
//     a token's, one that is not an agent's) is never overwritten: it
//     gets the host-qualified name "<host>/<name>" — or, when
//     --context-name chose the name, or that one is taken too, the
//     command is refused. A context of this GitLab's that runs get-token
//     for another agent (an agent made anew under the same name) is
//     replaced.
func ForWorkstation(set *kubeconfig.Set, gitlabURL, host string, targets []Target, naming Naming) ([]Spec, error) {
	for id := range naming.ByID {
		if !slices.ContainsFunc(targets, func(t Target) bool { return t.ID == id }) {
			return nil, badName("--context-name names agent %d, which is not among the agents written (%s)", id, joinIDs(targetIDs(targets)))
		}
	}
	var out []Spec
	planned := map[string]int64{}
	for _, t := range targets {
		s := Spec{AgentID: t.ID, User: WorkstationUser(host, t.ID), Cluster: WorkstationCluster(host), Namespace: t.Namespace}
		want, explicit := naming.nameFor(t, host)
		existing, has := instanceContext(set, gitlabURL, t.ID)
		switch {
		case !has:
			s.Context = want
			if ours, taken := contextOf(set, gitlabURL, want); taken && !ours {
				if explicit {
					return nil, problem(NameTaken, "choose another name, or delete that context first (kubectl config delete-context)",
						"context %q exists and is not this GitLab's agent context, so it is not overwritten", want)
				}
				s.Context = HostPrefixed(host, want)
				s.Note = fmt.Sprintf("%q is taken by a context that is not this GitLab's", want)
				if ours, taken := contextOf(set, gitlabURL, s.Context); taken && !ours {
					return nil, problem(NameTaken, fmt.Sprintf("name it: --context-name %d=NAME", t.ID),
						"contexts %q and %q exist and are not this GitLab's agent contexts", want, s.Context)
				}
			}
		case want == existing.Name:
			s.Context = existing.Name
		case explicit || existing.Name == HostContextName(host, t.ID):
			s.Context = existing.Name
			if _, taken := contextOf(set, gitlabURL, want); !taken {
				s.Context, s.Renamed = want, existing.Name
			} else if explicit {
				return nil, problem(NameTaken, "choose another name, or delete that context first (kubectl config delete-context)",
					"context %q exists, so agent %d's context %q is not renamed to it", want, t.ID, existing.Name)
			}
		default:
			s.Context = existing.Name
		}
		if has && existing.Namespace != "" {
			s.Namespace = existing.Namespace
		}
		if other, dup := planned[s.Context]; dup {
			return nil, badName("agents %d and %d would both get context %q; use a template with {agent} or {id}, or --context-name ID=NAME", other, t.ID, s.Context)
		}
		planned[s.Context] = t.ID
		out = append(out, s)
	}
	return out, nil
}

func targetIDs(targets []Target) []int64 {
	ids := make([]int64, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	return ids
}

// instanceContext is the first context (by name) whose user runs get-token
// for this agent of this GitLab.
func instanceContext(set *kubeconfig.Set, gitlabURL string, agentID int64) (Info, bool) {
	for _, c := range Agents(set) {
		if c.Auth == AuthExec && c.AgentID == agentID && SameGitLab(c.GitLabURL, gitlabURL) {
			return c, true
		}
	}
	return Info{}, false
}

// contextOf says whether a context of that name exists, and whether it is
// this GitLab's (its user runs get-token for the instance).
func contextOf(set *kubeconfig.Set, gitlabURL, name string) (ours, taken bool) {
	if _, _, ok := set.Context(name); !ok {
		return false, false
	}
	info := Describe(set, name)
	return info.Auth == AuthExec && SameGitLab(info.GitLabURL, gitlabURL), true
}

// JobServer is the server GitLab wrote into a job's kubeconfig: cluster
// gitlab's, which GitLab writes whenever it writes a KUBECONFIG, even when
// the only context is gitlab-deploy; "" when there is none.
func JobServer(set *kubeconfig.Set) string {
	c, _, _ := set.Cluster(JobCluster)
	return c.Server
}
