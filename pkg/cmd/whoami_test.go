package cmd

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// ciJobGroups are the groups of GitLab's example: job 4242 of project 150
// in groups 23 and 25, environment prod of tier production.
var ciJobGroups = []string{
	"gitlab:ci_job",
	"gitlab:group:23", "gitlab:group_env_tier:23:production",
	"gitlab:group:25", "gitlab:group_env_tier:25:production",
	"gitlab:project:150", "gitlab:project_env:150:prod", "gitlab:project_env_tier:150:production",
}

// accessKAS has one agent per access_as, all usable by one job.
func accessKAS(t *testing.T) *testkas.Server {
	return testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", AccessAs: testkas.AccessAs{CIJob: true}},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra"},
			{ID: 9012, Name: "static", ConfigProjectID: 79, ConfigProjectPath: "group/ops", AccessAs: testkas.AccessAs{Impersonate: &testkas.Identity{
				Username: "deployer", UID: "u-1", Groups: []string{"deployers"}, Extra: map[string][]string{"team": {"ops"}}}}},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, PipelineID: 77, ProjectID: 150, ProjectPath: "group1/group1-1/project1",
			GroupIDs: []int64{23, 25}, UserID: 5, Username: "alice", Environment: &testkas.Environment{Slug: "prod", Tier: "production"},
			AllowedAgents: []int64{1234, 5678, 9012}}},
		// KAS looks 20 s for a disconnected agent; a short wait keeps the
		// in-process tests quick (test/e2e waits the real 20 s).
		TunnelFindTimeout: 300 * time.Millisecond,
	})
}

// allowOnly changes which agents the job may use, and makes KAS forget
// what GitLab told it (it keeps that a minute), until the test ends.
func allowOnly(t *testing.T, kas *testkas.Server, agents ...int64) {
	t.Helper()
	kas.SetConfig(func(c *testkas.Config) { c.Jobs[0].AllowedAgents = agents })
	kas.ExpireAuthCache()
	t.Cleanup(func() {
		kas.SetConfig(func(c *testkas.Config) { c.Jobs[0].AllowedAgents = []int64{1234, 5678, 9012} })
		kas.ExpireAuthCache()
	})
}

// trustedJobKubeconfig is GitLab's job kubeconfig against kas, with its CA
// embedded by use-context, switched to the ci_job agent.
func trustedJobKubeconfig(h *harness, kas *testkas.Server) string {
	h.t.Helper()
	return trustedKubeconfig(h, kas, "job-agents.yaml", jobToken)
}

// trustedKubeconfig is trustedJobKubeconfig of another testdata kubeconfig
// or job token.
func trustedKubeconfig(h *harness, kas *testkas.Server, file, token string) string {
	h.t.Helper()
	path := h.kubeconfigWithToken(file, strings.TrimSuffix(kas.K8sProxyURL, "/"), token)
	h.env["KUBECONFIG"] = path
	h.run("use-context", "group/agents:prod", "--certificate-authority", kas.CAFile).expect(h.t, 0)
	return path
}

func TestWhoamiShowsEachAccessAs(t *testing.T) {
	kas := accessKAS(t)
	h := newHarness(t)
	trustedJobKubeconfig(h, kas)

	// access_as: ci_job, as a table and as JSON.
	r := h.run("whoami")
	r.expect(t, 0, "Context", "group/agents:prod (agent 1234)", "Username", "gitlab:ci_job:4242",
		"Extra: agent.gitlab.com/ci_job_id", "Extra: agent.gitlab.com/environment_tier", "production", "Access as ci_job (access_as: {ci_job: {}}).", "KAS impersonates CI job 4242")
	for _, g := range ciJobGroups {
		if !strings.Contains(r.stdout, g+"\n") {
			t.Errorf("whoami lacks group %s:\n%s", g, r.stdout)
		}
	}
	var view whoamiView
	r = h.run("whoami", "-o", "json")
	r.expect(t, 0)
	if err := json.Unmarshal([]byte(r.stdout), &view); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if view.UserInfo.Username != "gitlab:ci_job:4242" || !slices.Equal(view.UserInfo.Groups, ciJobGroups) ||
		view.UserInfo.Extra["agent.gitlab.com/ci_pipeline_id"][0] != "77" || view.AccessAs.Mode != "ci_job" ||
		view.APIVersion != "authentication.k8s.io/v1" || view.AgentID != 1234 {
		t.Errorf("whoami -o json: %+v", view)
	}
	h.run("whoami", "-o", "yaml").expect(t, 0, "username: gitlab:ci_job:4242", "mode: ci_job")

	// access_as: agent, through --context.
	h.run("whoami", "--context", "group/sub/infra:staging").expect(t, 0,
		"system:serviceaccount:gitlab-agent:gitlab-agent", "Access as agent (access_as: {agent: {}}, the default).", "gitlab-agent/gitlab-agent")

	// access_as: impersonate, through an exec context that use-context
	// creates in a job; get-token runs in-process.
	h.inJob(kas)
	h.env["KAS_CERTIFICATE"] = kas.CAFile
	h.run("use-context", "--agent-id", "9012").expect(t, 0, "Created context")
	r = h.run("whoami")
	r.expect(t, 0, "Username", "deployer", "UID", "u-1", "deployers", "Extra: team", "ops", "Access as impersonate (access_as: {impersonate: {username: deployer, ...}}).")
	if !kas.SawBearer("ci:9012:" + jobToken) {
		t.Errorf("the exec entry's credential did not reach KAS")
	}
}

