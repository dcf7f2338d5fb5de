package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GitLab's GraphQL API (POST /api/graphql) answers what REST does not:
// which agents a project's members and CI jobs may use. It takes a
// personal access token with api or read_api, like REST, and answers 401
// {"errors":[{"message":"Invalid token"}]} to any other token
// (gitlabhq/gitlabhq app/controllers/graphql_controller.rb).

// GraphQLError is an answer that lists errors: a query this GitLab does
// not know (an older release), or a failure while resolving it.
type GraphQLError struct {
	Messages []string
}

func (e *GraphQLError) Error() string {
	return "POST /api/graphql: " + strings.Join(e.Messages, "; ")
}

// Fix says what a schema error means.
func (e *GraphQLError) Fix() string {
	for _, m := range e.Messages {
		if strings.Contains(m, "doesn't exist on type") {
			return "this GitLab release is older than the field; upgrade GitLab"
		}
	}
	return ""
}

// GraphQL runs a query and decodes its data into out. An answer with
// errors is a *GraphQLError, even when it carries partial data.
func (c *Client) GraphQL(ctx context.Context, query string, variables map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		return err
	}
	var answer struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := c.send(ctx, request{method: http.MethodPost, endpoint: "/api/graphql", body: body, contentType: "application/json"}, &answer); err != nil {
		return err
	}
	if len(answer.Errors) > 0 {
		e := &GraphQLError{}
		for _, m := range answer.Errors {
			e.Messages = append(e.Messages, c.scrub(m.Message))
		}
		return e
	}
	if len(answer.Data) == 0 || string(answer.Data) == "null" {
		return &APIError{Method: http.MethodPost, Endpoint: "/api/graphql", Status: http.StatusOK, Message: "the answer has no data"}
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		return &APIError{Method: http.MethodPost, Endpoint: "/api/graphql", Status: http.StatusOK, Message: "the answer is not the expected JSON: " + err.Error()}
	}
	return nil
}

// AuthorizedAgent is an agent that an authorization of a project names.
type AuthorizedAgent struct {
	ID   int64
	Name string
	// ProjectPath is the agent's configuration project; "" when GitLab
	// shows neither it nor the agent's web path.
	ProjectPath string
	Config      AuthorizationConfig
}

// ProjectAuthorizations is what GraphQL says of the agents that a project
// may use.
type ProjectAuthorizations struct {
	// Username is the user the token belongs to.
	Username string
	// Found is false when the project does not exist or the user cannot
	// see it (GitLab does not say which).
	Found bool
	// CIAccess are the agents whose ci_access admits the project's CI
	// jobs (ciAccessAuthorizedAgents); UserAccess those whose user_access
	// admits the user through the project or its groups
	// (userAccessAuthorizedAgents).
	CIAccess, UserAccess []AuthorizedAgent
	// CIAccessHidden and UserAccessHidden: GitLab answered null, as it
	// does below the Developer role in the project.
	CIAccessHidden, UserAccessHidden bool
	// AgentsHidden counts authorizations whose agent GitLab does not
	// show the user.
	AgentsHidden int
}

// graphqlPageSize is GitLab's maximum page size; maxGraphQLPages bounds
// the pages followed, against a server that never stops.
const (
	graphqlPageSize = 100
	maxGraphQLPages = 100
)

// authorizedAgentsQuery asks for the current user, and the next page of
// the connections named, declaring only the variables it uses (GraphQL
// refuses unused ones).
func authorizedAgentsQuery(connections []string) string {
	var vars, fields strings.Builder
	vars.WriteString("$path: ID!")
	for _, name := range connections {
		fmt.Fprintf(&vars, ", $%sAfter: String", name)
		fmt.Fprintf(&fields, " %s(first: %d, after: $%sAfter) { pageInfo { hasNextPage endCursor } nodes { agent { id name webPath project { fullPath } } config } }",
			name, graphqlPageSize, name)
	}
	return "query(" + vars.String() + ") { currentUser { username } project(fullPath: $path) {" + fields.String() + " } }"
}

type authorizationConnection struct {
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
	Nodes []struct {
		Agent *struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			WebPath string `json:"webPath"`
			Project *struct {
				FullPath string `json:"fullPath"`
			} `json:"project"`
		} `json:"agent"`
		Config AuthorizationConfig `json:"config"`
	} `json:"nodes"`
}

