package testkas

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// GitLab's GraphQL API at /api/graphql, as far as clients of agents use it:
//
//	query { currentUser { id username }
//	  project(fullPath: "group/app") {
//	    ciAccessAuthorizedAgents(first: 100, after: …)   { pageInfo { hasNextPage endCursor } nodes { agent { id name webPath project { fullPath } } config } }
//	    userAccessAuthorizedAgents(first: 100, after: …) { … } } }
//
// Sources (gitlabhq/gitlabhq): app/controllers/graphql_controller.rb
// (authentication, render_error), lib/gitlab/auth/request_authenticator.rb
// (find_user_for_graphql_api_request: a personal access token with api or
// read_api; job tokens are not accepted), app/graphql/gitlab_schema.rb
// (default_max_page_size 100; an unauthorized field is null, no error),
// app/graphql/types/project_type.rb (ci_access_authorized_agents,
// user_access_authorized_agents, authorize: :read_cluster_agent),
// app/graphql/resolvers/clusters/agents/authorizations/*_resolver.rb,
// app/finders/clusters/agents/authorizations/{ci_access,user_access}/finder.rb,
// app/models/clusters/agents/authorizations/user_access/*_authorization.rb
// (for_user: Developer and above; for_project: the project, or its group
// and the groups above), app/services/clusters/agents/authorizations/
// user_access/refresh_service.rb (config: user_access's access_as, or {}),
// app/graphql/types/clusters/agent_type.rb (project: authorize
// :read_project; web_path), and their request specs
// spec/requests/api/graphql/project/cluster_agents/*_authorized_agents_spec.rb
// (a Reporter gets null; an agent project the user cannot read is null).
// Arrays page as graphql-ruby's Pagination::ArrayConnection does: cursors
// are the 1-based index, URL-safe base64 without padding.

// graphqlMaxPageSize is GitlabSchema's default_max_page_size.
const graphqlMaxPageSize = 100

// graphqlScopes are graphql_authorization_scopes: read_api suffices for
// queries whatever the HTTP method.
var graphqlScopes = []string{"api", "read_api"}

// graphqlRenderError is GraphqlController#render_error: {"errors":[{"message":…}]}.
func graphqlRenderError(w http.ResponseWriter, status int, message string) {
	writeGraphQL(w, status, object{{"errors", []any{object{{"message", message}}}}})
}

// writeGraphQL is Rails' render json: with its charset.
func writeGraphQL(w http.ResponseWriter, status int, v any) {
	writeRubyJSON(w, status, "application/json; charset=utf-8", v)
}

// graphqlViewer is the user a GraphQL request acts as: nil for an
// anonymous one. ok is false when it carried a token GitLab does not take
// (authorize_access_api!: 401 Invalid token), whether unknown, expired,
// revoked, of too narrow a scope, or a job token. An OAuth access token
// counts as its user, with its scopes (find_user_from_access_token).
func (s *Server) graphqlViewer(r *http.Request, cfg Config) (viewer *PAT, ok bool) {
	if t, problem := s.oauthAccess(r); problem != "" {
		return nil, false
	} else if t != nil {
		return t.user.asViewer(t.scopes), slices.ContainsFunc(graphqlScopes, func(sc string) bool { return slices.Contains(t.scopes, sc) })
	}
	token := patToken(r)
	if token == "" {
		anonymous := r.Header.Get("Job-Token") == "" && r.URL.Query().Get("job_token") == ""
		return nil, anonymous
	}
	pat := findPAT(&cfg, token)
	if pat == nil || patExpired(pat) || pat.Revoked || !slices.ContainsFunc(graphqlScopes, func(s string) bool { return slices.Contains(pat.Scopes, s) }) {
		return nil, false
	}
	return pat, true
}

