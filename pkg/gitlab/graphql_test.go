package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const (
	deployerPAT = "glpat-deployerSecret"
	reporterPAT = "glpat-reporterSecret"
	proxyPAT    = "glpat-k8sProxyOnlySecret"
)

// deployingServer is testkas.DeployingProject with a reporter's token, a
// k8s_proxy-only one, and more agents for paging.
func deployingServer(t *testing.T, extraCI, extraUser int) *testkas.Server {
	cfg := testkas.DeployingProject(deployerPAT)
	cfg.PATs = append(cfg.PATs,
		testkas.PAT{Token: reporterPAT, ID: 2, Username: "rita", Scopes: []string{"read_api"}, Role: "reporter"},
		testkas.PAT{Token: proxyPAT, ID: 3, Username: "dora", Scopes: []string{"k8s_proxy"}})
	for i := range extraCI {
		cfg.Agents = append(cfg.Agents, testkas.Agent{ID: int64(10000 + i), Name: fmt.Sprintf("ci-%03d", i), ConfigProjectID: 88, ConfigProjectPath: "group/fleet", CIAccessProjects: []int64{150}})
	}
	for i := range extraUser {
		cfg.Agents = append(cfg.Agents, testkas.Agent{ID: int64(20000 + i), Name: fmt.Sprintf("user-%03d", i), ConfigProjectID: 89, ConfigProjectPath: "group/desk", UserAccess: &testkas.UserAccess{Projects: []int64{150}}})
	}
	for _, a := range cfg.Agents {
		cfg.PATs[0].Agents = append(cfg.PATs[0].Agents, a.ID)
	}
	return testkas.Start(t, cfg)
}

func TestProjectAuthorizedAgents(t *testing.T) {
	kas := deployingServer(t, 0, 0)
	c, _ := newTestClient(t, kas, PrivateToken(deployerPAT))
	got, err := c.ProjectAuthorizedAgents(context.Background(), "group/app")
	if err != nil {
		t.Fatal(err)
	}
	show := func(list []AuthorizedAgent) string {
		var parts []string
		for _, a := range list {
			parts = append(parts, fmt.Sprintf("%d %s %s ns=%s as=%s", a.ID, a.ProjectPath, a.Name, a.Config.DefaultNamespace, a.Config.AccessMode()))
		}
		return strings.Join(parts, "; ")
	}
	if !got.Found || got.Username != "dora" || got.CIAccessHidden || got.UserAccessHidden {
		t.Errorf("got %+v", got)
	}
	if s := show(got.CIAccess); s != "1234 group/agents prod ns=apps as=ci_job" {
		t.Errorf("ci_access: %s", s)
	}
	// secret/agents is not shown as a project, but the agent's web path names it.
	if s := show(got.UserAccess); s != "1234 group/agents prod ns= as=user; 5555 secret/agents hidden ns= as=user; 9012 group/agents static ns= as=agent" {
		t.Errorf("user_access: %s", s)
	}

	r, _ := newTestClient(t, kas, PrivateToken(reporterPAT))
	if got, err := r.ProjectAuthorizedAgents(context.Background(), "group/app"); err != nil || !got.Found || !got.CIAccessHidden || !got.UserAccessHidden || got.Username != "rita" {
		t.Errorf("a reporter: %+v, %v", got, err)
	}
	if got, err := c.ProjectAuthorizedAgents(context.Background(), "no/such"); err != nil || got.Found || got.Username != "dora" {
		t.Errorf("no such project: %+v, %v", got, err)
	}
	p, _ := newTestClient(t, kas, PrivateToken(proxyPAT))
	_, err = p.ProjectAuthorizedAgents(context.Background(), "group/app")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Message != "Invalid token" || apiErr.Endpoint != "/api/graphql" {
		t.Errorf("a k8s_proxy-only token: %v", err)
	}
	for _, req := range kas.Requests() {
		if req.Path != "/api/graphql" || req.Method != http.MethodPost {
			t.Errorf("request %s %s", req.Method, req.Path)
		}
	}
}

// TestProjectAuthorizedAgentsPages: every page of both lists, each asked
// only while it has more.
func TestProjectAuthorizedAgentsPages(t *testing.T) {
	kas := deployingServer(t, 230, 120)
	c, _ := newTestClient(t, kas, PrivateToken(deployerPAT))
	got, err := c.ProjectAuthorizedAgents(context.Background(), "group/app")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.CIAccess) != 231 || len(got.UserAccess) != 123 {
		t.Errorf("%d ci_access, %d user_access; want 231 and 123", len(got.CIAccess), len(got.UserAccess))
	}
	seen := map[int64]bool{}
	for _, a := range got.CIAccess {
		if seen[a.ID] {
			t.Errorf("agent %d twice", a.ID)
		}
		seen[a.ID] = true
	}
	if n := len(kas.Requests()); n != 3 {
		t.Errorf("%d requests; want 3 (pages of 100)", n)
	}
}

