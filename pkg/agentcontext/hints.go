package agentcontext

import (
	"fmt"
	"strings"
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
