package testkas

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests of this file are the conformance tests of KAS's k8s-proxy
// that docs/conformance.md cites: KAS 16.5,
// internal/module/kubernetes_api/server/proxy.go and proxy_test.go.

func kasConfig() Config {
	cfg := gitlabConfig()
	cfg.Agents = append(cfg.Agents,
		Agent{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra"},
		Agent{ID: 3333, Name: "down", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Disconnected: true},
		Agent{ID: 4444, Name: "users", ConfigProjectID: 79, ConfigProjectPath: "group/ops",
			UserAccess: &UserAccess{Projects: []int64{79}, Groups: []int64{23}}},
		Agent{ID: 5555, Name: "as-agent", ConfigProjectID: 79, ConfigProjectPath: "group/ops", UserAccess: &UserAccess{AsAgent: true, Projects: []int64{79}}},
	)
	cfg.Jobs[0].AllowedAgents = append(cfg.Jobs[0].AllowedAgents, 5678, 3333)
	cfg.PATs = append(cfg.PATs,
		PAT{Token: "glpat-user", ID: 20, UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}, Agents: []int64{4444, 5555, 3333}},
		PAT{Token: "glpat-userExpired", ID: 21, UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2020-01-01", Agents: []int64{4444}},
		PAT{Token: "glpat-userRevoked", ID: 22, UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}, Revoked: true, Agents: []int64{4444}},
		PAT{Token: "glpat-userAPIOnly", ID: 23, UserID: 5, Username: "alice", Scopes: []string{"api"}, Agents: []int64{4444}},
		PAT{Token: "glpat-userReporter", ID: 24, UserID: 6, Username: "rita", Scopes: []string{"k8s_proxy"}, Role: "reporter", Agents: []int64{4444}},
		PAT{Token: "glpat-userMaintainer", ID: 25, UserID: 8, Username: "max", Scopes: []string{"k8s_proxy"}, Role: "maintainer", Agents: []int64{4444}},
	)
	cfg.TunnelFindTimeout = 200 * time.Millisecond
	cfg.GitLabRetryWait = time.Millisecond
	return cfg
}

var (
	unauthorizedHeaders = map[string]string{"Gitlab-Unauthorized": "true", "Server": kasServerName, "Content-Type": "application/json", "Via": ""}
	kasHeaders          = map[string]string{"Gitlab-Unauthorized": "", "Server": kasServerName, "Content-Type": "application/json", "Via": ""}
	relayedHeaders      = map[string]string{"Server": "", "Via": agentkRespVia + ", " + kasVia}
)

func TestKASAuthorizationHeader(t *testing.T) {
	s := Start(t, kasConfig())
	unauthorized := func(name string, header http.Header, message string) exchange {
		return exchange{name: name, url: "version", header: header, status: 401, headers: unauthorizedHeaders,
			exact: kasStatusBody(401, "Unauthorized", "Unauthorized: "+message)}
	}
	for _, x := range []exchange{
		unauthorized("no credentials", nil, "no valid credentials provided"),
		unauthorized("two headers", http.Header{"Authorization": {"Bearer ci:1:a", "Bearer ci:1:b"}}, "Authorization header: expecting a single header, got 2"),
		unauthorized("not Bearer", http.Header{"Authorization": {"Basic Y2k6MTp4"}}, "Authorization header: expecting Bearer token"),
		unauthorized("lower-case bearer", http.Header{"Authorization": {"bearer ci:1:x"}}, "Authorization header: expecting Bearer token"),
		unauthorized("no colon", bearer("citoken"), "Authorization header: invalid value"),
		unauthorized("the type before the agent ID", bearer("job:asdf:x"), "Authorization header: unknown token type"),
		unauthorized("no token part", bearer("ci:1234"), "Authorization header: invalid value"),
		unauthorized("agent ID not a number", bearer("ci:asdf:x"), `Authorization header: failed to parse: strconv.ParseInt: parsing "asdf": invalid syntax`),
		unauthorized("empty token", bearer("pat:1234:"), "Authorization header: empty token"),
		unauthorized("cookie without agent ID", http.Header{"Cookie": {"_gitlab_kas=abc"}},
			`exactly one agent id must be provided either in the "Gitlab-Agent-Id" header or "gitlab-agent-id" query parameter`),
		{name: "a session cookie testkas cannot decrypt (GitLab: 400)", url: "version?gitlab-agent-id=1234&gitlab-csrf-token=x",
			header: http.Header{"Cookie": {"_gitlab_kas=abc"}}, status: 500, headers: kasHeaders,
			exact: kasStatusBody(500, "InternalError", "Failed to authorize user session")},
		{name: "leading zeros and + in the agent ID", url: "version", header: bearer("ci:+0001234:" + jobTok), status: 200, headers: relayedHeaders},
		{name: "the token may hold colons", url: "version", header: bearer("ci:1234:" + jobTok + ":x"), status: 401, headers: unauthorizedHeaders,
			exact: kasStatusBody(401, "Unauthorized", "Unauthorized: CI job token: HTTP status code: 401 for path /api/v4/job/allowed_agents")},
	} {
		x.check(t, s, s.K8sProxyURL)
	}
}

