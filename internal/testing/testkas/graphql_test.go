package testkas

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The GraphQL tests that docs/conformance.md cites: what GitLab's GraphQL
// code and its request specs
// (spec/requests/api/graphql/project/cluster_agents/*_authorized_agents_spec.rb)
// answer.

const (
	deployerPAT = "glpat-deployer" // Developer of the deploying project, no member of secret/agents
	jsonUTF8    = "application/json; charset=utf-8"
)

func graphqlConfig() Config {
	cfg := gitlabConfig()
	cfg.Agents[1].CIAccessProjects = []int64{150}                              // 1234 prod: ci_access projects: [group1/group1-1/project1]
	cfg.Agents[1].UserAccess = &UserAccess{Projects: []int64{150}}             // user_access projects: [the same]
	cfg.Agents[2].CIAccessGroups = []int64{25}                                 // 9012 static: ci_access groups: [its group]
	cfg.Agents[2].UserAccess = &UserAccess{AsAgent: true, Groups: []int64{25}} // user_access as the agent, groups: [the same]
	cfg.Agents = append(cfg.Agents, Agent{ID: 5555, Name: "hidden", ConfigProjectID: 99, ConfigProjectPath: "secret/agents",
		CIAccessProjects: []int64{150}, UserAccess: &UserAccess{Projects: []int64{150}}})
	cfg.PATs = append(cfg.PATs, PAT{Token: deployerPAT, ID: 20, UserID: 8, Username: "dora", Scopes: []string{"read_api", "k8s_proxy"},
		Agents: []int64{1234, 9012, 5555}, ProjectRoles: map[int64]string{99: NoAccess}})
	for i := range cfg.PATs {
		if cfg.PATs[i].Token == reporterPAT {
			cfg.PATs[i].Agents = []int64{1234}
		}
	}
	return cfg
}

func gqlPost(query string, variables map[string]any, header http.Header) (string, http.Header) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range header {
		h[k] = v
	}
	return string(body), h
}

const agentsQuery = `query($path: ID!) { project(fullPath: $path) {
  ciAccessAuthorizedAgents { nodes { agent { id name webPath project { fullPath } } config } }
  userAccessAuthorizedAgents { nodes { agent { id name } config } } } }`

