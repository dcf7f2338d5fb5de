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
// update-kubeconfig keeps those names in a job. On a workstation, contexts
// get the same names, so that manifests and scripts that name a context
// work in both places; the cluster and the user are named after the
// instance's host, so that two instances never share one (ForWorkstation
// has the rules for names that are taken).

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

// Naming is how update-kubeconfig --context-name names workstation
// contexts: NAME for one agent, ID=NAME per agent, or a template of
// {project}, {agent}, {id} and {host}. The zero value is GitLab's names.
type Naming struct {
	ByID     map[int64]string
	Template string
}

// DefaultTemplate is GitLab's naming, "<agent project>:<agent name>".
// Where GitLab does not tell the agent's project and name, {project} is
// the host and {agent} is agent-<id>: "<host>:agent-<id>".
const DefaultTemplate = "{project}:{agent}"

// ParseNaming reads --context-name values: "ID=NAME" (repeatable), or one
// NAME or template.
func ParseNaming(values []string) (Naming, error) {
	var n Naming
	for _, v := range values {
		if id, name, ok := strings.Cut(v, "="); ok && isDigits(id) {
			agentID, err := strconv.ParseInt(id, 10, 64)
			if err != nil || agentID <= 0 {
				return n, badName("--context-name %q: %s is no agent ID", v, id)
			}
			if err := checkName(name); err != nil {
				return n, err
			}
			if n.ByID == nil {
				n.ByID = map[int64]string{}
			}
			n.ByID[agentID] = name
			continue
		}
		if n.Template != "" {
			return n, badName("--context-name is given twice as a name or template (%q, %q)", n.Template, v)
		}
		if err := checkTemplate(v); err != nil {
			return n, err
		}
		n.Template = v
	}
	return n, nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func badName(format string, args ...any) *Error {
	return problem(BadName, "pass --context-name NAME (one agent), ID=NAME (repeatable), or a template such as {project}:{agent}, {host}/{project}:{agent}", format, args...)
}

// checkName refuses names kubectl and shells handle badly: empty ones
// and those with control characters.
func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return badName("--context-name: the name is empty")
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return badName("--context-name %q has a control character", name)
	}
	return nil
}

func checkTemplate(t string) error {
	rest := t
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return badName("--context-name %q has a { without }", t)
		}
		switch rest[i : i+j+1] {
		case "{project}", "{agent}", "{id}", "{host}":
		default:
			return badName("--context-name %q: unknown placeholder %s (use {project}, {agent}, {id}, {host})", t, rest[i:i+j+1])
		}
		rest = rest[i+j+1:]
	}
	return checkName(t)
}

// nameFor is the name Naming gives an agent of the GitLab at host, and
// whether --context-name chose it.
func (n Naming) nameFor(t Target, host string) (name string, explicit bool) {
	if name, ok := n.ByID[t.ID]; ok {
		return name, true
	}
	template := n.Template
	if template == "" {
		template = DefaultTemplate
	}
	project, agent := t.ProjectPath, t.Name
	if project == "" || agent == "" {
		project, agent = host, "agent-"+strconv.FormatInt(t.ID, 10)
	}
	return strings.NewReplacer("{project}", project, "{agent}", agent, "{id}", strconv.FormatInt(t.ID, 10), "{host}", host).Replace(template), n.Template != ""
}

// HostPrefixed is a context name qualified with its GitLab's host: the
// name a workstation context gets when another GitLab's context (or one
// that is not an agent's) holds GitLab's name.
func HostPrefixed(host, name string) string { return host + "/" + name }
