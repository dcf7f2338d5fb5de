// Package discovery finds the agents that a user, or a CI job, may use:
// the use case behind kubectl gitlab agents and
// update-kubeconfig --project. A job asks GitLab's /job/allowed_agents;
// a person asks GraphQL which agents authorize a project (ci_access for
// its jobs, user_access for its members) and REST which agents are
// registered in it.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// How an agent admits the user or job.
const (
	// ViaCIAccess: the agent's ci_access lists the project (or a group
	// above it), or the agent is the project's own: its CI jobs may use it.
	ViaCIAccess = "ci_access"
	// ViaUserAccess: its user_access lists the project or a group above
	// it, where the user is at least Developer: the user may use it with
	// a personal access token.
	ViaUserAccess = "user_access"
	// ViaRegistered: the agent is registered in the project; whether its
	// user_access admits the user, GitLab does not say.
	ViaRegistered = "registered"
)

// Access is one way an agent admits the user or job, and as whom.
type Access struct {
	Via string `json:"via" yaml:"via"`
	// As is access_as: agent, ci_job, impersonate, user; "" when GitLab
	// does not say (a registered agent).
	As access.AccessMode `json:"as,omitempty" yaml:"as,omitempty"`
}

func (a Access) String() string {
	if a.As == "" {
		return a.Via
	}
	return a.Via + ":" + string(a.As)
}

// Agent is an agent found, as GitLab describes it.
type Agent struct {
	ID int64
	// Name is "" when GitLab does not say (a job's allowed agents, when
	// the job's kubeconfig has no context for the agent).
	Name string
	// ConfigProject is the agent's configuration project; "" when GitLab
	// does not show it.
	ConfigProject    string
	DefaultNamespace string
	Access           []Access
}

// Has reports whether the agent admits the user or job that way.
func (a Agent) Has(via string) bool {
	return slices.ContainsFunc(a.Access, func(x Access) bool { return x.Via == via })
}

// Target is the agent as update-kubeconfig writes a context for it.
func (a Agent) Target() agentcontext.Target {
	return agentcontext.Target{ID: a.ID, Name: a.Name, ProjectPath: a.ConfigProject, Namespace: a.DefaultNamespace}
}

// Found is what discovery found: the agents, in the order of their
// context names (<project>:<name>), and notes for the person.
type Found struct {
	Agents []Agent
	// Username is the GitLab user the token belongs to ("" in a job).
	Username string
	// Notes say what GitLab left out.
	Notes []string
}

// GitLab is what discovery asks; *gitlab.Client is one.
type GitLab interface {
	AllowedAgents(ctx context.Context) (*gitlab.AllowedAgents, error)
	ProjectAuthorizedAgents(ctx context.Context, projectPath string) (*gitlab.ProjectAuthorizations, error)
	ProjectAgents(ctx context.Context, project string) ([]gitlab.Agent, error)
}

// ForJob lists the agents the CI job may use (GET /job/allowed_agents,
// already filtered by environment and protected branch). GitLab gives no
// names there; an agent's name comes from the context GitLab wrote for it
// into the job's kubeconfig (set, which may be empty).
func ForJob(ctx context.Context, gl GitLab, set *kubeconfig.Set) (Found, error) {
	allowed, err := gl.AllowedAgents(ctx)
	if err != nil {
		return Found{}, err
	}
	var found Found
	for _, a := range allowed.Agents {
		agent := Agent{ID: a.ID, ConfigProject: a.ConfigProject.PathWithNamespace, DefaultNamespace: a.Configuration.DefaultNamespace,
			Access: []Access{ciAccess(a.Configuration)}}
		if c, ok := agentcontext.OfAgent(set, a.ID); ok {
			if project, name, ok := agentcontext.SplitContextName(c.Name); ok && project == agent.ConfigProject && name != "agent-"+strconv.FormatInt(a.ID, 10) {
				agent.Name = name
			}
		}
		found.Agents = append(found.Agents, agent)
	}
	sortAgents(found.Agents)
	return found, nil
}

// ciAccess reads an authorization's ci_access entry: KAS acts as the
// agent when it has no access_as.
func ciAccess(c gitlab.AuthorizationConfig) Access {
	mode := access.AccessMode(c.AccessMode())
	if mode == "" {
		mode = access.AccessAgent
	}
	return Access{Via: ViaCIAccess, As: mode}
}