func TestGraphQLAuthorizedAgents(t *testing.T) {
	s := Start(t, graphqlConfig())
	ci := `{"nodes":[` +
		`{"agent":{"id":"gid://gitlab/Clusters::Agent/1234","name":"prod","webPath":"/group/agents/-/cluster_agents/prod","project":%s},"config":{"default_namespace":"apps","access_as":{"ci_job":{}}}},` +
		`{"agent":{"id":"gid://gitlab/Clusters::Agent/5555","name":"hidden","webPath":"/secret/agents/-/cluster_agents/hidden","project":null},"config":{}},` +
		`{"agent":{"id":"gid://gitlab/Clusters::Agent/1","name":"own","webPath":"/group1/group1-1/project1/-/cluster_agents/own","project":{"fullPath":"group1/group1-1/project1"}},"config":{}},` +
		`{"agent":{"id":"gid://gitlab/Clusters::Agent/9012","name":"static","webPath":"/group/agents/-/cluster_agents/static","project":{"fullPath":"group/agents"}},` +
		`"config":{"access_as":{"impersonate":{"username":"deployer","uid":"u-1","groups":["deployers"],"extra":[{"key":"team","val":["ops"]}]}}}}]}`
	ciDeployer := fmt.Sprintf(ci, `{"fullPath":"group/agents"}`)
	user := `{"nodes":[{"agent":{"id":"gid://gitlab/Clusters::Agent/1234","name":"prod"},"config":{"access_as":{"user":{}}}},` +
		`{"agent":{"id":"gid://gitlab/Clusters::Agent/5555","name":"hidden"},"config":{"access_as":{"user":{}}}},` +
		`{"agent":{"id":"gid://gitlab/Clusters::Agent/9012","name":"static"},"config":{"access_as":{"agent":{}}}}]}`
	vars := map[string]any{"path": "group1/group1-1/project1"}
	invalid := `{"errors":[{"message":"Invalid token"}]}`
	cases := []struct {
		name   string
		query  string
		vars   map[string]any
		header http.Header
		status int
		exact  string
	}{
		{name: "a developer of the deploying project: ci_access (project entries, its own agent, then groups) and user_access (projects, then groups)",
			query: agentsQuery, vars: vars, header: privateToken(deployerPAT), status: 200,
			exact: `{"data":{"project":{"ciAccessAuthorizedAgents":` + ciDeployer + `,"userAccessAuthorizedAgents":` + user + `}}}`},
		{name: "Bearer works as PRIVATE-TOKEN does", query: `{ currentUser { id username } }`, header: bearer(deployerPAT), status: 200,
			exact: `{"data":{"currentUser":{"id":"gid://gitlab/User/8","username":"dora"}}}`},
		{name: "a reporter: both fields null, no error", query: agentsQuery, vars: vars, header: privateToken(reporterPAT), status: 200,
			exact: `{"data":{"project":{"ciAccessAuthorizedAgents":null,"userAccessAuthorizedAgents":null}}}`},
		{name: "user_access lists only agents that admit the user", query: agentsQuery, vars: vars, header: privateToken(readAPIPAT), status: 200,
			exact: `{"data":{"project":{"ciAccessAuthorizedAgents":` + fmt.Sprintf(strings.Replace(ci, `"project":null`, `"project":{"fullPath":"secret/agents"}`, 1), `{"fullPath":"group/agents"}`) +
				`,"userAccessAuthorizedAgents":{"nodes":[]}}}}`},
		{name: "a project the user cannot see", query: agentsQuery, vars: map[string]any{"path": "secret/agents"}, header: privateToken(deployerPAT), status: 200,
			exact: `{"data":{"project":null}}`},
		{name: "an unknown project", query: agentsQuery, vars: map[string]any{"path": "no/such"}, header: privateToken(deployerPAT), status: 200,
			exact: `{"data":{"project":null}}`},
		{name: "anonymous: no user, no private project", query: `{ currentUser { username } project(fullPath: "group/agents") { fullPath } }`, status: 200,
			exact: `{"data":{"currentUser":null,"project":null}}`},
		{name: "aliases, __typename, literals", query: `query Agents { me: currentUser { __typename name } p: project(fullPath: "group/agents") { __typename id name } }`,
			header: privateToken(apiPAT), status: 200,
			exact: `{"data":{"me":{"__typename":"CurrentUser","name":"alice"},"p":{"__typename":"Project","id":"gid://gitlab/Project/77","name":"agents"}}}`},
		{name: "k8s_proxy only", query: `{ currentUser { id } }`, header: privateToken(k8sProxyPAT), status: 401, exact: invalid},
		{name: "expired", query: `{ currentUser { id } }`, header: privateToken(expiredPAT), status: 401, exact: invalid},
		{name: "revoked", query: `{ currentUser { id } }`, header: privateToken(revokedPAT), status: 401, exact: invalid},
		{name: "unknown token", query: `{ currentUser { id } }`, header: privateToken("glpat-nope"), status: 401, exact: invalid},
		{name: "a job token", query: `{ currentUser { id } }`, header: jobTokenHeader(jobTok), status: 401, exact: invalid},
		{name: "an unknown field", query: "{\n  project(fullPath: \"group/agents\") { clusterAgent { id } } }", header: privateToken(apiPAT), status: 200,
			exact: `{"errors":[{"message":"Field 'clusterAgent' doesn't exist on type 'Project'","locations":[{"line":2,"column":39}],` +
				`"path":["query","project","clusterAgent"],"extensions":{"code":"undefinedField","typeName":"Project","fieldName":"clusterAgent"}}]}`},
		{name: "an unknown argument", query: `{ project(path: "x") { id } }`, header: privateToken(apiPAT), status: 200,
			exact: `{"errors":[{"message":"Field 'project' doesn't accept argument 'path'","locations":[{"line":1,"column":3}],` +
				`"path":["query","project"],"extensions":{"code":"argumentNotAccepted","name":"project","typeName":"Field","argumentName":"path"}}]}`},
		{name: "a syntax error", query: `{ project(fullPath: "x") { id }`, header: privateToken(apiPAT), status: 200,
			exact: `{"errors":[{"message":"Unexpected end of document","locations":[{"line":1,"column":32}]}]}`},
		{name: "a variable declared and not used, one used and not declared", query: `query Q($unused: String) { project(fullPath: $p) { id } }`,
			header: privateToken(apiPAT), status: 200,
			exact: `{"errors":[{"message":"Variable $unused is declared by Q but not used","extensions":{"code":"variableNotUsed","variableName":"unused"}},` +
				`{"message":"Variable $p is used by Q but not declared","extensions":{"code":"variableNotDefined","variableName":"p"}}]}`},
		{name: "a required variable missing", query: agentsQuery, header: privateToken(apiPAT), status: 200,
			exact: `{"errors":[{"message":"Variable $path of type ID! was provided invalid value","extensions":{"value":null,"problems":[{"path":[],"explanation":"Expected value to not be null"}]}}]}`},
	}
	for _, c := range cases {
		body, header := gqlPost(c.query, c.vars, c.header)
		exchange{name: c.name, method: http.MethodPost, url: "/api/graphql", header: header, body: body, status: c.status, exact: c.exact,
			headers: map[string]string{"Content-Type": jsonUTF8}}.check(t, s, s.URL)
	}
}

