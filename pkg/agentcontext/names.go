package agentcontext

import (
	"strconv"
	"strings"
)

// The naming rules of agent contexts, in one place.
//
// GitLab renders a CI job's $KUBECONFIG with one cluster "gitlab" for KAS,
// one user "agent:<id>" per agent whose token is "ci:<id>:<job token>", and
// one context per agent named "<agent project full path>:<agent name>"
// (gitlabhq/gitlabhq app/services/ci/generate_kubeconfig_service.rb).
// update-kubeconfig keeps those names in a job. On a workstation, where one
// kubeconfig may reach several GitLab instances, the cluster and the user
// are named after the instance's host, so that two instances never share an
// entry.

// JobCluster is the cluster GitLab renders for KAS in a job's kubeconfig.
const JobCluster = "gitlab"

// JobUser is the user GitLab renders for an agent in a job's kubeconfig.
func JobUser(agentID int64) string { return "agent:" + strconv.FormatInt(agentID, 10) }

// ContextName is GitLab's name for an agent's context:
// "<agent project full path>:<agent name>".
func ContextName(agentProjectPath, agentName string) string {
	return agentProjectPath + ":" + agentName
}

// ContextNameByID names the context of an agent whose name is not known:
// /job/allowed_agents gives an agent's ID and project, not its name.
func ContextNameByID(agentProjectPath string, agentID int64) string {
	return agentProjectPath + ":agent-" + strconv.FormatInt(agentID, 10)
}

// HostContextName names the context of an agent known only by its ID and
// instance (update-kubeconfig --agent ID on a workstation).
func HostContextName(host string, agentID int64) string {
	return host + ":agent-" + strconv.FormatInt(agentID, 10)
}

// WorkstationCluster is the cluster for the KAS of the GitLab at host.
func WorkstationCluster(host string) string { return host }

// WorkstationUser is the exec user for an agent of the GitLab at host.
func WorkstationUser(host string, agentID int64) string {
	return "gitlab-agent:" + host + ":" + strconv.FormatInt(agentID, 10)
}

// agentName is the agent-name part of a context name: what follows its
// last colon ("" when it has none).
func agentName(contextName string) string {
	if i := strings.LastIndexByte(contextName, ':'); i >= 0 {
		return contextName[i+1:]
	}
	return ""
}

// SplitContextName splits a name made by ContextName into the agent's
// project path and name; ok is false for any other name.
func SplitContextName(name string) (agentProjectPath, agentName string, ok bool) {
	p, n, found := strings.Cut(name, ":")
	if !found || p == "" || n == "" || strings.Contains(n, ":") {
		return "", "", false
	}
	return p, n, true
}