func TestKASCIJob(t *testing.T) {
	cfg := kasConfig()
	cfg.Jobs = append(cfg.Jobs, Job{Token: "glcbt-64_noTier", ID: 5, ProjectID: 150, Username: "alice", Environment: &Environment{Slug: "x"}, AllowedAgents: []int64{1234}})
	s := Start(t, cfg)
	allowed := func(name, token string, status int) exchange {
		return exchange{name: name, url: "version", header: bearer(token), status: status, headers: kasHeaders}
	}
	for _, x := range []exchange{
		{name: "allowed", url: "version", header: bearer("ci:5678:" + jobTok), status: 200, headers: relayedHeaders, has: []string{`"gitVersion":"v1.33.0-testkas"`}},
		func() exchange {
			x := allowed("an agent the job may not use", "ci:4444:"+jobTok, 403)
			x.exact = kasStatusBody(403, "Forbidden", "Forbidden: agentId is not allowed")
			return x
		}(),
		func() exchange {
			x := allowed("an agent that does not exist", "ci:99999:"+jobTok, 403)
			x.exact = kasStatusBody(403, "Forbidden", "Forbidden: agentId is not allowed")
			return x
		}(),
		{name: "unknown job token", url: "version", header: bearer("ci:1234:glcbt-64_nope"), status: 401, headers: unauthorizedHeaders,
			exact: kasStatusBody(401, "Unauthorized", "Unauthorized: CI job token: HTTP status code: 401 for path /api/v4/job/allowed_agents")},
		{name: "finished job", url: "version", header: bearer("ci:1234:" + finishedTok), status: 401, headers: unauthorizedHeaders,
			exact: kasStatusBody(401, "Unauthorized", "Unauthorized: CI job token: HTTP status code: 401 for path /api/v4/job/allowed_agents")},
		func() exchange {
			x := allowed("blocked user: GitLab's 403 relayed", "ci:1234:"+blockedTok, 403)
			x.exact = kasStatusBody(403, "Forbidden", "Forbidden: CI job token: HTTP status code: 403 for path /api/v4/job/allowed_agents")
			return x
		}(),
		func() exchange {
			x := allowed("an answer KAS cannot validate", "ci:1234:glcbt-64_noTier", 500)
			x.exact = kasStatusBody(500, "InternalError", "Failed to get allowed agents for CI job token: ValidateAll: invalid AllowedAgentsForJob.Environment: "+
				"embedded message failed validation | caused by: invalid Environment.Tier: value length must be at least 1 bytes")
			return x
		}(),
	} {
		x.check(t, s, s.K8sProxyURL)
	}

	// GitLab's other answers to KAS, relayed (proxy_test.go TestProxy_AllowedAgentsError).
	s.ExpireAuthCache()
	s.FailForKAS(allowedAgentsPath, 404)
	x := allowed("GitLab's 404", "ci:1234:"+jobTok, 404)
	x.exact = kasStatusBody(404, "NotFound", "Not found: agents for CI job token: HTTP status code: 404 for path /api/v4/job/allowed_agents")
	x.check(t, s, s.K8sProxyURL)

	s.ExpireAuthCache()
	s.FailForKAS(allowedAgentsPath, 502, 502, 502, 502, 502) // one try and four retries
	x = allowed("GitLab's 5xx after KAS's retries", "ci:1234:"+jobTok, 500)
	x.exact = kasStatusBody(500, "InternalError", "Failed to get allowed agents for CI job token: HTTP status code: 502 for path /api/v4/job/allowed_agents")
	x.check(t, s, s.K8sProxyURL)
	s.FailForKAS(allowedAgentsPath, 503, 429, 500, 502) // retried, then the fifth try succeeds
	exchange{name: "5xx retried until GitLab answers", url: "version", header: bearer("ci:1234:" + jobTok), status: 200, headers: relayedHeaders}.check(t, s, s.K8sProxyURL)

	// With tracing on, a trace ID ends the message.
	s.SetConfig(func(c *Config) { c.Tracing = true })
	_, body := exchange{name: "trace ID", url: "version", header: bearer("ci:4444:" + jobTok), status: 403}.check(t, s, s.K8sProxyURL)
	if !regexp.MustCompile(`"message":"GitLab Agent Server: Forbidden: agentId is not allowed\. Trace ID: [0-9a-f]{32}"`).MatchString(body) {
		t.Errorf("no trace ID: %s", body)
	}
}