// TestProjectAuthorizedAgentsHostileServer: a server whose pages never end
// is left after a bounded number; a repeated cursor ends the list; errors
// and answers that are not GitLab's are errors that name no token.
func TestProjectAuthorizedAgentsHostileServer(t *testing.T) {
	var requests atomic.Int32
	var answer func(n int32, query string) string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		var in struct{ Query string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer(n, in.Query))
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, PrivateToken(deployerPAT), srv.Client().Transport, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	page := func(cursor string, next bool) string {
		return fmt.Sprintf(`{"pageInfo":{"hasNextPage":%t,"endCursor":%q},"nodes":[{"agent":{"id":"gid://gitlab/Clusters::Agent/%d","name":"a","webPath":"/g/p/-/cluster_agents/a","project":null},"config":{}}]}`,
			next, cursor, len(cursor))
	}
	cases := []struct {
		name   string
		answer func(n int32, query string) string
		want   string
		calls  int32
	}{
		{"endless pages", func(n int32, _ string) string {
			return `{"data":{"currentUser":null,"project":{"ciAccessAuthorizedAgents":` + page(strings.Repeat("x", int(n)), true) + `,"userAccessAuthorizedAgents":` + page(strings.Repeat("y", int(n)), true) + `}}}`
		}, "more than 100 pages", 100},
		{"a cursor that repeats ends the list", func(n int32, query string) string {
			return `{"data":{"currentUser":null,"project":{"ciAccessAuthorizedAgents":` + page("same", true) + `,"userAccessAuthorizedAgents":` + page("same", true) + `}}}`
		}, "", 2},
		{"errors", func(int32, string) string {
			return `{"errors":[{"message":"Field 'userAccessAuthorizedAgents' doesn't exist on type 'Project'"}]}`
		}, "doesn't exist on type", 1},
		{"an agent that is not a global ID", func(int32, string) string {
			return `{"data":{"project":{"ciAccessAuthorizedAgents":{"nodes":[{"agent":{"id":"1234"}}]},"userAccessAuthorizedAgents":null}}}`
		}, `names an agent by "1234"`, 1},
		{"no data", func(int32, string) string { return `{"data":null}` }, "no data", 1},
		{"the token echoed back", func(int32, string) string { return `{"errors":[{"message":"bad ` + deployerPAT + `"}]}` }, "bad " + redact.Marker, 1},
	}
	for _, tc := range cases {
		requests.Store(0)
		answer = tc.answer
		_, err := c.ProjectAuthorizedAgents(context.Background(), "g/p")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		case err != nil && strings.Contains(err.Error(), deployerPAT):
			t.Errorf("%s: the token is in the error", tc.name)
		}
		if n := requests.Load(); n != tc.calls {
			t.Errorf("%s: %d requests, want %d", tc.name, n, tc.calls)
		}
	}
	var gqlErr *GraphQLError
	answer = cases[2].answer
	if _, err := c.ProjectAuthorizedAgents(context.Background(), "g/p"); !errors.As(err, &gqlErr) || gqlErr.Fix() == "" {
		t.Errorf("a schema error: %v", err)
	}
}

func TestProjectOfWebPath(t *testing.T) {
	cases := []struct{ base, webPath, name, want string }{
		{"https://gitlab.example.com", "/group/sub/agents/-/cluster_agents/prod", "prod", "group/sub/agents"},
		{"https://example.com/gitlab", "/gitlab/group/agents/-/cluster_agents/prod", "prod", "group/agents"},
		{"https://example.com/gitlab", "/group/agents/-/cluster_agents/prod", "prod", ""},
		{"https://gitlab.example.com", "/group/agents/-/cluster_agents/other", "prod", ""},
		{"https://gitlab.example.com", "/-/cluster_agents/prod", "prod", ""},
		{"https://gitlab.example.com", "//evil/-/cluster_agents/prod", "prod", ""},
		{"https://gitlab.example.com", "/a/-/b/-/cluster_agents/prod", "prod", ""},
		{"https://gitlab.example.com", "", "", ""},
	}
	for _, c := range cases {
		client, err := NewClient(c.base, Auth{}, nil, httpsafe.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if got := client.projectOfWebPath(c.webPath, c.name); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.base, c.webPath, got, c.want)
		}
	}
}

// FuzzProjectOfWebPath: what is read from a web path is the project that
// path names, below the instance's path, or nothing.
func FuzzProjectOfWebPath(f *testing.F) {
	f.Add("/gitlab", "/gitlab/group/agents/-/cluster_agents/prod", "prod")
	f.Add("", "//x/-/cluster_agents/a", "a")
	f.Fuzz(func(t *testing.T, base, webPath, name string) {
		c, err := NewClient("https://gitlab.example.com"+base, Auth{}, nil, httpsafe.Policy{})
		if err != nil {
			return
		}
		p := c.projectOfWebPath(webPath, name)
		if p == "" {
			return
		}
		escaped := strings.TrimRight(c.baseURL.Path, "/") + "/" + p + "/-/cluster_agents/" + name
		if unescaped, err := url.PathUnescape(webPath); err != nil || unescaped != escaped || strings.Contains(p, "/-/") || strings.HasPrefix(p, "/") {
			t.Fatalf("base %q, web path %q, name %q: project %q", base, webPath, name, p)
		}
	})
}