// graphql is POST (or GET) /api/graphql.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request, cfg Config) {
	viewer, ok := s.graphqlViewer(r, cfg)
	if !ok {
		graphqlRenderError(w, http.StatusUnauthorized, "Invalid token")
		return
	}
	var in struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if r.Method == http.MethodGet {
		in.Query = r.URL.Query().Get("query")
		if v := r.URL.Query().Get("variables"); v != "" {
			json.Unmarshal([]byte(v), &in.Variables)
		}
	} else if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		graphqlRenderError(w, http.StatusUnprocessableEntity, "Invalid JSON: "+err.Error()) // ActionDispatch's parse error, in short
		return
	}
	if len(in.Query) > 10_000 { // GraphqlController::MAX_QUERY_SIZE
		graphqlRenderError(w, http.StatusUnprocessableEntity, "Query too large")
		return
	}
	op, err := parseGraphQL(in.Query)
	if err != nil {
		pe := err.(*gqlParseError)
		writeGraphQL(w, http.StatusOK, object{{"errors", []any{object{{"message", pe.Message}, {"locations", []any{location(pe.Line, pe.Col)}}}}}})
		return
	}
	errs := gqlValidate(op.Selections, "Query", nil)
	errs = append(errs, gqlValidateVariables(op)...)
	if len(errs) > 0 {
		writeGraphQL(w, http.StatusOK, object{{"errors", errs}})
		return
	}
	vars := map[string]any{}
	for k, v := range op.Defaults {
		vars[k] = v
	}
	for k, v := range in.Variables {
		vars[k] = v
	}
	for name, typ := range op.Required {
		if vars[name] == nil {
			writeGraphQL(w, http.StatusOK, object{{"errors", []any{object{{"message", fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, typ)},
				{"extensions", object{{"value", nil}, {"problems", []any{object{{"path", []any{}}, {"explanation", "Expected value to not be null"}}}}}}}}}})
			return
		}
	}
	x := &gqlExec{cfg: cfg, viewer: viewer, vars: vars}
	data := x.object(op.Selections, "Query", nil, nil)
	out := object{}
	if len(x.errors) > 0 {
		out = append(out, member{"errors", x.errors})
	}
	writeGraphQL(w, http.StatusOK, append(out, member{"data", data}))
}

func location(line, col int) object { return object{{"line", line}, {"column", col}} }

// gqlFieldDef is a field of the schema: its arguments, its type (an
// object type's name, "[T]" for a list of one, "" for a scalar) and how
// it is resolved from its parent.
type gqlFieldDef struct {
	args    []string
	typ     string
	resolve func(x *gqlExec, parent any, args map[string]any) (any, error)
}

var connectionArgs = []string{"first", "after", "last", "before"}

// gqlSchema is the part of GitLab's schema testkas serves.
var gqlSchema map[string]map[string]gqlFieldDef

func init() {
	authorizationType := func() map[string]gqlFieldDef {
		return map[string]gqlFieldDef{
			"agent":  {typ: "ClusterAgent", resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(gqlAuthorization).agent, nil }},
			"config": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(gqlAuthorization).config, nil }},
		}
	}
	connectionType := func(node string) map[string]gqlFieldDef {
		return map[string]gqlFieldDef{
			"nodes":    {typ: "[" + node + "]", resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*gqlConnection).nodes, nil }},
			"edges":    {typ: "[" + node + "Edge]", resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*gqlConnection).edges(), nil }},
			"pageInfo": {typ: "PageInfo", resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*gqlConnection), nil }},
		}
	}
	edgeType := func(node string) map[string]gqlFieldDef {
		return map[string]gqlFieldDef{
			"cursor": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(gqlEdge).cursor, nil }},
			"node":   {typ: node, resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(gqlEdge).node, nil }},
		}
	}
	gqlSchema = map[string]map[string]gqlFieldDef{
		"Query": {
			"currentUser": {typ: "CurrentUser", resolve: func(x *gqlExec, _ any, _ map[string]any) (any, error) {
				if x.viewer == nil {
					return nil, nil
				}
				return x.viewer, nil
			}},
			"project": {args: []string{"fullPath"}, typ: "Project", resolve: func(x *gqlExec, _ any, args map[string]any) (any, error) {
				path, _ := args["fullPath"].(string)
				p := findProject(x.cfg, path)
				if p == nil || !x.canRead(p.ID) { // Project.find_by_full_path, then read_project
					return nil, nil
				}
				return p, nil
			}},
		},
		"CurrentUser": {
			"id": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) {
				id, _ := patUser(p.(*PAT))
				return "gid://gitlab/User/" + strconv.FormatInt(id, 10), nil
			}},
			"username": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { _, name := patUser(p.(*PAT)); return name, nil }},
			"name":     {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { _, name := patUser(p.(*PAT)); return name, nil }},
		},
		"Project": {
			"id": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) {
				return "gid://gitlab/Project/" + itoa(p.(*Project).ID), nil
			}},
			"fullPath": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*Project).Path, nil }},
			"name":     {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return lastSegment(p.(*Project).Path), nil }},
			"path":     {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return lastSegment(p.(*Project).Path), nil }},
			"ciAccessAuthorizedAgents": {args: connectionArgs, typ: "ClusterAgentAuthorizationCiAccessConnection",
				resolve: func(x *gqlExec, p any, args map[string]any) (any, error) {
					if !x.readClusterAgent(p.(*Project)) {
						return nil, nil
					}
					return page(x.ciAccessAuthorizations(p.(*Project)), args)
				}},
			"userAccessAuthorizedAgents": {args: connectionArgs, typ: "ClusterAgentAuthorizationUserAccessConnection",
				resolve: func(x *gqlExec, p any, args map[string]any) (any, error) {
					if !x.readClusterAgent(p.(*Project)) {
						return nil, nil
					}
					return page(x.userAccessAuthorizations(p.(*Project)), args)
				}},
		},
		"ClusterAgentAuthorizationCiAccessConnection":   connectionType("ClusterAgentAuthorizationCiAccess"),
		"ClusterAgentAuthorizationUserAccessConnection": connectionType("ClusterAgentAuthorizationUserAccess"),
		"ClusterAgentAuthorizationCiAccessEdge":         edgeType("ClusterAgentAuthorizationCiAccess"),
		"ClusterAgentAuthorizationUserAccessEdge":       edgeType("ClusterAgentAuthorizationUserAccess"),
		"ClusterAgentAuthorizationCiAccess":             authorizationType(),
		"ClusterAgentAuthorizationUserAccess":           authorizationType(),
		"PageInfo": {
			"hasNextPage":     {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*gqlConnection).hasNext, nil }},
			"hasPreviousPage": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*gqlConnection).hasPrev, nil }},
			"startCursor":     {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*gqlConnection).cursor(0), nil }},
			"endCursor": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) {
				c := p.(*gqlConnection)
				return c.cursor(len(c.nodes) - 1), nil
			}},
		},
		"ClusterAgent": {
			"id": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) {
				return "gid://gitlab/Clusters::Agent/" + itoa(p.(*Agent).ID), nil
			}},
			"name": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) { return p.(*Agent).Name, nil }},
			// project_cluster_agent_path(project, name)
			"webPath": {resolve: func(_ *gqlExec, p any, _ map[string]any) (any, error) {
				a := p.(*Agent)
				return "/" + a.ConfigProjectPath + "/-/cluster_agents/" + a.Name, nil
			}},
			"createdAt": {resolve: func(_ *gqlExec, _ any, _ map[string]any) (any, error) { return "2026-01-01T00:00:00Z", nil }},
			"project": {typ: "Project", resolve: func(x *gqlExec, p any, _ map[string]any) (any, error) {
				a := p.(*Agent)
				if !x.canRead(a.ConfigProjectID) { // authorize: :read_project
					return nil, nil
				}
				return &Project{ID: a.ConfigProjectID, Path: a.ConfigProjectPath}, nil
			}},
		},
	}
}