func TestWhoamiExplainsFailures(t *testing.T) {
	kas := accessKAS(t)

	t.Run("untrusted CA", func(t *testing.T) {
		h := newHarness(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", strings.TrimSuffix(kas.K8sProxyURL, "/"))
		h.run("use-context", "group/agents:prod").expect(t, 0)
		kas.Reset()
		h.run("whoami").expectErr(t, ExitFailed, "x509: certificate signed by unknown authority",
			"kubectl gitlab use-context group/agents:prod --certificate-authority FILE", "KAS_CERTIFICATE")
		if kas.SawBearer("ci:1234:" + jobToken) {
			t.Errorf("the token went over an untrusted connection")
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		h := newHarness(t)
		trustedKubeconfig(h, kas, "job-agents.yaml", "glcbt-64_expiredJobToken")
		h.secrets = append(h.secrets, "glcbt-64_expiredJobToken")
		h.run("whoami").expectErr(t, ExitFailed, "KAS rejected the token (401 Unauthorized, Gitlab-Unauthorized: true)",
			"CI_JOB_TOKEN is valid only while its job runs")
	})
	t.Run("agent not allowed", func(t *testing.T) {
		h := newHarness(t)
		trustedJobKubeconfig(h, kas)
		allowOnly(t, kas, 5678)
		h.run("whoami").expectErr(t, ExitFailed, "KAS does not let this job use the agent (403 Forbidden)", "agentId is not allowed",
			"CI_PROJECT_PATH", "CI_ENVIRONMENT_NAME", "CI_COMMIT_REF_PROTECTED",
			"kubectl gitlab access explain .gitlab/agents/prod/config.yaml --agent-project group/agents")
	})
	t.Run("client impersonation", func(t *testing.T) {
		h := newHarness(t)
		trustedKubeconfig(h, kas, "job-agents-impersonation.yaml", jobToken)
		r := h.run("whoami")
		r.expectErr(t, ExitFailed, "502 Bad Gateway", "nested impersonation is not supported", "drop them")
		if strings.Contains(r.stderr, "agent's pods") {
			t.Errorf("nested impersonation blamed on the agent's pods:\n%s", r.stderr)
		}
	})
	t.Run("agent not connected", func(t *testing.T) {
		kas.SetConfig(func(c *testkas.Config) { c.Agents[0].Disconnected = true })
		defer kas.SetConfig(func(c *testkas.Config) { c.Agents[0].Disconnected = false })
		h := newHarness(t)
		trustedJobKubeconfig(h, kas)
		r := h.run("whoami")
		r.expectErr(t, ExitFailed, "the agent is not connected to KAS (502 Bad Gateway, after KAS looked for it for 20 s)",
			"Agent connection not found. Is agent up to date and connected?", "no agentk of agent 1234", "kubectl get pods -n gitlab-agent-")
		if strings.Contains(r.stderr, "waiting for KAS") {
			t.Errorf("a progress line where stderr is no terminal:\n%s", r.stderr)
		}
		// On a terminal, the wait is said first.
		h.stderrTerminal, h.progressAfter = true, 50*time.Millisecond
		r = h.run("whoami")
		if !strings.HasPrefix(r.stderr, "waiting for KAS to find agent 1234 (it looks for up to 20 s)…\nerror: the agent is not connected") {
			t.Errorf("stderr on a terminal:\n%s", r.stderr)
		}
	})
	t.Run("KAS down", func(t *testing.T) {
		h := newHarness(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", "https://"+closedPort(t)+"/k8s-proxy")
		h.run("use-context", "group/agents:prod").expect(t, 0)
		h.run("whoami").expectErr(t, ExitFailed, "connection refused", "KAS is down, or the server URL is wrong")
	})
	t.Run("plain http", func(t *testing.T) {
		h := newHarness(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", "http://kas.example/k8s-proxy")
		h.run("use-context", "group/agents:prod").expect(t, 0)
		h.run("whoami").expectErr(t, ExitFailed, "plain http", "You must be logged in to the server")
	})
	t.Run("bad input", func(t *testing.T) {
		h := newHarness(t)
		trustedJobKubeconfig(h, kas)
		h.run("whoami", "--context", "nope").expectErr(t, ExitBadInput, `no context named "nope"`, "group/agents:prod")
		h.run("whoami", "-o", "table").expectErr(t, ExitBadInput, "unknown output format")
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents-bad-ca.yaml", strings.TrimSuffix(kas.K8sProxyURL, "/"))
		h.run("whoami").expectErr(t, ExitBadInput, "certificate-authority-data is not base64")
	})
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