// TestGraphQLPagination: connections page as graphql-ruby's ArrayConnection
// does, at most 100 nodes, cursors the base64 of the 1-based index.
func TestGraphQLPagination(t *testing.T) {
	cfg := graphqlConfig()
	for i := range 150 {
		cfg.Agents = append(cfg.Agents, Agent{ID: int64(3000 + i), Name: fmt.Sprintf("a%03d", i), ConfigProjectID: 88, ConfigProjectPath: "group/many",
			CIAccessProjects: []int64{150}})
	}
	s := Start(t, cfg)
	type pageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	fetch := func(args string) (names []string, info pageInfo, errs string) {
		t.Helper()
		query := `{ project(fullPath: "group1/group1-1/project1") { ciAccessAuthorizedAgents` + args +
			` { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { agent { name } } } } } }`
		body, header := gqlPost(query, nil, privateToken(deployerPAT))
		_, text := exchange{name: args, method: http.MethodPost, url: "/api/graphql", header: header, body: body, status: 200}.check(t, s, s.URL)
		var out struct {
			Errors []struct{ Message string }
			Data   struct {
				Project struct {
					CiAccessAuthorizedAgents *struct {
						PageInfo pageInfo
						Edges    []struct {
							Cursor string
							Node   struct{ Agent struct{ Name string } }
						}
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			t.Fatalf("%s: %v\n%s", args, err, text)
		}
		for _, e := range out.Errors {
			errs += e.Message
		}
		if c := out.Data.Project.CiAccessAuthorizedAgents; c != nil {
			info = c.PageInfo
			for _, e := range c.Edges {
				names = append(names, e.Node.Agent.Name)
			}
		}
		return names, info, errs
	}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	// 154 in all: prod, hidden, a000…a149 (project entries), own (implicit), static (group).
	names, info, _ := fetch("")
	if len(names) != 100 || !info.HasNextPage || info.HasPreviousPage || str(info.StartCursor) != "MQ" || str(info.EndCursor) != "MTAw" {
		t.Errorf("default page: %d nodes, %+v %s %s", len(names), info, str(info.StartCursor), str(info.EndCursor))
	}
	names, info, _ = fetch(`(first: 500, after: "MTAw")`)
	if len(names) != 54 || info.HasNextPage || !info.HasPreviousPage || names[53] != "static" || str(info.EndCursor) != "MTU0" {
		t.Errorf("first above 100, after the 100th: %d nodes, %+v", len(names), info)
	}
	seen := map[string]bool{}
	after := ""
	for n := 0; n < 40; n++ {
		args := "(first: 7)"
		if after != "" {
			args = `(first: 7, after: "` + after + `")`
		}
		names, info, _ := fetch(args)
		for _, name := range names {
			seen[name] = true
		}
		if !info.HasNextPage {
			break
		}
		after = str(info.EndCursor)
	}
	if len(seen) != 154 {
		t.Errorf("following endCursor saw %d agents, want 154", len(seen))
	}
	names, info, _ = fetch(`(last: 2, before: "NQ")`)
	if strings.Join(names, ",") != "a000,a001" || !info.HasPreviousPage || !info.HasNextPage {
		t.Errorf("last 2 before the 5th: %v %+v", names, info)
	}
	names, info, _ = fetch(`(after: "MTU0")`)
	if len(names) != 0 || info.HasNextPage || info.EndCursor != nil {
		t.Errorf("after the end: %v %+v", names, info)
	}
	if _, _, errs := fetch(`(after: "bm9wZQ")`); errs != `Invalid cursor: "bm9wZQ"` {
		t.Errorf("a bad cursor: %q", errs)
	}
}

// FuzzGraphQLParse: any query text parses or fails with a positioned
// error, never a panic or a hang, and what parses runs.
func FuzzGraphQLParse(f *testing.F) {
	f.Add(agentsQuery)
	f.Add(`{ currentUser { id } }`)
	f.Add(`query Q($a: [String!]! = ["x"], $b: Int = -1.5e3) { p: project(fullPath: "\u00e9\n") { __typename } }`)
	f.Add(`{ project(fullPath: $p) { ciAccessAuthorizedAgents(first: 1, after: "MQ") { edges { cursor } } } }`)
	f.Fuzz(func(t *testing.T, query string) {
		op, err := parseGraphQL(query)
		if err != nil {
			if _, ok := err.(*gqlParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(gqlValidate(op.Selections, "Query", nil))+len(gqlValidateVariables(op)) == 0 {
			x := &gqlExec{cfg: graphqlConfig(), viewer: &graphqlConfig().PATs[len(graphqlConfig().PATs)-1], vars: map[string]any{}}
			x.object(op.Selections, "Query", nil, nil)
		}
	})
}