func lastSegment(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// gqlValidate is graphql-ruby's static validation, for what a client of
// this schema can get wrong: unknown fields and arguments, selections on
// scalars, none on objects.
func gqlValidate(fields []gqlField, typeName string, path []any) []any {
	var errs []any
	for _, f := range fields {
		here := append(append([]any{}, path...), f.Key())
		if f.Name == "__typename" {
			continue
		}
		def, ok := gqlSchema[typeName][f.Name]
		if !ok {
			errs = append(errs, object{{"message", fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.Name, typeName)},
				{"locations", []any{location(f.Line, f.Col)}}, {"path", append([]any{"query"}, here...)},
				{"extensions", object{{"code", "undefinedField"}, {"typeName", typeName}, {"fieldName", f.Name}}}})
			continue
		}
		for _, a := range f.Args {
			if !slices.Contains(def.args, a.Name) {
				errs = append(errs, object{{"message", fmt.Sprintf("Field '%s' doesn't accept argument '%s'", f.Name, a.Name)},
					{"locations", []any{location(f.Line, f.Col)}}, {"path", append([]any{"query"}, here...)},
					{"extensions", object{{"code", "argumentNotAccepted"}, {"name", f.Name}, {"typeName", "Field"}, {"argumentName", a.Name}}}})
			}
		}
		elem := strings.Trim(def.typ, "[]")
		switch {
		case def.typ == "" && len(f.Selections) > 0:
			errs = append(errs, object{{"message", fmt.Sprintf("Selections can't be made on scalars (field '%s' returns a scalar but has selections)", f.Name)},
				{"locations", []any{location(f.Line, f.Col)}}, {"path", append([]any{"query"}, here...)}})
		case def.typ != "" && len(f.Selections) == 0:
			errs = append(errs, object{{"message", fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", f.Name, elem, f.Name)},
				{"locations", []any{location(f.Line, f.Col)}}, {"path", append([]any{"query"}, here...)}})
		case def.typ != "":
			errs = append(errs, gqlValidate(f.Selections, elem, here)...)
		}
	}
	return errs
}

// gqlValidateVariables is graphql-ruby's VariablesAreUsedAndDefined:
// every variable declared is used, and every one used is declared.
func gqlValidateVariables(op *gqlOperation) []any {
	used := map[string]bool{}
	var walk func([]gqlField)
	walk = func(fields []gqlField) {
		for _, f := range fields {
			for _, a := range f.Args {
				if a.Value.Variable != "" {
					used[a.Value.Variable] = true
				}
			}
			walk(f.Selections)
		}
	}
	walk(op.Selections)
	who := "anonymous query"
	if op.Name != "" {
		who = op.Name
	}
	var errs []any
	for _, v := range op.Declared {
		if !used[v] {
			errs = append(errs, object{{"message", fmt.Sprintf("Variable $%s is declared by %s but not used", v, who)},
				{"extensions", object{{"code", "variableNotUsed"}, {"variableName", v}}}})
		}
	}
	for _, v := range sortedKeys(used) {
		if !slices.Contains(op.Declared, v) {
			errs = append(errs, object{{"message", fmt.Sprintf("Variable $%s is used by %s but not declared", v, who)},
				{"extensions", object{{"code", "variableNotDefined"}, {"variableName", v}}}})
		}
	}
	return errs
}

// gqlExec runs one operation.
type gqlExec struct {
	cfg    Config
	viewer *PAT
	vars   map[string]any
	errors []any
}

// object resolves a selection set on an object of type typeName.
func (x *gqlExec) object(fields []gqlField, typeName string, obj any, path []any) object {
	out := object{}
	for _, f := range fields {
		here := append(append([]any{}, path...), f.Key())
		if f.Name == "__typename" {
			out = append(out, member{f.Key(), typeName})
			continue
		}
		def := gqlSchema[typeName][f.Name]
		args := map[string]any{}
		for _, a := range f.Args {
			args[a.Name] = x.value(a.Value)
		}
		v, err := def.resolve(x, obj, args)
		if err != nil {
			x.errors = append(x.errors, object{{"message", err.Error()}, {"locations", []any{location(f.Line, f.Col)}}, {"path", here}})
			v = nil
		}
		out = append(out, member{f.Key(), x.shape(f, def.typ, v, here)})
	}
	return out
}

// shape renders a resolved value by its type.
func (x *gqlExec) shape(f gqlField, typ string, v any, path []any) any {
	if v == nil || typ == "" {
		return v
	}
	if elem, ok := strings.CutPrefix(typ, "["); ok {
		elem = strings.TrimSuffix(elem, "]")
		list := []any{}
		for i, item := range v.([]any) {
			list = append(list, x.shape(f, elem, item, append(append([]any{}, path...), i)))
		}
		return list
	}
	if a, ok := v.(*Agent); ok && a == nil {
		return nil
	}
	return x.object(f.Selections, typ, v, path)
}

func (x *gqlExec) value(v gqlValue) any {
	if v.Variable != "" {
		return x.vars[v.Variable]
	}
	if e, ok := v.Literal.(gqlEnum); ok {
		return string(e)
	}
	return v.Literal
}

// canRead is read_project: every project is private, so the viewer must
// be a member.
func (x *gqlExec) canRead(projectID int64) bool {
	return x.viewer != nil && x.viewer.roleIn(projectID) != NoAccess
}

// readClusterAgent is read_cluster_agent on a project: Developer and above
// (app/policies/project_policy.rb).
func (x *gqlExec) readClusterAgent(p *Project) bool {
	return x.viewer != nil && atLeast(x.viewer.roleIn(p.ID), "developer")
}

// gqlAuthorization is a ClusterAgentAuthorizationCiAccess or …UserAccess.
type gqlAuthorization struct {
	agent  *Agent
	config object
}

// ciAccessAuthorizations is CiAccess::Finder.new(project).execute: the
// agents whose ci_access lists the project, the project's own agents
// (implicit, config {}), then those that list one of its groups, the
// nearest group first; each agent once, the first entry winning.
func (x *gqlExec) ciAccessAuthorizations(p *Project) []any {
	var out []any
	seen := map[int64]bool{}
	add := func(a *Agent, config object) {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, gqlAuthorization{agent: a, config: config})
		}
	}
	agents := x.cfg.Agents
	for i := range agents {
		if slices.Contains(agents[i].CIAccessProjects, p.ID) {
			add(&agents[i], ciAccessEntry(&agents[i]))
		}
	}
	for i := range agents {
		if agents[i].ConfigProjectID == p.ID {
			add(&agents[i], object{})
		}
	}
	for _, g := range p.GroupIDs {
		for i := range agents {
			if slices.Contains(agents[i].CIAccessGroups, g) {
				add(&agents[i], ciAccessEntry(&agents[i]))
			}
		}
	}
	return out
}