// ProjectAuthorizedAgents asks which agents the project (its full path)
// may use, following every page of both lists.
func (c *Client) ProjectAuthorizedAgents(ctx context.Context, projectPath string) (*ProjectAuthorizations, error) {
	out := &ProjectAuthorizations{}
	lists := map[string]*[]AuthorizedAgent{"ciAccessAuthorizedAgents": &out.CIAccess, "userAccessAuthorizedAgents": &out.UserAccess}
	hidden := map[string]*bool{"ciAccessAuthorizedAgents": &out.CIAccessHidden, "userAccessAuthorizedAgents": &out.UserAccessHidden}
	pending := []string{"ciAccessAuthorizedAgents", "userAccessAuthorizedAgents"}
	after := map[string]string{}
	for page := 0; len(pending) > 0; page++ {
		if page == maxGraphQLPages {
			return nil, &APIError{Method: http.MethodPost, Endpoint: "/api/graphql", Status: http.StatusOK,
				Message: fmt.Sprintf("more than %d pages of authorized agents; stopped", maxGraphQLPages)}
		}
		vars := map[string]any{"path": projectPath}
		for _, name := range pending {
			vars[name+"After"] = nil
			if a, ok := after[name]; ok {
				vars[name+"After"] = a
			}
		}
		var data struct {
			CurrentUser *struct {
				Username string `json:"username"`
			} `json:"currentUser"`
			Project map[string]*authorizationConnection `json:"project"`
		}
		if err := c.GraphQL(ctx, authorizedAgentsQuery(pending), vars, &data); err != nil {
			return nil, err
		}
		if data.CurrentUser != nil {
			out.Username = data.CurrentUser.Username
		}
		if data.Project == nil {
			return out, nil // Found stays false
		}
		out.Found = true
		var next []string
		for _, name := range pending {
			conn := data.Project[name]
			if conn == nil {
				if page == 0 {
					*hidden[name] = true
				}
				continue
			}
			for _, n := range conn.Nodes {
				if n.Agent == nil {
					out.AgentsHidden++
					continue
				}
				a, err := c.authorizedAgent(n.Agent.ID, n.Agent.Name, n.Agent.WebPath, n.Agent.Project != nil)
				if err != nil {
					return nil, err
				}
				if n.Agent.Project != nil {
					a.ProjectPath = n.Agent.Project.FullPath
				}
				a.Config = n.Config
				*lists[name] = append(*lists[name], a)
			}
			if conn.PageInfo.HasNextPage && conn.PageInfo.EndCursor != "" && conn.PageInfo.EndCursor != after[name] {
				after[name] = conn.PageInfo.EndCursor
				next = append(next, name)
			}
		}
		pending = next
	}
	return out, nil
}

// authorizedAgent reads an agent's global ID, and its project from its
// web path when GitLab does not show the project itself.
func (c *Client) authorizedAgent(gid, name, webPath string, projectShown bool) (AuthorizedAgent, error) {
	const prefix = "gid://gitlab/Clusters::Agent/"
	id, err := strconv.ParseInt(strings.TrimPrefix(gid, prefix), 10, 64)
	if !strings.HasPrefix(gid, prefix) || err != nil || id <= 0 {
		return AuthorizedAgent{}, &APIError{Method: http.MethodPost, Endpoint: "/api/graphql", Status: http.StatusOK,
			Message: fmt.Sprintf("the answer names an agent by %q, not by a global ID", gid)}
	}
	a := AuthorizedAgent{ID: id, Name: name}
	if !projectShown {
		a.ProjectPath = c.projectOfWebPath(webPath, name)
	}
	return a, nil
}

// projectOfWebPath reads the project from an agent's web path,
// <instance path>/<project>/-/cluster_agents/<name>
// (app/graphql/types/clusters/agent_type.rb web_path); "" when it does not
// have that form.
func (c *Client) projectOfWebPath(webPath, name string) string {
	p, ok := strings.CutPrefix(webPath, strings.TrimRight(c.baseURL.Path, "/")+"/")
	if !ok || name == "" {
		return ""
	}
	p, ok = strings.CutSuffix(p, "/-/cluster_agents/"+name)
	if !ok || p == "" || strings.Contains(p, "/-/") || strings.HasPrefix(p, "/") {
		return ""
	}
	if unescaped, err := url.PathUnescape(p); err == nil {
		return unescaped
	}
	return ""
}