// ForProject lists the agents that authorize a project (its full path):
// those whose ci_access admits its jobs, those whose user_access admits
// the user through it, and those registered in it. A numeric project ID
// gets only the registered ones (GraphQL finds projects by path).
func ForProject(ctx context.Context, gl GitLab, project string) (Found, error) {
	var found Found
	byID := map[int64]*Agent{}
	add := func(id int64, name, configProject string, a Access) *Agent {
		agent, ok := byID[id]
		if !ok {
			agent = &Agent{ID: id}
			byID[id] = agent
		}
		agent.Name = cmp.Or(agent.Name, name)
		agent.ConfigProject = cmp.Or(agent.ConfigProject, configProject)
		if !slices.Contains(agent.Access, a) {
			agent.Access = append(agent.Access, a)
		}
		return agent
	}
	if isNumeric(project) {
		found.Notes = append(found.Notes, fmt.Sprintf("project %s is given by ID: only the agents registered in it are listed; give its path (group/project) for the agents that authorize it", project))
	} else {
		auth, err := gl.ProjectAuthorizedAgents(ctx, project)
		if err != nil {
			return found, tokenError(err)
		}
		found.Username = auth.Username
		who := cmp.Or(auth.Username, "the token's user")
		switch {
		case !auth.Found:
			return found, &Error{Problem: ProjectNotFound, msg: fmt.Sprintf("GitLab has no project %s that %s can see", project, who),
				fix: "check the path (group/subgroup/project, as in its URL); a private project is visible only to its members"}
		case auth.CIAccessHidden && auth.UserAccessHidden:
			return found, &Error{Problem: NotDeveloper, msg: fmt.Sprintf("GitLab shows the agents of project %s only to its Developers and above, and %s is not one", project, who),
				fix: fmt.Sprintf("ask a Maintainer of %s for the Developer role, or pass a project where you are a Developer", project)}
		}
		for _, a := range auth.CIAccess {
			agent := add(a.ID, a.Name, a.ProjectPath, ciAccess(a.Config))
			agent.DefaultNamespace = cmp.Or(agent.DefaultNamespace, a.Config.DefaultNamespace)
		}
		for _, a := range auth.UserAccess {
			add(a.ID, a.Name, a.ProjectPath, Access{Via: ViaUserAccess, As: access.AccessMode(a.Config.AccessMode())})
		}
		if auth.AgentsHidden > 0 {
			found.Notes = append(found.Notes, fmt.Sprintf("%d authorization(s) of %s name an agent that GitLab does not show %s", auth.AgentsHidden, project, who))
		}
	}
	registered, err := gl.ProjectAgents(ctx, project)
	if err != nil {
		return found, tokenError(err)
	}
	for _, a := range registered {
		add(a.ID, a.Name, a.ConfigProject.PathWithNamespace, Access{Via: ViaRegistered})
	}
	for _, a := range byID {
		found.Agents = append(found.Agents, *a)
	}
	sortAgents(found.Agents)
	return found, nil
}

func isNumeric(s string) bool {
	_, err := strconv.ParseUint(s, 10, 63)
	return err == nil
}

// sortAgents orders agents as their contexts sort: by
// <project>:<name>, then ID.
func sortAgents(agents []Agent) {
	slices.SortStableFunc(agents, func(a, b Agent) int {
		return cmp.Or(strings.Compare(a.ConfigProject+":"+a.Name, b.ConfigProject+":"+b.Name), cmp.Compare(a.ID, b.ID))
	})
}

// Problem says why discovery found nothing.
type Problem string

const (
	ProjectNotFound Problem = "ProjectNotFound" // no such project, or not visible
	NotDeveloper    Problem = "NotDeveloper"    // GitLab hides the lists below Developer
	TokenRefused    Problem = "TokenRefused"    // the token cannot read the API
)

// Error is GitLab's refusal to tell, with what to do about it.
type Error struct {
	Problem Problem
	msg     string
	fix     string
	err     error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Fix() string   { return e.fix }
func (e *Error) Unwrap() error { return e.err }

// APICredentialFix names the ways to a credential that may read GitLab's
// API (login.API tries them in this order, after a kept token that may).
const APICredentialFix = "one of:\n" +
	"  a token with read_api for this command alone: KUBECTL_GITLAB_TOKEN=<token> kubectl gitlab …\n" +
	"  a refresh token kept in the OS keyring: kubectl gitlab login --web --keep-refresh-token\n" +
	"  an approval in the browser for this command alone: add --web"

// readAPIFix says which token discovery needs.
const readAPIFix = "finding agents needs a credential with the read_api (or api) scope; login --web's token has only k8s_proxy. " + APICredentialFix

// tokenError explains GitLab's refusals of the token: GraphQL's 401
// (Invalid token: unknown, expired, revoked, or without read_api) and
// REST's 403 insufficient_scope.
func tokenError(err error) error {
	var apiErr *gitlab.APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch {
	case apiErr.Status == http.StatusUnauthorized:
		return &Error{Problem: TokenRefused, msg: fmt.Sprintf("GitLab refused the token (%s): it is unknown, expired or revoked, or lacks the read_api scope", err), fix: readAPIFix, err: err}
	case apiErr.Status == http.StatusForbidden && strings.Contains(apiErr.Message, "higher privileges"):
		return &Error{Problem: TokenRefused, msg: fmt.Sprintf("the token lacks the read_api scope (%s)", err), fix: readAPIFix, err: err}
	}
	return err
}