// whoami asks the built-in Kubernetes API who the request reaches it as.
func whoami(t *testing.T, s *Server, token string, header http.Header) (Identity, int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.K8sProxyURL+"apis/authentication.k8s.io/v1/selfsubjectreviews", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+token)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status  struct{ UserInfo Identity } `json:"status"`
		Message string
	}
	var raw json.RawMessage
	json.NewDecoder(resp.Body).Decode(&raw)
	json.Unmarshal(raw, &out)
	return out.Status.UserInfo, resp.StatusCode, out.Message
}

func TestKASImpersonation(t *testing.T) {
	s := Start(t, kasConfig())
	roles := []string{"guest", "planner", "reporter", "developer"}
	cases := []struct {
		name, token string
		header      http.Header
		want        Identity
	}{
		{name: "ci_job", token: "ci:1234:" + jobTok, want: Identity{Username: "gitlab:ci_job:4242",
			Groups: []string{"gitlab:ci_job", "gitlab:group:25", "gitlab:group_env_tier:25:production", "gitlab:group:23", "gitlab:group_env_tier:23:production",
				"gitlab:project:150", "gitlab:project_env:150:prod", "gitlab:project_env_tier:150:production"},
			Extra: map[string][]string{"agent.gitlab.com/id": {"1234"}, "agent.gitlab.com/config_project_id": {"77"}, "agent.gitlab.com/project_id": {"150"},
				"agent.gitlab.com/ci_pipeline_id": {"77"}, "agent.gitlab.com/ci_job_id": {"4242"}, "agent.gitlab.com/username": {"alice"},
				"agent.gitlab.com/environment_slug": {"prod"}, "agent.gitlab.com/environment_tier": {"production"}}}},
		{name: "impersonate", token: "ci:9012:" + jobTok, want: Identity{Username: "deployer", UID: "u-1", Groups: []string{"deployers"},
			Extra: map[string][]string{"team": {"ops"}}}},
		{name: "the implicit authorization: {} is access_as agent", token: "ci:1:" + jobTok, want: agentIdentity},
		{name: "access_as agent", token: "ci:5678:" + jobTok, want: agentIdentity},
		{name: "access_as agent passes --as on to the agent's account", token: "ci:5678:" + jobTok,
			header: http.Header{"Impersonate-User": {"jane"}, "Impersonate-Group": {"devs"}}, want: Identity{Username: "jane", Groups: []string{"devs"}}},
		{name: "only Impersonate-User/-Uid/-Group/-Extra-* count", token: "ci:1234:" + jobTok, header: http.Header{"Impersonate-Foo": {"x"}},
			want: Identity{Username: "gitlab:ci_job:4242"}},
		{name: "user_access as user", token: "pat:4444:glpat-user", want: Identity{Username: "gitlab:user:alice",
			Groups: append(append([]string{"gitlab:user"}, prefixed("gitlab:project_role:79:", roles)...), prefixed("gitlab:group_role:23:", roles)...),
			Extra: map[string][]string{"agent.gitlab.com/id": {"4444"}, "agent.gitlab.com/username": {"alice"},
				"agent.gitlab.com/access_type": {"personal_access_token"}, "agent.gitlab.com/config_project_id": {"79"}}}},
		{name: "user_access: roles up to the user's", token: "pat:4444:glpat-userMaintainer", want: Identity{Username: "gitlab:user:max",
			Groups: append(append([]string{"gitlab:user"}, prefixed("gitlab:project_role:79:", append(roles, "maintainer"))...), prefixed("gitlab:group_role:23:", append(roles, "maintainer"))...)}},
		{name: "user_access as agent", token: "pat:5555:glpat-user", want: agentIdentity},
		{name: "user_access as agent passes --as on", token: "pat:5555:glpat-user", header: http.Header{"Impersonate-User": {"jane"}}, want: Identity{Username: "jane"}},
	}
	for _, c := range cases {
		got, status, msg := whoami(t, s, c.token, c.header)
		if status != http.StatusCreated || got.Username != c.want.Username || c.want.Groups != nil && !slices.Equal(got.Groups, c.want.Groups) {
			t.Errorf("%s: %d %s %+v, want %+v", c.name, status, msg, got, c.want)
		}
		for k, v := range c.want.Extra {
			if !slices.Equal(got.Extra[k], v) {
				t.Errorf("%s: extra %s = %v, want %v", c.name, k, got.Extra[k], v)
			}
		}
	}

	// Client impersonation through an agent that impersonates: agentk
	// refuses it, KAS's pipe makes it a 502 (no reason).
	nested := kasStatusBody(502, "", "HTTP->gRPC: failed to read gRPC response: rpc error: code = Unavailable desc = gRPC -> HTTP: "+
		"nested impersonation is not supported - agent is already configured to impersonate an identity")
	for _, x := range []exchange{
		{name: "--as with ci_job", url: "version", header: http.Header{"Authorization": {"Bearer ci:1234:" + jobTok}, "Impersonate-User": {"jane"}}, status: 502, headers: kasHeaders, exact: nested},
		{name: "--as-group with impersonate", url: "version", header: http.Header{"Authorization": {"Bearer ci:9012:" + jobTok}, "Impersonate-Group": {"g"}}, status: 502, exact: nested},
		{name: "extra with user_access as user", url: "version", header: http.Header{"Authorization": {"Bearer pat:4444:glpat-user"}, "Impersonate-Extra-Scopes": {"x"}}, status: 502, exact: nested},
		{name: "--as-uid with ci_job", url: "version", header: http.Header{"Authorization": {"Bearer ci:1234:" + jobTok}, "Impersonate-Uid": {"1"}}, status: 502, exact: nested},
	} {
		x.check(t, s, s.K8sProxyURL)
	}
}