// userAccessAuthorizations is UserAccess::Finder.new(user, project:): the
// project authorizations of agents whose user_access lists the project,
// then the group authorizations of those that list its group or one
// above; only agents that admit the viewer (PAT.Agents), and group
// authorizations only where the viewer is at least Developer.
func (x *gqlExec) userAccessAuthorizations(p *Project) []any {
	var projects, groups []any
	for i := range x.cfg.Agents {
		a := &x.cfg.Agents[i]
		if !slices.Contains(x.viewer.Agents, a.ID) {
			continue
		}
		ua := a.UserAccess
		if ua == nil {
			ua = &UserAccess{Projects: []int64{a.ConfigProjectID}}
		}
		config := object{{"access_as", object{{"user", object{}}}}}
		if ua.AsAgent {
			config = object{{"access_as", object{{"agent", object{}}}}}
		}
		switch {
		case slices.Contains(ua.Projects, p.ID):
			projects = append(projects, gqlAuthorization{agent: a, config: config})
		case atLeast(x.viewer.Role, "developer") && slices.ContainsFunc(p.GroupIDs, func(g int64) bool { return slices.Contains(ua.Groups, g) }):
			groups = append(groups, gqlAuthorization{agent: a, config: config})
		}
	}
	return append(projects, groups...)
}

