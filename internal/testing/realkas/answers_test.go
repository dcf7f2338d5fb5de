package realkas_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/realkas"
)

// kasStatus is the Kubernetes Status that KAS answers its own errors with.
type kasStatus struct {
	Message string `json:"message"`
	Reason  string `json:"reason"`
	Code    int    `json:"code"`
}

// answer is what came back for one request through the stack.
type answer struct {
	status       int
	header       http.Header
	body         []byte
	kas          kasStatus
	unauthorized bool // Gitlab-Unauthorized: true
	took         time.Duration
}

func ask(t *testing.T, s *realkas.Stack, method, path, bearer string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.K8sProxyURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	began := time.Now()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header, took: time.Since(began)}
	a.body, _ = io.ReadAll(resp.Body)
	json.Unmarshal(a.body, &a.kas)
	a.unauthorized = resp.Header.Get("Gitlab-Unauthorized") == "true"
	return a
}

// kasVersion is how KAS and agentk name themselves in Server and Via.
const kasVersion = "v16.5.0/8daa08cc"

// TestKASAnswers pins how the real KAS 16.5 answers what kubectl may send
// it: docs/kas-differences.md compares internal/testing/testkas with these
// answers. Each case names the code of gitlab-agent that gives the answer;
// most of it is internal/module/kubernetes_api/server/proxy.go.
func TestKASAnswers(t *testing.T) {
	w := world()
	w.Projects = append(w.Projects, realkas.Project{ID: 151, Path: "group/other"})
	w.Users = append(w.Users, realkas.User{ID: 7, Username: "carol"})
	w.Jobs = append(w.Jobs, realkas.Job{Token: "glcbt-64_OtherProjectJOBtoken", ID: 4244, PipelineID: 78, ProjectID: 151, Username: "alice"})
	w.PATs = append(w.PATs,
		realkas.PAT{Token: "glpat-RevokedToken", ID: 2, Username: "alice", Scopes: []string{"k8s_proxy"}, Revoked: true},
		realkas.PAT{Token: "glpat-ReadApiOnly", ID: 3, Username: "alice", Scopes: []string{"read_api"}},
		realkas.PAT{Token: "glpat-CarolHasNoRole", ID: 4, Username: "carol", Scopes: []string{"k8s_proxy"}},
		realkas.PAT{Token: "glpat-SessionGitLabFails", ID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}},
	)
	s := realkas.Start(t, w)
	const job = "ci:1234:" + jobToken
	const gitlabError = "GitLab Agent Server: "

	for _, c := range []struct {
		name         string
		bearer       string
		header       map[string]string
		status       int
		reason       string
		message      string // KAS's message, exactly
		unauthorized bool
	}{
		// getAuthorizationInfoFromRequest and getAgentIdAndTokenFromHeader:
		// every malformed credential is a 401 that says what is wrong.
		{name: "no credentials", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized: no valid credentials provided"},
		{name: "no colon", bearer: "garbage", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized: Authorization header: invalid value"},
		{name: "unknown token type", bearer: "xyz:1234:" + jobToken, status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized: Authorization header: unknown token type"},
		{name: "agent ID not a number", bearer: "ci:abc:" + jobToken, status: 401, reason: "Unauthorized", unauthorized: true,
			message: `Unauthorized: Authorization header: failed to parse: strconv.ParseInt: parsing "abc": invalid syntax`},
		{name: "empty token", bearer: "ci:1234:", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized: Authorization header: empty token"},
		// getAllowedAgentsForJob: GitLab's 401 for the job token.
		{name: "unknown job token", bearer: "ci:1234:glcbt-64_NoSuchJobToken", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized: CI job token: HTTP status code: 401 for path /api/v4/job/allowed_agents"},
		// authenticateAndImpersonateRequest: an agent missing from the
		// job's allowed agents, known or not, is 403.
		{name: "agent not allowed", bearer: "ci:1234:glcbt-64_OtherProjectJOBtoken", status: 403, reason: "Forbidden",
			message: "Forbidden: agentId is not allowed"},
		{name: "unknown agent", bearer: "ci:9999:" + jobToken, status: 403, reason: "Forbidden",
			message: "Forbidden: agentId is not allowed"},
		// authorizeProxyUser: GitLab's 401, 403 and 404 are all a bare 401;
		// anything else, such as GitLab's 400 for a token it does not know,
		// is a 500.
		{name: "unknown PAT", bearer: "pat:1234:glpat-NoSuchPersonalToken", status: 500, reason: "InternalError",
			message: "Failed to authorize user session"},
		{name: "revoked PAT", bearer: "pat:1234:glpat-RevokedToken", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized"},
		{name: "PAT without k8s_proxy", bearer: "pat:1234:glpat-ReadApiOnly", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized"},
		{name: "user without a role", bearer: "pat:1234:glpat-CarolHasNoRole", status: 401, reason: "Unauthorized", unauthorized: true,
			message: "Unauthorized"},
		// agentk's restImpersonationConfig (internal/module/kubernetes_api/
		// agent/server.go) refuses impersonation on top of the agent's;
		// KAS relays the failed gRPC call as a 502 without a reason.
		{name: "nested impersonation, ci_job", bearer: job, header: map[string]string{"Impersonate-User": "someone"}, status: 502,
			message: "HTTP->gRPC: failed to read gRPC response: rpc error: code = Unavailable desc = gRPC -> HTTP: nested impersonation is not supported - agent is already configured to impersonate an identity"},
		{name: "nested impersonation, user", bearer: "pat:1234:glpat-realkasPAT", header: map[string]string{"Impersonate-Group": "someone"}, status: 502,
			message: "HTTP->gRPC: failed to read gRPC response: rpc error: code = Unavailable desc = gRPC -> HTTP: nested impersonation is not supported - agent is already configured to impersonate an identity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := ask(t, s, http.MethodGet, "/version", c.bearer, c.header)
			if a.status != c.status || a.kas.Code != c.status || a.kas.Reason != c.reason || a.kas.Message != gitlabError+c.message || a.unauthorized != c.unauthorized {
				t.Errorf("got %d %+v (Gitlab-Unauthorized %v), want %d %s %q (Gitlab-Unauthorized %v)\n%s",
					a.status, a.kas, a.unauthorized, c.status, c.reason, gitlabError+c.message, c.unauthorized, a.body)
			}
			// KAS's own answers carry its Server header and no Via.
			if got := a.header.Get("Server"); got != "gitlab-kas/"+kasVersion || a.header.Get("Via") != "" {
				t.Errorf("Server %q, Via %q", got, a.header.Get("Via"))
			}
		})
	}

	t.Run("through to the cluster", func(t *testing.T) {
		// The cluster's own 403 passes through unchanged, with Via naming
		// agentk and KAS (mergeProxiedResponseHeaders) and no Server header.
		a := ask(t, s, http.MethodGet, "/api/v1/namespaces/default/pods", job, nil)
		if a.status != 403 || a.unauthorized || !strings.HasPrefix(a.kas.Message, `pods is forbidden: User "gitlab:ci_job:4242"`) {
			t.Errorf("%d %s", a.status, a.body)
		}
		if via := a.header.Get("Via"); via != "2.0 gitlab-agent/"+kasVersion+", gRPC/1.0 gitlab-kas/"+kasVersion && strings.Join(a.header.Values("Via"), ",") != "2.0 gitlab-agent/"+kasVersion+",gRPC/1.0 gitlab-kas/"+kasVersion {
			t.Errorf("Via %q", a.header.Values("Via"))
		}
		if a.header.Get("Server") != "" || a.header.Get("Audit-Id") == "" {
			t.Errorf("Server %q, Audit-Id %q", a.header.Get("Server"), a.header.Get("Audit-Id"))
		}
	})

	t.Run("Status in the negotiated media type", func(t *testing.T) {
		// writeErrorResponse encodes its Status as the client asked.
		a := ask(t, s, http.MethodGet, "/version", "ci:1234:glcbt-64_AnotherUnknownToken", map[string]string{"Accept": "application/vnd.kubernetes.protobuf"})
		if a.status != 401 || a.header.Get("Content-Type") != "application/vnd.kubernetes.protobuf" || !strings.HasPrefix(string(a.body), "k8s\x00") {
			t.Errorf("%d %s %q", a.status, a.header.Get("Content-Type"), a.body)
		}
	})

	t.Run("an Origin that is not allowed", func(t *testing.T) {
		// proxy: a bare 403 with no body for a browser's foreign Origin.
		a := ask(t, s, http.MethodGet, "/version", job, map[string]string{"Origin": "https://elsewhere.example"})
		if a.status != 403 || len(a.body) != 0 {
			t.Errorf("%d %q", a.status, a.body)
		}
	})

	t.Run("GitLab refuses or fails", func(t *testing.T) {
		// getAllowedAgentsForJob relays GitLab's 403 and 404 with their
		// own messages; a 5xx is retried (internal/gitlab/client.go, about
		// 1.5 s) and then a 500. The tokens differ in their first halves,
		// by which KAS caches refusals (see below).
		for _, c := range []struct {
			gitlab, status int
			token, reason  string
			message        string
		}{
			{403, 403, "403-glcbt-64_Refused", "Forbidden", "Forbidden: CI job token: HTTP status code: 403 for path /api/v4/job/allowed_agents"},
			{404, 404, "404-glcbt-64_NotFound", "NotFound", "Not found: agents for CI job token: HTTP status code: 404 for path /api/v4/job/allowed_agents"},
			{503, 500, "503-glcbt-64_Failing", "InternalError", "Failed to get allowed agents for CI job token: HTTP status code: 503 for path /api/v4/job/allowed_agents"},
		} {
			s.GitLab.FailAll("/api/v4/job/allowed_agents", c.gitlab)
			a := ask(t, s, http.MethodGet, "/version", "ci:1234:"+c.token, nil)
			s.GitLab.FailAll("/api/v4/job/allowed_agents", 0)
			if a.status != c.status || a.kas.Reason != c.reason || a.kas.Message != gitlabError+c.message || a.unauthorized {
				t.Errorf("GitLab's %d: got %d %+v, want %d %s %q", c.gitlab, a.status, a.kas, c.status, c.reason, c.message)
			}
			calls := 0
			for _, r := range s.GitLab.Requests() {
				if r.JobToken == c.token {
					calls++
				}
			}
			if c.gitlab >= 500 && calls < 2 {
				t.Errorf("GitLab's %d: KAS asked %d times; it retries server errors", c.gitlab, calls)
			}
		}
	})

	t.Run("GitLab fails a user session", func(t *testing.T) {
		// authorizeProxyUser: a 5xx of authorize_proxy_user is retried as
		// above, then the same 500 as GitLab's 400 for an unknown token.
		s.GitLab.FailAll("/api/v4/internal/kubernetes/authorize_proxy_user", 503)
		a := ask(t, s, http.MethodGet, "/version", "pat:1234:glpat-SessionGitLabFails", nil)
		s.GitLab.FailAll("/api/v4/internal/kubernetes/authorize_proxy_user", 0)
		if a.status != 500 || a.kas.Reason != "InternalError" || a.kas.Message != gitlabError+"Failed to authorize user session" || a.unauthorized {
			t.Errorf("got %d %+v", a.status, a.kas)
		}
	})

	t.Run("session cookie", func(t *testing.T) {
		// getSessionCookieParams: the _gitlab_kas cookie needs the agent ID
		// and a CSRF token (header or query); GitLab cannot decrypt a made-up
		// session (its 400 is not 401, 403 or 404), so KAS answers 500.
		a := ask(t, s, http.MethodGet, "/version", "", map[string]string{"Cookie": "_gitlab_kas=abc"})
		want := gitlabError + `Unauthorized: exactly one agent id must be provided either in the "Gitlab-Agent-Id" header or "gitlab-agent-id" query parameter`
		if a.status != 401 || a.kas.Message != want || !a.unauthorized {
			t.Errorf("no agent ID: %d %+v, want 401 %q", a.status, a.kas, want)
		}
		a = ask(t, s, http.MethodGet, "/version?gitlab-agent-id=1234&gitlab-csrf-token=x", "", map[string]string{"Cookie": "_gitlab_kas=abc"})
		if a.status != 500 || a.kas.Message != gitlabError+"Failed to authorize user session" {
			t.Errorf("a session GitLab does not know: %d %+v", a.status, a.kas)
		}
	})

	t.Run("a path outside url_path_prefix", func(t *testing.T) {
		// proxyInternal: KAS's own listener answers 400 for a path that
		// does not start with its url_path_prefix.
		proxyRoot := strings.TrimSuffix(s.K8sProxyURL, strings.TrimSuffix(realkas.K8sProxyPath, "/"))
		req, _ := http.NewRequest(http.MethodGet, proxyRoot+"/elsewhere/version", nil)
		req.Header.Set("Authorization", "Bearer "+job)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var st kasStatus
		json.Unmarshal(body, &st)
		if resp.StatusCode != 400 || st.Reason != "BadRequest" || st.Message != gitlabError+"Bad request: URL does not start with expected prefix" {
			t.Errorf("%s %s", resp.Status, body)
		}
	})

	t.Run("refusals are cached by the first half of the token", func(t *testing.T) {
		// The Redis key of a cached refusal hashes the first half of the
		// job token (factory.go): a token that shares it gets the refusal
		// without KAS asking GitLab, for allowed_agent_cache_error_ttl.
		a := ask(t, s, http.MethodGet, "/version", "ci:1234:glcbt-64_SameHalfXXXXXXXXXXX", nil)
		b := ask(t, s, http.MethodGet, "/version", "ci:1234:glcbt-64_SameHalfYYYYYYYYYYY", nil)
		asked := 0
		for _, r := range s.GitLab.Requests() {
			if strings.HasPrefix(r.JobToken, "glcbt-64_SameHalf") {
				asked++
			}
		}
		if a.status != 401 || b.status != 401 || asked != 1 {
			t.Errorf("%d then %d, GitLab asked %d times; want 401, 401 and once", a.status, b.status, asked)
		}
	})

	t.Run("agent not connected", func(t *testing.T) {
		// The router looks for the agent's tunnel for 20 s
		// (cmd/kas/kasapp/configured_app.go, routingTunnelFindTimeout),
		// then KAS answers 502 without a reason.
		s.StopAgent(1234)
		a := ask(t, s, http.MethodGet, "/version", job, nil)
		want := gitlabError + "HTTP->gRPC: failed to read gRPC response: rpc error: code = DeadlineExceeded desc = Agent connection not found. Is agent up to date and connected?"
		if a.status != 502 || a.kas.Message != want || a.kas.Reason != "" || a.took < 15*time.Second {
			t.Errorf("after %v: %d %+v, want 502 %q after about 20 s", a.took, a.status, a.kas, want)
		}
		s.StartAgent(1234)
		if a := ask(t, s, http.MethodGet, "/version", job, nil); a.status != 200 {
			t.Errorf("after the agent is back: %d %s", a.status, a.body)
		}
	})
}
