package testkas

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The tests of this file are the conformance tests of GitLab's REST side
// that docs/conformance.md cites. Each case is what GitLab's code answers.

const (
	readAPIPAT   = "glpat-readAPI"
	apiPAT       = "glpat-api"
	k8sProxyPAT  = "glpat-k8sProxyOnly"
	expiredPAT   = "glpat-expired"
	revokedPAT   = "glpat-revoked"
	reporterPAT  = "glpat-reporter"
	outsiderPAT  = "glpat-outsider"
	rotatablePAT = "glpat-rotatable"
	jobTok       = "glcbt-64_runningJob"
	plainJobTok  = "glcbt-64_plainJob"
	finishedTok  = "glcbt-64_finishedJob"
	blockedTok   = "glcbt-64_blockedUser"
)

func gitlabConfig() Config {
	return Config{
		Agents: []Agent{
			{ID: 1, Name: "own", ConfigProjectID: 150, ConfigProjectPath: "group1/group1-1/project1", AccessAs: AccessAs{Implicit: true}},
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", DefaultNamespace: "apps", AccessAs: AccessAs{CIJob: true}},
			{ID: 9012, Name: "static", ConfigProjectID: 77, ConfigProjectPath: "group/agents", AccessAs: AccessAs{Impersonate: &Identity{
				Username: "deployer", UID: "u-1", Groups: []string{"deployers"}, Extra: map[string][]string{"team": {"ops"}}}}},
		},
		Jobs: []Job{
			{Token: jobTok, ID: 4242, PipelineID: 77, ProjectID: 150, ProjectPath: "group1/group1-1/project1", GroupIDs: []int64{25, 23},
				UserID: 5, Username: "alice", Environment: &Environment{Slug: "prod", Tier: "production"}, AllowedAgents: []int64{1234, 1, 9012}},
			{Token: plainJobTok, ID: 4243, PipelineID: 78, ProjectID: 151, UserID: 5, Username: "alice", Role: "maintainer", AllowedAgents: []int64{}},
			{Token: finishedTok, ID: 4244, ProjectID: 150, Username: "alice", Finished: true},
			{Token: blockedTok, ID: 4245, ProjectID: 150, Username: "mallory", UserBlocked: true},
		},
		PATs: []PAT{
			{Token: readAPIPAT, ID: 1, Name: "read", UserID: 5, Username: "alice", Scopes: []string{"read_api"}},
			{Token: apiPAT, ID: 2, Name: "api", UserID: 5, Username: "alice", Scopes: []string{"api"}},
			{Token: k8sProxyPAT, ID: 3, Name: "kubectl", UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2099-01-31"},
			{Token: expiredPAT, ID: 4, Name: "old", UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2020-01-01"},
			{Token: revokedPAT, ID: 5, Name: "leaked", UserID: 5, Username: "alice", Scopes: []string{"api"}, Revoked: true},
			{Token: reporterPAT, ID: 6, Name: "reporter", UserID: 6, Username: "rita", Scopes: []string{"read_api"}, Role: "reporter"},
			{Token: outsiderPAT, ID: 7, Name: "outsider", UserID: 7, Username: "otto", Scopes: []string{"read_api"}, Role: NoAccess},
			{Token: rotatablePAT, ID: 8, Name: "rotating", UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy", "self_rotate"}, ExpiresAt: "2099-01-31"},
		},
	}
}

func TestMetadata(t *testing.T) {
	s := Start(t, gitlabConfig())
	host := strings.TrimPrefix(s.URL, "https://")
	current := `{"version":"17.7.0","revision":"0123456789a","kas":{"enabled":true,"externalUrl":"wss://` + host + `/-/kubernetes-agent/",` +
		`"externalK8sProxyUrl":"https://` + host + `/-/kubernetes-agent/k8s-proxy/","version":"17.7.0"},"enterprise":false}`
	json := map[string]string{"Content-Type": "application/json", "WWW-Authenticate": ""}
	for _, x := range []exchange{
		{name: "read_api PAT", url: "/api/v4/metadata", header: privateToken(readAPIPAT), status: 200, headers: json, exact: current},
		{name: "the /version alias", url: "/api/v4/version", header: privateToken(readAPIPAT), status: 200, exact: current},
		{name: "Bearer", url: "/api/v4/metadata", header: bearer(apiPAT), status: 200, exact: current},
		{name: "private_token param", url: "/api/v4/metadata?private_token=" + readAPIPAT, status: 200, exact: current},
		{name: "job token", url: "/api/v4/metadata", header: jobTokenHeader(jobTok), status: 401, headers: json, exact: body401},
		{name: "job token as PRIVATE-TOKEN", url: "/api/v4/metadata", header: privateToken(jobTok), status: 401, exact: body401},
		{name: "job token as Bearer", url: "/api/v4/metadata", header: bearer(jobTok), status: 401, exact: body401},
		{name: "k8s_proxy only", url: "/api/v4/metadata", header: privateToken(k8sProxyPAT), status: 403, headers: json,
			exact: scopeBody("read_user ai_features api read_api")},
		{name: "expired (before the scope check)", url: "/api/v4/metadata", header: privateToken(expiredPAT), status: 401,
			headers: map[string]string{"WWW-Authenticate": expiredWWWAuth}, exact: expiredBody},
		{name: "revoked", url: "/api/v4/metadata", header: privateToken(revokedPAT), status: 401,
			headers: map[string]string{"WWW-Authenticate": revokedWWWAuth}, exact: revokedBody},
		{name: "unknown token", url: "/api/v4/metadata", header: privateToken("glpat-nope"), status: 401, exact: body401},
		{name: "no token", url: "/api/v4/metadata", status: 401, exact: body401},
		{name: "unknown route", url: "/api/v4/nope", header: privateToken(readAPIPAT), status: 404, exact: `{"error":"404 Not Found"}`},
	} {
		x.check(t, s, s.URL)
	}

	legacy := Start(t, Config{Metadata: MetadataLegacy, PATs: gitlabConfig().PATs})
	lhost := strings.TrimPrefix(legacy.URL, "https://")
	exchange{name: "before 17.6: no externalK8sProxyUrl", url: "/api/v4/metadata", header: privateToken(readAPIPAT), status: 200,
		exact: `{"version":"17.5.0","revision":"0123456789a","kas":{"enabled":true,"externalUrl":"wss://` + lhost + `/-/kubernetes-agent/","version":"17.5.0"},"enterprise":false}`}.
		check(t, legacy, legacy.URL)

	disabled := Start(t, Config{Metadata: MetadataKASDisabled, PATs: gitlabConfig().PATs})
	exchange{name: "KAS disabled", url: "/api/v4/metadata", header: privateToken(readAPIPAT), status: 200,
		exact: `{"version":"17.7.0","revision":"0123456789a","kas":{"enabled":false,"externalUrl":null,"externalK8sProxyUrl":null,"version":null},"enterprise":false}`}.
		check(t, disabled, disabled.URL)

	helm := Start(t, Config{KASOwnHost: true, PATs: gitlabConfig().PATs})
	khost := strings.TrimPrefix(helm.KASURL, "https://")
	if helm.KASURL == helm.URL {
		t.Fatalf("KAS shares GitLab's origin %s", helm.URL)
	}
	exchange{name: "KAS on its own host (Helm): GitLab's derivation", url: "/api/v4/metadata", header: privateToken(readAPIPAT), status: 200,
		exact: `{"version":"17.7.0","revision":"0123456789a","kas":{"enabled":true,"externalUrl":"wss://` + khost + `",` +
			`"externalK8sProxyUrl":"https://` + khost + `/k8s-proxy","version":"17.7.0"},"enterprise":false}`}.check(t, helm, helm.URL)
}

func TestAllowedAgents(t *testing.T) {
	s := Start(t, gitlabConfig())
	project := func(id int, path, name string) string {
		return fmt.Sprintf(`{"id":%d,"description":null,"name":%q,"name_with_namespace":%q,"path":%q,"path_with_namespace":%q,"created_at":"2026-01-01T00:00:00.000Z"}`,
			id, name, strings.ReplaceAll(path, "/", " / "), name, path)
	}
	full := `{"allowed_agents":[` +
		`{"id":1234,"config_project":` + project(77, "group/agents", "agents") + `,"configuration":{"default_namespace":"apps","access_as":{"ci_job":{}}}},` +
		`{"id":1,"config_project":` + project(150, "group1/group1-1/project1", "project1") + `,"configuration":{}},` +
		`{"id":9012,"config_project":` + project(77, "group/agents", "agents") + `,"configuration":{"access_as":{"impersonate":{"username":"deployer","uid":"u-1","groups":["deployers"],"extra":[{"key":"team","val":["ops"]}]}}}}],` +
		`"job":{"id":4242},"pipeline":{"id":77},"project":{"id":150,"groups":[{"id":25},{"id":23}]},` +
		`"user":{"id":5,"username":"alice","roles_in_project":["guest","planner","reporter","developer"]},` +
		`"environment":{"tier":"production","slug":"prod"}}`
	plain := `{"allowed_agents":[],"job":{"id":4243},"pipeline":{"id":78},"project":{"id":151,"groups":[]},` +
		`"user":{"id":5,"username":"alice","roles_in_project":["guest","planner","reporter","developer","maintainer"]}}`
	for _, x := range []exchange{
		{name: "JOB-TOKEN", url: "/api/v4/job/allowed_agents", header: jobTokenHeader(jobTok), status: 200,
			headers: map[string]string{"Content-Type": "application/json"}, exact: full},
		{name: "job_token param", url: "/api/v4/job/allowed_agents?job_token=" + jobTok, status: 200, exact: full},
		{name: "Bearer job token", url: "/api/v4/job/allowed_agents", header: bearer(jobTok), status: 200, exact: full},
		{name: "no environment: the key is left out; no groups: []", url: "/api/v4/job/allowed_agents", header: jobTokenHeader(plainJobTok), status: 200, exact: plain},
		{name: "finished job", url: "/api/v4/job/allowed_agents", header: jobTokenHeader(finishedTok), status: 401, exact: body401},
		{name: "blocked user", url: "/api/v4/job/allowed_agents", header: jobTokenHeader(blockedTok), status: 403,
			exact: `{"message":"403 Forbidden - Your account has been blocked."}`},
		{name: "unknown job token", url: "/api/v4/job/allowed_agents", header: jobTokenHeader("glcbt-64_nope"), status: 401, exact: body401},
		{name: "a PAT is no job", url: "/api/v4/job/allowed_agents", header: privateToken(apiPAT), status: 404, exact: `{"message":"404 Job Not Found"}`},
		{name: "a k8s_proxy PAT", url: "/api/v4/job/allowed_agents", header: privateToken(k8sProxyPAT), status: 403, exact: scopeBody("api read_api")},
	} {
		x.check(t, s, s.URL)
	}
}

func TestClusterAgentsPagination(t *testing.T) {
	cfg := gitlabConfig()
	// 45 agents whose IDs run against their names: GitLab orders by name.
	for i := range 45 {
		cfg.Agents = append(cfg.Agents, Agent{ID: int64(2000 - i), Name: fmt.Sprintf("agent-%02d", i), ConfigProjectID: 88, ConfigProjectPath: "group/many"})
	}
	s := Start(t, cfg)
	link := func(page int, rels ...string) string {
		var parts []string
		for i := 0; i < len(rels); i += 2 {
			parts = append(parts, "<"+s.URL+"/api/v4/projects/group%2Fmany/cluster_agents?id=group%2Fmany&page="+rels[i]+"&per_page="+itoa(int64(page))+`>; rel="`+rels[i+1]+`"`)
		}
		return strings.Join(parts, ", ")
	}
	names := func(body string) []string {
		var list []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.Name)
		}
		return out
	}
	pages := []struct {
		exchange
		first, last string
		count       int
	}{
		{exchange{name: "default page", url: "/api/v4/projects/group%2Fmany/cluster_agents", status: 200, headers: map[string]string{
			"X-Page": "1", "X-Per-Page": "20", "X-Next-Page": "2", "X-Prev-Page": "", "X-Total": "45", "X-Total-Pages": "3",
			"Link": link(20, "2", "next", "1", "first", "3", "last")}}, "agent-00", "agent-19", 20},
		{exchange{name: "last page", url: "/api/v4/projects/group%2Fmany/cluster_agents?page=3", status: 200, headers: map[string]string{
			"X-Page": "3", "X-Next-Page": "", "X-Prev-Page": "2", "Link": link(20, "2", "prev", "1", "first", "3", "last")}}, "agent-40", "agent-44", 5},
		{exchange{name: "per_page above 100 is clamped", url: "/api/v4/projects/88/cluster_agents?per_page=500", status: 200, headers: map[string]string{
			"X-Per-Page": "100", "X-Next-Page": "", "X-Total-Pages": "1"}}, "agent-00", "agent-44", 45},
		{exchange{name: "past the end", url: "/api/v4/projects/group%2Fmany/cluster_agents?page=9&per_page=10", status: 200, headers: map[string]string{
			"X-Page": "9", "X-Next-Page": "", "X-Prev-Page": "", "X-Total": "45", "X-Total-Pages": "5"}}, "", "", 0},
	}
	for _, p := range pages {
		p.header = privateToken(readAPIPAT)
		_, body := p.check(t, s, s.URL)
		got := names(body)
		if len(got) != p.count || p.count > 0 && (got[0] != p.first || got[len(got)-1] != p.last) {
			t.Errorf("%s: names %v", p.name, got)
		}
	}
	// Every page, by X-Next-Page, gives every agent once.
	seen := map[string]bool{}
	for page, n := "1", 0; page != "" && n < 10; n++ {
		resp, body := exchange{name: "page " + page, url: "/api/v4/projects/group%2Fmany/cluster_agents?per_page=7&page=" + page,
			header: privateToken(readAPIPAT), status: 200}.check(t, s, s.URL)
		for _, name := range names(body) {
			seen[name] = true
		}
		page = resp.Header.Get("X-Next-Page")
	}
	if len(seen) != 45 {
		t.Errorf("paging by X-Next-Page saw %d agents, want 45", len(seen))
	}

	agent := `{"id":1234,"name":"prod","config_project":{"id":77,"description":null,"name":"agents","name_with_namespace":"group / agents",` +
		`"path":"agents","path_with_namespace":"group/agents","created_at":"2026-01-01T00:00:00.000Z"},"created_at":"2026-01-01T00:00:00.000Z","created_by_user_id":1}`
	for _, x := range []exchange{
		{name: "one agent", url: "/api/v4/projects/group%2Fagents/cluster_agents/1234", header: privateToken(readAPIPAT), status: 200, exact: agent},
		{name: "list by ID, ordered by name", url: "/api/v4/projects/77/cluster_agents", header: privateToken(readAPIPAT), status: 200,
			exact: "[" + agent + `,{"id":9012,"name":"static",` + agent[strings.Index(agent, `"config_project"`):] + "]"},
		{name: "a project with no agent", url: "/api/v4/projects/group1%2Fgroup1-1%2Fproject1/cluster_agents?per_page=5", header: privateToken(readAPIPAT), status: 200,
			headers: map[string]string{"X-Total": "1", "X-Total-Pages": "1"}},
		{name: "no agents at all", url: "/api/v4/projects/151/cluster_agents", header: privateToken(readAPIPAT), status: 404, exact: `{"message":"404 Project Not Found"}`},
		{name: "agent of another project", url: "/api/v4/projects/group%2Fagents/cluster_agents/1", header: privateToken(readAPIPAT), status: 404, exact: `{"message":"404 Not found"}`},
		{name: "agent_id not a number", url: "/api/v4/projects/group%2Fagents/cluster_agents/x", header: privateToken(readAPIPAT), status: 400, exact: `{"error":"agent_id is invalid"}`},
		{name: "unknown project", url: "/api/v4/projects/nope%2Fnope/cluster_agents", header: privateToken(readAPIPAT), status: 404, exact: `{"message":"404 Project Not Found"}`},
		{name: "reporter", url: "/api/v4/projects/group%2Fagents/cluster_agents", header: privateToken(reporterPAT), status: 404, exact: `{"message":"404 ClusterAgents Not Found"}`},
		{name: "reporter, one agent", url: "/api/v4/projects/group%2Fagents/cluster_agents/1234", header: privateToken(reporterPAT), status: 404, exact: `{"message":"404 Not found"}`},
		{name: "not a member of a private project", url: "/api/v4/projects/group%2Fagents/cluster_agents", header: privateToken(outsiderPAT), status: 404, exact: `{"message":"404 Project Not Found"}`},
		{name: "k8s_proxy only", url: "/api/v4/projects/group%2Fagents/cluster_agents", header: privateToken(k8sProxyPAT), status: 403, exact: scopeBody("api read_api")},
		{name: "job token", url: "/api/v4/projects/group%2Fagents/cluster_agents", header: jobTokenHeader(jobTok), status: 401, exact: body401},
		{name: "per_page=0", url: "/api/v4/projects/group%2Fagents/cluster_agents?per_page=0", header: privateToken(readAPIPAT), status: 400, exact: `{"error":"per_page has a value not allowed"}`},
		{name: "page not a number", url: "/api/v4/projects/group%2Fagents/cluster_agents?page=x", header: privateToken(readAPIPAT), status: 400, exact: `{"error":"page is invalid"}`},
	} {
		x.check(t, s, s.URL)
	}
}

func TestPersonalAccessTokens(t *testing.T) {
	s := Start(t, gitlabConfig())
	for _, x := range []exchange{
		{name: "self with any scope", url: "/api/v4/personal_access_tokens/self", header: privateToken(k8sProxyPAT), status: 200,
			exact: `{"id":3,"name":"kubectl","revoked":false,"created_at":"2026-01-01T00:00:00.000Z","description":null,"scopes":["k8s_proxy"],` +
				`"user_id":5,"last_used_at":null,"active":true,"expires_at":"2099-01-31"}`},
		{name: "self, Bearer", url: "/api/v4/personal_access_tokens/self", header: bearer(k8sProxyPAT), status: 200, has: []string{`"id":3`}},
		{name: "self, expired", url: "/api/v4/personal_access_tokens/self", header: privateToken(expiredPAT), status: 401,
			headers: map[string]string{"WWW-Authenticate": expiredWWWAuth}, exact: expiredBody},
		{name: "self, revoked", url: "/api/v4/personal_access_tokens/self", header: privateToken(revokedPAT), status: 401, exact: revokedBody},
		{name: "rotate without self_rotate or api", method: "POST", url: "/api/v4/personal_access_tokens/self/rotate", header: privateToken(k8sProxyPAT),
			status: 403, exact: scopeBody("api self_rotate api read_api")},
	} {
		x.check(t, s, s.URL)
	}

	// Rotation: a new token for a week (or expires_at); the old one revoked.
	var rotated struct {
		ID        int64  `json:"id"`
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
		Scopes    []string
	}
	_, body := exchange{name: "rotate with Bearer", method: "POST", url: "/api/v4/personal_access_tokens/self/rotate", header: bearer(rotatablePAT), status: 200}.check(t, s, s.URL)
	json.Unmarshal([]byte(body), &rotated)
	if week := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly); rotated.Token == "" || rotated.ExpiresAt != week || strings.Join(rotated.Scopes, " ") != "k8s_proxy self_rotate" {
		t.Errorf("rotated: %s", body)
	}
	exchange{name: "the old token is revoked", url: "/api/v4/personal_access_tokens/self", header: privateToken(rotatablePAT), status: 401, exact: revokedBody}.check(t, s, s.URL)
	_, body = exchange{name: "rotate with expires_at", method: "POST", url: "/api/v4/personal_access_tokens/self/rotate?expires_at=2099-12-31",
		header: privateToken(rotated.Token), status: 200, has: []string{`"expires_at":"2099-12-31"`}}.check(t, s, s.URL)
	var newest struct{ Token string }
	json.Unmarshal([]byte(body), &newest)
	// Replaying a rotated-away token revokes its whole family.
	exchange{name: "replay of a revoked token", method: "POST", url: "/api/v4/personal_access_tokens/self/rotate", header: privateToken(rotated.Token), status: 401, exact: revokedBody}.check(t, s, s.URL)
	exchange{name: "the newest token is revoked too", url: "/api/v4/personal_access_tokens/self", header: privateToken(newest.Token), status: 401, exact: revokedBody}.check(t, s, s.URL)
	if s.Rotations() != 2 {
		t.Errorf("%d rotations", s.Rotations())
	}
}