// gqlConnection is one page of graphql-ruby's ArrayConnection.
type gqlConnection struct {
	nodes            []any
	offset           int
	hasNext, hasPrev bool
}

type gqlEdge struct {
	cursor string
	node   any
}

func (c *gqlConnection) cursor(i int) any {
	if i < 0 || i >= len(c.nodes) {
		return nil
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(c.offset + i + 1)))
}

func (c *gqlConnection) edges() []any {
	out := []any{}
	for i, n := range c.nodes {
		out = append(out, gqlEdge{cursor: c.cursor(i).(string), node: n})
	}
	return out
}

// page is ArrayConnection#load_nodes with first and last capped at the
// maximum page size, and first defaulting to it.
func page(items []any, args map[string]any) (*gqlConnection, error) {
	limit := func(name string) (int, bool, error) {
		v, ok := args[name]
		if !ok || v == nil {
			return 0, false, nil
		}
		var n int
		switch t := v.(type) {
		case int64:
			n = int(t)
		case float64: // a JSON variable
			n = int(t)
		default:
			return 0, false, fmt.Errorf("Argument '%s' on Field has an invalid value (%v). Expected type 'Int'.", name, v)
		}
		return max(min(n, graphqlMaxPageSize), 0), true, nil
	}
	index := func(name string) (int, bool, error) {
		v, ok := args[name].(string)
		if !ok {
			return 0, false, nil
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
		n, convErr := strconv.Atoi(string(raw))
		if err != nil || convErr != nil || n <= 0 {
			return 0, false, fmt.Errorf("Invalid cursor: %q", v)
		}
		return min(n, len(items)+1), true, nil
	}
	first, hasFirst, err := limit("first")
	if err != nil {
		return nil, err
	}
	last, hasLast, err := limit("last")
	if err != nil {
		return nil, err
	}
	after, hasAfter, err := index("after")
	if err != nil {
		return nil, err
	}
	before, hasBefore, err := index("before")
	if err != nil {
		return nil, err
	}
	if !hasFirst && !hasLast {
		first, hasFirst = graphqlMaxPageSize, true
	}
	slice := func(from, to int) []any { // Ruby's items[from..to], to inclusive
		if from > len(items) || to < from {
			return nil
		}
		return items[from:min(to+1, len(items))]
	}
	var sliced []any
	switch {
	case hasBefore && hasAfter:
		sliced = slice(after, before-2)
	case hasBefore:
		sliced = slice(0, before-2)
	case hasAfter:
		sliced = slice(after, len(items)-1)
	default:
		sliced = items
	}
	c := &gqlConnection{offset: 0}
	if hasAfter {
		c.offset = after
	}
	switch {
	case hasLast:
		c.hasPrev = len(sliced) > last
	case hasAfter:
		c.hasPrev = after > 0
	}
	switch {
	case hasBefore:
		c.hasNext = before < len(items)+1
	case hasFirst:
		c.hasNext = len(sliced) > first
	}
	if hasFirst && len(sliced) > first {
		sliced = sliced[:first]
	}
	if hasLast && len(sliced) > last {
		c.offset += len(sliced) - last
		sliced = sliced[len(sliced)-last:]
	}
	c.nodes = sliced
	return c, nil
}
