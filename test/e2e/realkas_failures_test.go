package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestRealKASAgentStopped: with agentk gone, KAS looks for the agent's
// tunnel for 20 s, then answers 502 "Agent connection not found". whoami
// and doctor wait for that answer (30 s on the k8s-proxy) and say the
// agent is not connected, with the fix: the agent's
// pods, version and token.
func TestRealKASAgentStopped(t *testing.T) {
	c := startRealCluster(t)
	k := realKubectls(t)[0]
	e := c.jobIn(t, k, realJobToken, "group/agents:prod", "ns")
	c.StopAgent(1234)

	began := time.Now()
	w := e.run(k.Path, "gitlab", "whoami")
	w.fails(t, "not connected", "Agent connection not found", "kubectl get pods -n gitlab-agent-")
	if w.code != 1 {
		t.Errorf("whoami: exit code %d, want 1", w.code)
	}
	if took := time.Since(began); took < 15*time.Second {
		t.Errorf("whoami answered after %v, before KAS's tunnel search could end", took)
	}
	r := e.run(k.Path, "gitlab", "doctor", "-o", "json")
	if r.code != 1 {
		t.Fatalf("doctor: exit code %d, want 1\n%s", r.code, r)
	}
	rep := decodeDoctor(t, r)
	rep.expectCheck(t, "token", "pass", "KAS accepted ci:1234:<job token>")
	rep.expectCheck(t, "agent", "fail", "not connected", "Agent connection not found", "agent's pods")
	noSecret(t, realJobToken, w, r)

	// Once agentk is back, all is well again.
	c.StartAgent(1234)
	e.run(k.Path, "gitlab", "whoami").ok(t, "gitlab:ci_job:4242")
}

// TestRealKASImpersonationWithImpersonatingAgent: kubectl's --as, or a
// kubeconfig user with as:, through an agent that impersonates the job:
// real KAS answers 502 "nested impersonation is not supported" (through an
// agent that acts as itself, --as reaches the cluster). whoami and
// doctor name the cause and the fix: drop as:, give the job's identity the
// rights with RBAC.
func TestRealKASImpersonationWithImpersonatingAgent(t *testing.T) {
	c := startRealCluster(t)
	k := realKubectls(t)[0]
	e := c.jobIn(t, k, realJobToken, "group/agents:prod", "ns")
	kubeconfig := e.vars["KUBECONFIG"]
	data, err := os.ReadFile(kubeconfig)
	if err != nil || !strings.Contains(string(data), "    token: ci:1234:") {
		t.Fatalf("no user agent:1234 in %s: %v\n%s", kubeconfig, err, data)
	}
	// kubectl's --as: while discovery is not cached, every kubectl shows
	// only "an error on the server ("unknown")" for KAS's 502; the plugin
	// never sees the flag.
	for _, k := range realKubectls(t) {
		e.run(k.Path, "--as", "deployer", "get", "pods").fails(t, "InternalError", `an error on the server ("unknown")`)
	}
	// Through an agent that acts as itself (staging), KAS and agentk pass
	// --as on: the cluster sees the impersonated user, whom RBAC refuses.
	e.run(k.Path, "--context", "group/sub/infra:staging", "--as", "deployer", "get", "pods", "-n", "ns").
		fails(t, `User "deployer" cannot list resource "pods"`)
	writeFile(t, kubeconfig, strings.Replace(string(data), "    token: ci:1234:", "    as: deployer\n    token: ci:1234:", 1), 0o600)
	// With discovery cached (by the staging call: same server), kubectl
	// shows KAS's message itself.
	e.run(k.Path, "get", "pods").fails(t, "nested impersonation is not supported")

	w := e.run(k.Path, "gitlab", "whoami").fails(t, "nested impersonation", "drop")
	r := e.run(k.Path, "gitlab", "doctor", "-o", "json")
	if r.code != 1 {
		t.Fatalf("doctor: exit code %d, want 1\n%s", r.code, r)
	}
	decodeDoctor(t, r).expectCheck(t, "agent", "fail", "nested impersonation", "drop them")
	noSecret(t, realJobToken, w, r)
}

