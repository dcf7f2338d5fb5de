package agentcontext

import (
	"fmt"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// NoAgentContextsHint says where agent contexts come from, for errors and
// checks that find none.
const NoAgentContextsHint = "in a GitLab CI job, share an agent with this project (ci_access in the agent's config.yaml): GitLab then puts its context into $KUBECONFIG;\n" +
	"elsewhere, write one with kubectl gitlab update-kubeconfig"

// SwitchHint lists the agent contexts that use-context can switch to.
func SwitchHint(agents []Info) string {
	if len(agents) == 0 {
		return NoAgentContextsHint
	}
	var b strings.Builder
	b.WriteString("switch with kubectl gitlab use-context NAME, where NAME is one of:")
	for _, a := range agents {
		fmt.Fprintf(&b, "\n  %s (agent %d)", a.Name, a.AgentID)
	}
	return b.String()
}

// MisreadFix says how to get a value that kubectl misreads past it. A
// context's namespace is the case GitLab makes: it writes the agent's
// default_namespace with Ruby's YAML, which leaves 1e3 and 0o17 unquoted,
// into every job's kubeconfig. kubectl config cannot fix it (it cannot
// load the file); use-context --namespace writes it quoted.
func MisreadFix(m kubeconfig.Misread) string {
	if m.Kind == "context" && m.Field == "namespace" {
		name := m.Name
		return "GitLab writes it so into every job's kubeconfig, from the agent's default_namespace (Ruby's YAML does not quote it).\n" +
			"In the job, before kubectl, quote it: kubectl gitlab use-context " + shellQuote(name) + " --namespace " + m.Value + "\n" +
			"(kubectl config set-context cannot: it fails on the same file). For good, rename the namespace to one that\n" +
			"does not read as " + m.As + ", e.g. ns-" + m.Value + ", in the cluster and in default_namespace"
	}
	return "quote it in " + m.File + ": '" + m.Value + "' (kubectl config cannot: it fails on the same file)"
}

// shellQuote quotes a context name for a command line when it needs it.
func shellQuote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t'\"$\\`!*?[]{}();&|<>#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
