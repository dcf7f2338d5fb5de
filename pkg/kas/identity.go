package kas

import (
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

// AccessAs says which access_as an identity seen through an agent means.
// pkg/access owns the modes.
type AccessAs struct {
	Mode access.AccessMode `json:"mode" yaml:"mode"`
	// Config is the access_as entry of the agent's config that gives it.
	Config string `json:"config" yaml:"config"`
	// Description says what it means, in words.
	Description string `json:"description" yaml:"description"`
}

const extraPrefix = "agent.gitlab.com/"

// DescribeAccess tells which access_as gives this identity. KAS sends
// gitlab:ci_job:<id> for ci_job and gitlab:user:<name> for user; the
// agent's own identity is a service account without agent.gitlab.com/
// extras; anything else is a static impersonation.
func DescribeAccess(u UserInfo) AccessAs {
	switch {
	case strings.HasPrefix(u.Username, "gitlab:ci_job:"):
		job := strings.TrimPrefix(u.Username, "gitlab:ci_job:")
		return AccessAs{access.AccessCIJob, "access_as: {ci_job: {}}", "KAS impersonates CI job " + job +
			": RBAC on this user and these groups decides what it may do (kubectl gitlab access rbac writes bindings)."}
	case strings.HasPrefix(u.Username, "gitlab:user:"):
		return AccessAs{access.AccessUser, "user_access with access_as: {user: {}}", "KAS impersonates GitLab user " +
			strings.TrimPrefix(u.Username, "gitlab:user:") + ": RBAC on this user and these groups decides what they may do."}
	case strings.HasPrefix(u.Username, "system:serviceaccount:") && !hasAgentExtra(u):
		sa := strings.TrimPrefix(u.Username, "system:serviceaccount:")
		return AccessAs{access.AccessAgent, "access_as: {agent: {}}, the default", "No impersonation: requests run as the agent's own service account " +
			strings.Replace(sa, ":", "/", 1) + " with all its rights (unless the agent's config impersonates this service account statically)."}
	}
	return AccessAs{access.AccessImpersonate, "access_as: {impersonate: {username: " + u.Username + ", ...}}",
		"A static identity from the agent's config: every job through this agent acts as it."}
}

func hasAgentExtra(u UserInfo) bool {
	for k := range u.Extra {
		if strings.HasPrefix(k, extraPrefix) {
			return true
		}
	}
	return false
}