func prefixed(prefix string, list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, prefix+s)
	}
	return out
}

func TestKASPersonalAccessTokenFailures(t *testing.T) {
	s := Start(t, kasConfig())
	// GitLab's 401, 403 and 404 all become KAS's bare 401, so agent IDs
	// cannot be probed (proxy_test.go TestProxy_AuthorizeProxyUserError).
	unauthorized := kasStatusBody(401, "Unauthorized", "Unauthorized")
	for _, x := range []exchange{
		{name: "expired", url: "version", header: bearer("pat:4444:glpat-userExpired"), status: 401, headers: unauthorizedHeaders, exact: unauthorized},
		{name: "revoked", url: "version", header: bearer("pat:4444:glpat-userRevoked"), status: 401, exact: unauthorized},
		{name: "api but no k8s_proxy scope", url: "version", header: bearer("pat:4444:glpat-userAPIOnly"), status: 401, exact: unauthorized},
		{name: "user_access does not admit the user", url: "version", header: bearer("pat:1234:glpat-user"), status: 401, exact: unauthorized},
		{name: "role below Developer", url: "version", header: bearer("pat:4444:glpat-userReporter"), status: 401, exact: unauthorized},
		{name: "unknown agent", url: "version", header: bearer("pat:99999:glpat-user"), status: 401, exact: unauthorized},
		{name: "unknown token: GitLab answers 400, KAS 500", url: "version", header: bearer("pat:4444:glpat-nope"), status: 500, headers: kasHeaders,
			exact: kasStatusBody(500, "InternalError", "Failed to authorize user session")},
		{name: "a job token as a PAT", url: "version", header: bearer("pat:4444:" + jobTok), status: 500},
		{name: "a PAT as a job token", url: "version", header: bearer("ci:4444:glpat-user"), status: 401, headers: unauthorizedHeaders,
			exact: kasStatusBody(401, "Unauthorized", "Unauthorized: CI job token: HTTP status code: 401 for path /api/v4/job/allowed_agents")},
	} {
		x.check(t, s, s.K8sProxyURL)
	}
}

