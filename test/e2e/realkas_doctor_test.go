package e2e

import (
	"strings"
	"testing"
)

// TestRealKASDoctor: doctor against the real KAS and agentk, for a healthy
// job and for the failures that today's doctor already tells apart: a wrong
// job token (KAS's 401 with Gitlab-Unauthorized), a job that ci_access does
// not admit (KAS's 403 "agentId is not allowed"), and a 403 from the
// cluster's RBAC. realkas_failures_test.go holds the failures KAS relays
// or waits 20 s for.
func TestRealKASDoctor(t *testing.T) {
	c := startRealCluster(t)
	k := realKubectls(t)[0]
	var all []result
	doctor := func(t *testing.T, e *env, wantCode int, args ...string) doctorReport {
		t.Helper()
		r := e.run(k.Path, append([]string{"gitlab", "doctor", "-o", "json"}, args...)...)
		all = append(all, r)
		if r.code != wantCode {
			t.Fatalf("exit code %d, want %d\n%s", r.code, wantCode, r)
		}
		return decodeDoctor(t, r)
	}
	// The wrong token differs from the job's in its first half: KAS caches
	// GitLab's refusals by a hash of the first half of the token.
	const wrongToken = "glcbt-64_WrongHalfOfAnExpiredJobToken"
	defer func() {
		for _, secret := range []string{realJobToken, realDeniedJobToken, wrongToken} {
			noSecret(t, secret, all...)
		}
	}()
	job := func(t *testing.T, token, namespace string) *env {
		return c.jobIn(t, k, token, "group/agents:prod", namespace)
	}

	t.Run("healthy", func(t *testing.T) {
		e := job(t, realJobToken, "ns")
		e.run(k.Path, "get", "pods").ok(t, "web-0") // also fills ~/.kube/cache
		r := e.run(k.Path, "gitlab", "doctor")
		all = append(all, r)
		r.ok(t, "✓ token accepted", "✓ agent answers", "gitlab:ci_job:4242 in 9 groups (access_as ci_job", "may: get,list,watch pods", "All checks passed.")
		rep := doctor(t, e, 0)
		if rep.Context != "group/agents:prod" || rep.Summary["pass"] != len(rep.Checks) {
			t.Errorf("not every check passed: %+v", rep)
		}
		rep.expectCheck(t, "agent", "pass", "the cluster behind agent 1234 answers")
	})

	t.Run("wrong token", func(t *testing.T) {
		rep := doctor(t, job(t, wrongToken, "ns"), 1)
		rep.expectCheck(t, "token", "fail", "KAS rejected the token (401 Unauthorized, Gitlab-Unauthorized: true)",
			"CI job token", "CI_JOB_TOKEN is valid only while its job runs")
		rep.expectCheck(t, "agent", "skip")
	})

	t.Run("agent not allowed", func(t *testing.T) {
		e := job(t, realDeniedJobToken, "ns")
		e.vars["CI_PROJECT_PATH"] = "group/sub/other"
		e.vars["CI_ENVIRONMENT_NAME"] = "review/x"
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "token", "fail", "403 Forbidden", "agentId is not allowed",
			`CI_PROJECT_PATH (here: "group/sub/other")`, `CI_ENVIRONMENT_NAME (here: "review/x")`)
	})

	t.Run("RBAC forbids", func(t *testing.T) {
		e := job(t, realJobToken, "other")
		e.run(k.Path, "get", "pods").fails(t, `pods is forbidden: User "gitlab:ci_job:4242" cannot list resource "pods" in API group "" in the namespace "other"`)
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "token", "pass", "KAS accepted ci:1234:<job token>")
		rep.expectCheck(t, "rbac", "fail", "gitlab:ci_job:4242 may do nothing in namespace other",
			"kubectl gitlab access rbac --for-project-id 150 --clusterrole edit --namespace other")
		doctor(t, e, 0, "--namespace", "ns").expectCheck(t, "rbac", "pass", "in namespace ns, gitlab:ci_job:4242 may: get,list,watch pods")
	})

	// A job whose ci_access entry has no access_as: KAS lets it act as the
	// agent; whoami and doctor say so.
	t.Run("access as agent", func(t *testing.T) {
		e := c.jobIn(t, k, realJobToken, "group/sub/infra:staging", "")
		r := e.run(k.Path, "gitlab", "doctor")
		all = append(all, r)
		if r.code != 0 || !strings.Contains(r.stdout, "access_as agent") {
			t.Errorf("doctor through the staging agent:\n%s", r)
		}
	})
}