// TestRealKASGitLabFailsKAS: GitLab's API fails KAS (5xx; KAS retries for
// about 1.5 s, then answers 500). doctor says that GitLab failed, not the
// token, and what to do.
func TestRealKASGitLabFailsKAS(t *testing.T) {
	c := startRealCluster(t)
	k := realKubectls(t)[0]
	e := c.jobIn(t, k, realJobToken, "group/agents:prod", "ns")
	c.GitLab.FailAll("/api/v4/job/allowed_agents", 503)
	w := e.run(k.Path, "gitlab", "whoami").fails(t, "KAS could not ask GitLab", "Failed to get allowed agents for CI job token", "GitLab")
	r := e.run(k.Path, "gitlab", "doctor", "-o", "json")
	if r.code != 1 {
		t.Fatalf("doctor: exit code %d, want 1\n%s", r.code, r)
	}
	check := decodeDoctor(t, r).check(t, "token")
	if check.Status != "fail" || !strings.Contains(check.Found, "Failed to get allowed agents") || !strings.Contains(check.Fix, "GitLab") {
		t.Errorf("token check: %+v; want a failure that names GitLab's part and a fix", check)
	}
	noSecret(t, realJobToken, w, r)
}

// TestRealKASGitLabFailsUserSession: GitLab's internal API fails KAS's
// authorize_proxy_user for a personal access token that GitLab knows (5xx;
// KAS retries, then answers 500 "Failed to authorize user session", the
// answer it also gives for a token GitLab does not know). doctor asks
// GitLab about the token itself, and so tells GitLab failing behind KAS
// from a token it does not know, each with its fix.
func TestRealKASGitLabFailsUserSession(t *testing.T) {
	c := startRealCluster(t)
	k := realKubectls(t)[0]
	e, setup := c.workstationWithToken(t, k, bobRealPAT)
	all := []result{setup}
	defer func() { noSecret(t, bobRealPAT, all...) }()

	c.GitLab.FailAll("/api/v4/internal/kubernetes/authorize_proxy_user", 503)
	w := e.run(k.Path, "gitlab", "whoami").fails(t, "Failed to authorize user session")
	r := e.run(k.Path, "gitlab", "doctor", "-o", "json")
	all = append(all, w, r)
	if r.code != 1 {
		t.Fatalf("doctor: exit code %d, want 1\n%s", r.code, r)
	}
	rep := decodeDoctor(t, r)
	rep.expectCheck(t, "scopes", "warn", "read_api") // GitLab answered for the token
	rep.expectCheck(t, "token", "fail", "Failed to authorize user session", "GitLab knows the token", "GitLab failed")

	// A token GitLab does not know gets the same answer from KAS; doctor
	// sends the user to log in again instead.
	c.GitLab.FailAll("/api/v4/internal/kubernetes/authorize_proxy_user", 0)
	e.vars["GITLAB_TOKEN"] = "glpat-RealKASunknownSecret"
	r = e.run(k.Path, "gitlab", "doctor", "-o", "json")
	all = append(all, r)
	rep = decodeDoctor(t, r)
	rep.expectCheck(t, "token", "fail", "Failed to authorize user session", "kubectl gitlab login")
	if check := rep.check(t, "token"); strings.Contains(check.Found+check.Fix, "GitLab knows the token") {
		t.Errorf("an unknown token taken for a known one: %+v", check)
	}
	noSecret(t, "glpat-RealKASunknownSecret", r)
}

// TestRealKASGitLabRefusesJobToken: GitLab answers KAS's allowed_agents
// with 403 or 404 (e.g. a token that is not a running job's): KAS relays
// them as "Forbidden: CI job token" and "Not found: agents for CI job
// token". doctor fails the token check for both, and does not send the user
// to ci_access or the cluster.
func TestRealKASGitLabRefusesJobToken(t *testing.T) {
	c := startRealCluster(t)
	k := realKubectls(t)[0]
	for _, status := range []int{403, 404} {
		e := c.jobIn(t, k, realJobToken, "group/agents:prod", "ns")
		c.GitLab.FailAll("/api/v4/job/allowed_agents", status)
		r := e.run(k.Path, "gitlab", "doctor", "-o", "json")
		c.GitLab.FailAll("/api/v4/job/allowed_agents", 0)
		if r.code != 1 {
			t.Fatalf("doctor with GitLab's %d: exit code %d, want 1\n%s", status, r.code, r)
		}
		check := decodeDoctor(t, r).check(t, "token")
		if check.Status != "fail" || !strings.Contains(check.Found, "CI job token") || strings.Contains(check.Fix, "ci_access") {
			t.Errorf("GitLab's %d: token check %+v; want a failure about the job token, not ci_access", status, check)
		}
		noSecret(t, realJobToken, r)
		time.Sleep(time.Second) // past KAS's cache of GitLab's refusal
	}
}