func TestKASAgentNotConnected(t *testing.T) {
	cfg := kasConfig()
	s := Start(t, cfg)
	notFound := kasStatusBody(502, "", "HTTP->gRPC: failed to read gRPC response: rpc error: code = DeadlineExceeded desc = "+
		"Agent connection not found. Is agent up to date and connected?")
	exchange{name: "ci token", url: "api/v1/namespaces/default/pods", header: bearer("ci:3333:" + jobTok), status: 502, headers: kasHeaders, exact: notFound}.check(t, s, s.K8sProxyURL)
	exchange{name: "PAT", url: "version", header: bearer("pat:3333:glpat-user"), status: 502, exact: notFound}.check(t, s, s.K8sProxyURL)
	exchange{name: "nested impersonation needs a connected agent first", url: "version",
		header: http.Header{"Authorization": {"Bearer ci:3333:" + jobTok}, "Impersonate-User": {"x"}}, status: 502, exact: notFound}.check(t, s, s.K8sProxyURL)

	// KAS authorizes before it looks for the tunnel: a bad token fails at
	// once, a good one is held (here past the client's patience).
	s.SetConfig(func(c *Config) { c.TunnelFindTimeout = time.Hour })
	exchange{name: "bad token, no wait", url: "version", header: bearer("ci:3333:glcbt-64_nope"), status: 401}.check(t, s, s.K8sProxyURL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.K8sProxyURL+"version", nil)
	req.Header.Set("Authorization", "Bearer ci:3333:"+jobTok)
	if resp, err := s.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("KAS answered a request for a disconnected agent before its timeout: %v %v", resp, err)
	}
}

