package agentcontext

import (
	"fmt"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// Query says which context a command asks for. Every command that picks a
// context (use-context, current-context, whoami, doctor,
// update-kubeconfig --use-context) asks Resolve, so the same situation gets
// the same answer, message and exit code everywhere.
type Query struct {
	// Name is a full context name, or an agent name (what follows the last
	// colon) that is unique among agent contexts: use-context NAME,
	// --context NAME, --use-context NAME.
	Name string
	// AgentID asks for the agent context of this agent (use-context
	// --agent-id).
	AgentID int64
	// KubeContext is $KUBE_CONTEXT, which Auto DevOps and use-context read
	// as a Name when the command gives none.
	KubeContext string
	// Fallback answers a query with neither Name nor AgentID.
	Fallback Fallback
}

// Fallback is what a query without a name or agent ID resolves to.
type Fallback int

const (
	// Pick is use-context's rule: $KUBE_CONTEXT, else the only agent
	// context; several agent contexts and nothing to choose one is an
	// error that lists them.
	Pick Fallback = iota
	// Current is the current context, agent context or not: the one plain
	// kubectl uses (current-context, whoami). None set, or one that names
	// no context, is an error.
	Current
	// CurrentAgent is the current context when it is an agent context,
	// else what Pick finds: the agent context that kubectl uses, or would
	// use after use-context (doctor).
	CurrentAgent
)

// How a context was chosen, for messages.
const (
	ByName        = "the name given"
	ByAgentID     = "the agent ID given"
	ByKubeContext = "$KUBE_CONTEXT"
	ByCurrent     = "the current context"
	ByOnlyAgent   = "the only agent context"
)

// Resolved is the context a query resolved to.
type Resolved struct {
	Info
	// By says how it was chosen: one of the By… constants.
	By string
}

// Resolve answers a query against the kubeconfig: the rules in order are
// Name, AgentID, then the query's Fallback. Every failure is an *Error.
func Resolve(set *kubeconfig.Set, q Query) (Resolved, error) {
	switch {
	case q.Name != "":
		return byName(set, q.Name, ByName)
	case q.AgentID != 0:
		return byAgentID(set, q.AgentID)
	}
	switch q.Fallback {
	case Current:
		return current(set, q.KubeContext)
	case CurrentAgent:
		if r, err := current(set, q.KubeContext); err == nil && r.Agent {
			return r, nil
		}
	}
	return pick(set, q.KubeContext)
}

// Problem says why a query has no answer.
type Problem string

const (
	NoSuchContext    Problem = "NoSuchContext"    // the name is no context and no agent's name
	AmbiguousName    Problem = "AmbiguousName"    // the agent name fits several agent contexts
	NoSuchAgent      Problem = "NoSuchAgent"      // no agent context authenticates as the agent ID
	AmbiguousAgentID Problem = "AmbiguousAgentID" // several do
	NoAgentContexts  Problem = "NoAgentContexts"  // nothing to pick from
	NoChoice         Problem = "NoChoice"         // several agent contexts and nothing says which
	NoCurrentContext Problem = "NoCurrentContext" // current-context is not set
	CurrentIsMissing Problem = "CurrentIsMissing" // current-context names no context
	NoSuchCluster    Problem = "NoSuchCluster"    // the chosen context names a cluster that is not defined
	BadName          Problem = "BadName"          // --context-name is malformed, or names agents not written
	NameTaken        Problem = "NameTaken"        // a context name to write belongs to another context
	NoPrevious       Problem = "NoPrevious"       // use-context -: no previous context is remembered
)

// Error is a query without an answer: what and why in Error(), how to fix
// it in Fix(). The input (the kubeconfig, a name, $KUBE_CONTEXT) is what
// must change, so commands treat it as bad input.
type Error struct {
	Problem Problem
	// Choices are the agent contexts a person could pick (NoChoice).
	Choices []Info
	msg     string
	fix     string
}

func (e *Error) Error() string { return e.msg }

// Fix says what to do about it.
func (e *Error) Fix() string { return e.fix }

func problem(p Problem, fix, format string, args ...any) *Error {
	return &Error{Problem: p, msg: fmt.Sprintf(format, args...), fix: fix}
}

// byName finds a context by full name, else by agent name when that is
// unique among agent contexts.
func byName(set *kubeconfig.Set, name, by string) (Resolved, error) {
	if _, _, ok := set.Context(name); ok {
		return Resolved{Info: Describe(set, name), By: by}, nil
	}
	agents := Agents(set)
	matches := filter(agents, func(a Info) bool { return agentName(a.Name) == name })
	what := fmt.Sprintf("%q", name)
	if by == ByKubeContext {
		what = ByKubeContext + " " + what
	}
	switch len(matches) {
	case 1:
		return Resolved{Info: matches[0], By: by}, nil
	case 0:
		return Resolved{}, problem(NoSuchContext, SwitchHint(agents), "no context named %s in %s", what, Where(set))
	}
	return Resolved{}, problem(AmbiguousName, SwitchHint(matches), "agent name %s is ambiguous: %d agent contexts match", what, len(matches))
}

func byAgentID(set *kubeconfig.Set, id int64) (Resolved, error) {
	agents := Agents(set)
	matches := filter(agents, func(a Info) bool { return a.AgentID == id })
	switch len(matches) {
	case 1:
		return Resolved{Info: matches[0], By: ByAgentID}, nil
	case 0:
		return Resolved{}, problem(NoSuchAgent, SwitchHint(agents), "no agent context for agent ID %d in %s", id, Where(set))
	}
	return Resolved{}, problem(AmbiguousAgentID, SwitchHint(matches), "agent ID %d is ambiguous: %d contexts use it", id, len(matches))
}

func filter(infos []Info, keep func(Info) bool) []Info {
	var out []Info
	for _, i := range infos {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}

// current is the current context, which must exist. The fix of its errors
// says what use-context would switch to.
func current(set *kubeconfig.Set, kubeContext string) (Resolved, error) {
	name := set.CurrentContext()
	if name == "" {
		return Resolved{}, problem(NoCurrentContext, SwitchFix(set, kubeContext), "no current context is set in %s", Where(set))
	}
	if _, _, ok := set.Context(name); !ok {
		return Resolved{}, problem(CurrentIsMissing, SwitchFix(set, kubeContext), "current-context %q names no context in %s", name, Where(set))
	}
	return Resolved{Info: Describe(set, name), By: ByCurrent}, nil
}

// pick is use-context's rule without arguments.
func pick(set *kubeconfig.Set, kubeContext string) (Resolved, error) {
	if kubeContext != "" {
		return byName(set, kubeContext, ByKubeContext)
	}
	agents := Agents(set)
	switch len(agents) {
	case 0:
		return Resolved{}, problem(NoAgentContexts, NoAgentContextsHint, "no agent contexts in %s", Where(set))
	case 1:
		return Resolved{Info: agents[0], By: ByOnlyAgent}, nil
	}
	e := problem(NoChoice, SwitchHint(agents)+"\nor set KUBE_CONTEXT (as Auto DevOps does)",
		"%d agent contexts in %s, and no name, agent ID or $KUBE_CONTEXT says which one", len(agents), Where(set))
	e.Choices = agents
	return Resolved{}, e
}

// SwitchFix says how to make an agent context current: what
// kubectl gitlab use-context (without arguments) would switch to, else
// how to choose or get one.
func SwitchFix(set *kubeconfig.Set, kubeContext string) string {
	r, err := pick(set, kubeContext)
	if err != nil {
		return err.(*Error).Fix()
	}
	return fmt.Sprintf("run kubectl gitlab use-context: it switches to %s (%s)", r.By, r.Name)
}