func TestKASAuthorizationCache(t *testing.T) {
	s := Start(t, kasConfig())
	ok := exchange{name: "allowed", url: "version", header: bearer("ci:5678:" + jobTok), status: 200}
	ok.check(t, s, s.K8sProxyURL)
	s.SetConfig(func(c *Config) { c.Jobs[0].AllowedAgents = []int64{1234} })
	ok.name = "still allowed: KAS keeps GitLab's answer a minute"
	ok.check(t, s, s.K8sProxyURL)
	s.ExpireAuthCache()
	denied := exchange{name: "after the minute", url: "version", header: bearer("ci:5678:" + jobTok), status: 403}
	denied.check(t, s, s.K8sProxyURL)

	// A finished job's token keeps working while KAS remembers it.
	s.SetConfig(func(c *Config) { c.Jobs[0].Finished = true })
	exchange{name: "finished, but cached", url: "version", header: bearer("ci:1234:" + jobTok), status: 200}.check(t, s, s.K8sProxyURL)

	// GitLab's 401, 403 and 404 are kept 10 s; its 5xx not at all.
	s.ExpireAuthCache()
	exchange{name: "finished", url: "version", header: bearer("ci:1234:" + jobTok), status: 401}.check(t, s, s.K8sProxyURL)
	s.SetConfig(func(c *Config) { c.Jobs[0].Finished = false })
	exchange{name: "running again, the 401 still cached", url: "version", header: bearer("ci:1234:" + jobTok), status: 401}.check(t, s, s.K8sProxyURL)
	s.ExpireAuthCache()
	s.FailForKAS(allowedAgentsPath, 500, 500, 500, 500, 500)
	exchange{name: "GitLab down", url: "version", header: bearer("ci:1234:" + jobTok), status: 500}.check(t, s, s.K8sProxyURL)
	exchange{name: "GitLab back: 5xx was not cached", url: "version", header: bearer("ci:1234:" + jobTok), status: 200}.check(t, s, s.K8sProxyURL)

	// A revoked PAT works at KAS until the cache forgets it.
	exchange{name: "PAT", url: "version", header: bearer("pat:4444:glpat-user"), status: 200}.check(t, s, s.K8sProxyURL)
	s.SetConfig(func(c *Config) {
		for i := range c.PATs {
			if c.PATs[i].Token == "glpat-user" {
				c.PATs[i].Revoked = true
			}
		}
	})
	exchange{name: "revoked PAT, cached", url: "version", header: bearer("pat:4444:glpat-user"), status: 200}.check(t, s, s.K8sProxyURL)

	// A refusal is kept under half the token: a token that shares that
	// half is refused without asking GitLab (GitLab would accept it).
	const sameHalf = "glcbt-64_anotherJob"
	if len(sameHalf) != len(jobTok) || sameHalf[:len(jobTok)/2] != jobTok[:len(jobTok)/2] {
		t.Fatal("the tokens must share their first half")
	}
	s.SetConfig(func(c *Config) {
		c.Jobs = append(c.Jobs, Job{Token: sameHalf, ID: 4250, ProjectID: 150, Username: "alice", AllowedAgents: []int64{1234}})
		c.Jobs[0].Finished = true
	})
	s.ExpireAuthCache()
	exchange{name: "refused", url: "version", header: bearer("ci:1234:" + jobTok), status: 401}.check(t, s, s.K8sProxyURL)
	exchange{name: "same first half", url: "version", header: bearer("ci:1234:" + sameHalf), status: 401}.check(t, s, s.K8sProxyURL)
	s.ExpireAuthCache()
	exchange{name: "asked again", url: "version", header: bearer("ci:1234:" + sameHalf), status: 200}.check(t, s, s.K8sProxyURL)

	// The knobs: no cache at all.
	s.SetConfig(func(c *Config) { c.AuthCacheTTL = -1 })
	exchange{name: "revoked PAT, no cache", url: "version", header: bearer("pat:4444:glpat-user"), status: 401}.check(t, s, s.K8sProxyURL)
}

func TestKASForwardsWithoutGitLabCredentials(t *testing.T) {
	var got *http.Request
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Server", "kube-apiserver")
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(upstream.Close)
	cfg := kasConfig()
	cfg.Upstream = &Upstream{URL: upstream.URL, Transport: http.DefaultTransport}
	s := Start(t, cfg)
	x := exchange{name: "ci_job through a real upstream", url: "api/v1/pods?gitlab-agent-id=1&gitlab-csrf-token=x&limit=5", header: http.Header{
		"Authorization": {"Bearer ci:1234:" + jobTok}, "Cookie": {"a=b"}, "Gitlab-Agent-Id": {"1"}, "X-Csrf-Token": {"x"}},
		status: 200, headers: map[string]string{"Server": "kube-apiserver", "Via": "1.1 " + agentkName + ", " + kasVia}} // an HTTP/1.1 upstream
	x.check(t, s, s.K8sProxyURL)
	if got == nil {
		t.Fatal("nothing reached the upstream")
	}
	for _, h := range []string{"Authorization", "Cookie", "Gitlab-Agent-Id", "X-Csrf-Token"} {
		if v := got.Header.Get(h); v != "" {
			t.Errorf("%s reached the cluster: %q", h, v)
		}
	}
	if q := got.URL.RawQuery; q != "limit=5" || got.URL.Path != "/api/v1/pods" {
		t.Errorf("the cluster got %s?%s", got.URL.Path, q)
	}
	if via := got.Header.Values("Via"); !slices.Equal(via, []string{kasVia, agentkRequestV}) {
		t.Errorf("Via %q", via)
	}
	if got.Header.Get("Impersonate-User") != "gitlab:ci_job:4242" || got.Header.Get("Impersonate-Extra-Agent.gitlab.com%2fid") != "1234" {
		t.Errorf("impersonation headers: %v", got.Header)
	}
}

func TestKASOriginsAndLayouts(t *testing.T) {
	s := Start(t, kasConfig())
	for _, x := range []exchange{
		{name: "an Origin KAS does not allow", url: "version", header: http.Header{"Origin": {"https://evil.example"}, "Authorization": {"Bearer ci:5678:" + jobTok}}, status: 403, empty: true},
		{name: "GitLab's Origin", url: "version", header: http.Header{"Origin": {s.URL}, "Authorization": {"Bearer ci:5678:" + jobTok}}, status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": s.URL, "Access-Control-Allow-Credentials": "true"}},
		{name: "preflight", method: "OPTIONS", url: "version", header: http.Header{"Origin": {s.URL}}, status: 200,
			headers: map[string]string{"Access-Control-Max-Age": "86400", "Server": kasServerName}},
	} {
		x.check(t, s, s.K8sProxyURL)
	}
	if !strings.HasSuffix(s.K8sProxyURL, "/-/kubernetes-agent/k8s-proxy/") || !strings.HasPrefix(s.K8sProxyURL, s.URL) {
		t.Errorf("Omnibus k8s-proxy URL %s", s.K8sProxyURL)
	}
	exchange{name: "Omnibus: no k8s-proxy at /k8s-proxy", url: "/k8s-proxy/version", header: bearer("ci:5678:" + jobTok), status: 404,
		headers: map[string]string{"Content-Type": "text/html; charset=utf-8"}}.check(t, s, s.URL)

	cfg := kasConfig()
	cfg.KASOwnHost = true
	helm := Start(t, cfg)
	if helm.K8sProxyURL != helm.KASURL+"/k8s-proxy" || helm.KASURL == helm.URL {
		t.Errorf("Helm layout: GitLab %s, KAS %s, k8s-proxy %s", helm.URL, helm.KASURL, helm.K8sProxyURL)
	}
	exchange{name: "KAS on its own host", url: "/version", header: bearer("ci:5678:" + jobTok), status: 200}.check(t, helm, helm.K8sProxyURL)
	exchange{name: "not on GitLab's host", url: "/-/kubernetes-agent/k8s-proxy/version", header: bearer("ci:5678:" + jobTok), status: 404}.check(t, helm, helm.URL)
	exchange{name: "no GitLab API on KAS's host", url: "/api/v4/metadata", header: privateToken(readAPIPAT), status: 404}.check(t, helm, helm.KASURL)
	var origins []string
	for _, r := range helm.Requests() {
		origins = append(origins, r.Origin)
	}
	if want := []string{helm.KASURL, helm.URL, helm.KASURL}; !slices.Equal(origins, want) {
		t.Errorf("origins %v, want %v", origins, want)
	}
}

func TestKASStatusMediaTypes(t *testing.T) {
	s := Start(t, kasConfig())
	denied := "ci:4444:" + jobTok
	for _, x := range []exchange{
		{name: "kubectl get's Accept: the as=Table clauses are skipped", url: "version",
			header: http.Header{"Authorization": {"Bearer " + denied}, "Accept": {"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"}},
			status: 403, headers: map[string]string{"Content-Type": "application/json"}, exact: kasStatusBody(403, "Forbidden", "Forbidden: agentId is not allowed")},
		{name: "protobuf", url: "version", header: http.Header{"Authorization": {"Bearer " + denied}, "Accept": {"application/vnd.kubernetes.protobuf, application/json"}},
			status: 403, headers: map[string]string{"Content-Type": "application/vnd.kubernetes.protobuf"}, has: []string{"k8s\x00", "agentId is not allowed"}},
		{name: "YAML", url: "version", header: http.Header{"Authorization": {"Bearer " + denied}, "Accept": {"application/yaml"}},
			status: 403, headers: map[string]string{"Content-Type": "application/yaml"}, has: []string{"\nreason: Forbidden\n"}},
		{name: "quality first", url: "version", header: http.Header{"Authorization": {"Bearer " + denied}, "Accept": {"application/yaml;q=0.5, application/json"}},
			status: 403, headers: map[string]string{"Content-Type": "application/json"}},
		{name: "curl gets it indented", url: "version", header: http.Header{"Authorization": {"Bearer " + denied}, "User-Agent": {"curl/8.5.0"}},
			status: 403, has: []string{"{\n  \"kind\": \"Status\",\n"}},
		{name: "nothing KAS can write", url: "version", header: http.Header{"Authorization": {"Bearer " + denied}, "Accept": {"text/html"}},
			status: 406, headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			exact: "GitLab Agent Server: Failed to negotiate output media type: " + notAcceptable + "\n"},
	} {
		x.check(t, s, s.K8sProxyURL)
	}
}

// FuzzKASCredentials: KAS's header parsing accepts exactly
// "Bearer <ci|pat>:<int64>:<non-empty token>", and what it accepts it
// reads back the same from its canonical form.
func FuzzKASCredentials(f *testing.F) {
	for _, s := range []string{"Bearer ci:1234:glcbt-64_x", "Bearer pat:+007:a:b", "Bearer ci:1", "bearer ci:1:x", "Bearer xx:1:y", "Bearer ci:-1:t", "Bearer ci:99999999999999999999:t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/version", nil)
		r.Header["Authorization"] = []string{header}
		id, kind, token, err := credentials(r)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Authorization header: ") {
				t.Fatalf("%q: %v", header, err)
			}
			return
		}
		short := map[string]string{"ci": "ci", "personal_access_token": "pat"}[kind]
		if short == "" || token == "" || !strings.HasPrefix(header, "Bearer "+short+":") || !strings.HasSuffix(header, ":"+token) {
			t.Fatalf("%q read as agent %d, %s, %q", header, id, kind, token)
		}
		r.Header["Authorization"] = []string{"Bearer " + short + ":" + itoa(id) + ":" + token}
		if id2, kind2, token2, err := credentials(r); err != nil || id2 != id || kind2 != kind || token2 != token {
			t.Fatalf("%q: canonical form read as %d %s %q %v", header, id2, kind2, token2, err)
		}
	})
}
