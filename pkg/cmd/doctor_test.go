package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/doctor"
)

// fakeKubectl puts a kubectl of that version (a script that prints
// kubectl version --client -o json) and a kubectl-gitlab on the harness's
// PATH.
func fakeKubectl(h *harness, version string) string {
	h.t.Helper()
	bin := filepath.Join(h.dir, "bin-"+version)
	os.MkdirAll(bin, 0o755)
	kubectl := filepath.Join(bin, "kubectl")
	script := "#!/bin/sh\necho '{\"clientVersion\":{\"major\":\"1\",\"gitVersion\":\"" + version + "\",\"platform\":\"linux/amd64\"}}'\n"
	if err := os.WriteFile(kubectl, []byte(script), 0o755); err != nil {
		h.t.Fatal(err)
	}
	os.WriteFile(filepath.Join(bin, agentcontext.PluginCommand), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	h.env["PATH"] = bin
	return kubectl
}

func doctorReport(t *testing.T, r result) doctor.Report {
	t.Helper()
	var rep doctor.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, r.stdout)
	}
	return rep
}

func expectCheck(t *testing.T, rep doctor.Report, name string, status doctor.Status, says ...string) {
	t.Helper()
	c, ok := rep.Get(name)
	if !ok {
		t.Fatalf("no check %s", name)
	}
	if c.Status != status {
		t.Errorf("%s: %s, want %s: %s\nfix: %s", name, c.Status, status, c.Found, c.Fix)
	}
	for _, s := range says {
		if !strings.Contains(c.Found+"\n"+c.Fix, s) {
			t.Errorf("%s does not say %q:\n%s\nfix: %s", name, s, c.Found, c.Fix)
		}
	}
}

func TestDoctorHealthy(t *testing.T) {
	kas := accessKAS(t)
	h := newHarness(t)
	fakeKubectl(h, "v1.33.1")
	trustedJobKubeconfig(h, kas)
	r := h.run("doctor")
	r.expect(t, ExitOK, "✓ kubectl          kubectl v1.33.1", "✓ TLS", "✓ token accepted   KAS accepted ci:1234:<job token>",
		"✓ identity         gitlab:ci_job:4242 in 8 groups (access_as ci_job", "✓ RBAC             in namespace default, gitlab:ci_job:4242 may: get,list pods",
		"All checks passed.")
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	rep := doctorReport(t, h.run("doctor", "-o", "json"))
	if rep.Count(doctor.Pass) != len(rep.Checks) {
		t.Errorf("not all passed: %+v", rep.Checks)
	}
	h.run("doctor", "-o", "yaml").expectErr(t, ExitBadInput, "unknown output format")
}

// TestDoctorNamesEachFailure prepares each failure the GitLab page's
// troubleshooting section knows, in-process against testkas.
func TestDoctorNamesEachFailure(t *testing.T) {
	kas := accessKAS(t)
	run := func(h *harness, wantCode int, args ...string) doctor.Report {
		t.Helper()
		r := h.run(append([]string{"doctor", "-o", "json"}, args...)...)
		if r.code != wantCode {
			t.Fatalf("exit code %d, want %d\n%s\n%s", r.code, wantCode, r.stdout, r.stderr)
		}
		if wantCode == ExitFailed && !strings.HasPrefix(r.stderr, "error: doctor: failed: ") {
			t.Errorf("stderr: %s", r.stderr)
		}
		return doctorReport(t, r)
	}
	healthy := func(t *testing.T) *harness {
		h := newHarness(t)
		fakeKubectl(h, "v1.33.1")
		trustedJobKubeconfig(h, kas)
		return h
	}

	t.Run("kubectl 1.27.1", func(t *testing.T) {
		h := healthy(t)
		kubectl := fakeKubectl(h, "v1.27.1")
		rep := run(h, ExitFailed)
		expectCheck(t, rep, "kubectl", doctor.Fail, "kubectl v1.27.1 ("+kubectl+")", "status code 426", "use another kubectl version")
		if len(rep.Failed()) != 1 {
			t.Errorf("failed: %v", rep.Failed())
		}
	})
	t.Run("no kubectl", func(t *testing.T) {
		h := healthy(t)
		h.env["PATH"] = h.dir
		expectCheck(t, run(h, ExitFailed), "kubectl", doctor.Fail, "not on PATH")
	})
	t.Run("kube cache is a file", func(t *testing.T) {
		h := healthy(t)
		cache := filepath.Join(h.env["HOME"], ".kube", "cache")
		os.MkdirAll(filepath.Dir(cache), 0o755)
		os.WriteFile(cache, nil, 0o644)
		expectCheck(t, run(h, ExitOK), "kube-cache", doctor.Warn, "is a file, not a directory", "rm "+cache)
	})
	t.Run("untrusted CA", func(t *testing.T) {
		h := healthy(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", strings.TrimSuffix(kas.K8sProxyURL, "/"))
		h.run("use-context", "group/agents:prod").expect(t, 0)
		rep := run(h, ExitFailed)
		expectCheck(t, rep, "tls", doctor.Fail, "x509: certificate signed by unknown authority", "kubectl gitlab use-context group/agents:prod --certificate-authority FILE")
		expectCheck(t, rep, "token", doctor.Skip)
	})
	t.Run("wrong token", func(t *testing.T) {
		h := newHarness(t)
		fakeKubectl(h, "v1.33.1")
		trustedKubeconfig(h, kas, "job-agents.yaml", "glcbt-64_oldJobToken")
		h.secrets = append(h.secrets, "glcbt-64_oldJobToken")
		expectCheck(t, run(h, ExitFailed), "token", doctor.Fail, "Gitlab-Unauthorized: true", "CI_JOB_TOKEN is valid only while its job runs")
	})
	t.Run("agent not allowed", func(t *testing.T) {
		h := healthy(t)
		h.env["CI_PROJECT_PATH"] = "group1/group1-1/project1"
		allowOnly(t, kas, 5678)
		expectCheck(t, run(h, ExitFailed), "token", doctor.Fail, "agentId is not allowed", `CI_PROJECT_PATH (here: "group1/group1-1/project1")`,
			"CI_ENVIRONMENT_NAME (not set here)", "kubectl gitlab access explain")
	})
	t.Run("client impersonation", func(t *testing.T) {
		h := newHarness(t)
		fakeKubectl(h, "v1.33.1")
		trustedKubeconfig(h, kas, "job-agents-impersonation.yaml", jobToken)
		// KAS accepts the token; agentk refuses to impersonate twice.
		rep := run(h, ExitFailed)
		expectCheck(t, rep, "token", doctor.Pass)
		expectCheck(t, rep, "agent", doctor.Fail, "502 Bad Gateway", "nested impersonation is not supported", "drop them")
		if c, _ := rep.Get("agent"); strings.Contains(c.Fix, "agent's pods") {
			t.Errorf("nested impersonation blamed on the agent's pods: %s", c.Fix)
		}
	})
	t.Run("agent not connected", func(t *testing.T) {
		h := healthy(t)
		kas.SetConfig(func(c *testkas.Config) { c.Agents[0].Disconnected = true })
		defer kas.SetConfig(func(c *testkas.Config) { c.Agents[0].Disconnected = false })
		rep := run(h, ExitFailed)
		expectCheck(t, rep, "token", doctor.Pass)
		expectCheck(t, rep, "agent", doctor.Fail, "502 Bad Gateway", "Agent connection not found. Is agent up to date and connected?",
			"no agentk of agent 1234", "kubectl get pods -n gitlab-agent-", "version", "Access tokens")
	})
	t.Run("KAS down", func(t *testing.T) {
		h := healthy(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", "https://"+closedPort(t)+"/k8s-proxy")
		h.run("use-context", "group/agents:prod").expect(t, 0)
		expectCheck(t, run(h, ExitFailed), "kas-reachable", doctor.Fail, "connection refused", "KAS is down, or the server URL is wrong")
	})
	t.Run("plain http", func(t *testing.T) {
		h := healthy(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", "http://"+strings.TrimPrefix(kas.K8sProxyURL, "https://"))
		h.run("use-context", "group/agents:prod").expect(t, 0)
		expectCheck(t, run(h, ExitFailed), "kas-url", doctor.Fail, "is plain http", "You must be logged in to the server")
	})
	t.Run("gitlab-deploy current", func(t *testing.T) {
		h := healthy(t)
		h.env["KUBECONFIG"] = h.kubeconfig("job-gitlab-deploy.yaml", strings.TrimSuffix(kas.K8sProxyURL, "/"))
		rep := run(h, ExitFailed)
		expectCheck(t, rep, "current-context", doctor.Fail, "gitlab-deploy, the certificate-based cluster", "kubectl gitlab use-context NAME")
		h.env["KAS_CERTIFICATE"] = kas.CAFile
		h.env["KUBE_CONTEXT"] = "group/agents:prod"
		h.run("use-context").expect(t, 0)
		expectCheck(t, run(h, ExitOK), "current-context", doctor.Pass, "group/agents:prod, an agent context")
	})
	t.Run("exec context without a job token", func(t *testing.T) {
		h := healthy(t)
		h.inJob(kas)
		h.env["KAS_CERTIFICATE"] = kas.CAFile
		h.run("update-kubeconfig", "--use-context", "group/agents:prod").expect(t, 0)
		expectCheck(t, run(h, ExitOK), "credential", doctor.Pass, "exec kubectl-gitlab get-token --agent-id=1234: ci:1234:<job token>")
		delete(h.env, "CI_JOB_TOKEN")
		rep := run(h, ExitFailed)
		expectCheck(t, rep, "credential", doctor.Fail, "failed (exit code 1): no token for agent 1234", "kubectl gitlab login")
		h.env["PATH"] = filepath.Dir(fakeKubectl(h, "v1.33.1")) + "-none"
		expectCheck(t, run(h, ExitFailed), "credential", doctor.Fail, "not on PATH", "kubectl krew install gitlab")
	})
	t.Run("no rights in the namespace", func(t *testing.T) {
		h := healthy(t)
		expectCheck(t, run(h, ExitFailed, "--namespace", "other"), "rbac", doctor.Fail, "gitlab:ci_job:4242 may do nothing in namespace other",
			"kubectl gitlab access rbac --for-project-id 150 --clusterrole edit --namespace other")
	})
}

// TestDoctorTellsGitLabFailingFromUnknownPAT: KAS answers 500 "Failed to
// authorize user session" both when GitLab fails its authorize_proxy_user
// and when GitLab does not know the token. doctor asks GitLab about the
// token itself: a token GitLab knows means GitLab failed behind KAS (try
// again, the administrator), else the token needs a new login.
func TestDoctorTellsGitLabFailingFromUnknownPAT(t *testing.T) {
	kas := webKAS(t, func(c *testkas.Config) { c.GitLabRetryWait = time.Millisecond })
	h := newHarness(t).withKAS(kas)
	const unknownPAT = "glpat-doctorUnknownToken"
	h.secrets = append(h.secrets, narrowPAT, unknownPAT)
	fakeKubectl(h, "v1.33.1")
	h.env["GITLAB_TOKEN"] = narrowPAT
	h.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").expect(t, 0)

	kas.FailForKAS("/api/v4/internal/kubernetes/authorize_proxy_user", 503, 503, 503, 503, 503)
	rep := doctorReport(t, h.run("doctor", "-o", "json"))
	expectCheck(t, rep, "scopes", doctor.Pass)
	expectCheck(t, rep, "token", doctor.Fail, "Failed to authorize user session", "GitLab knows the token", "GitLab failed when KAS asked it",
		"have the GitLab\nadministrator check GitLab's health")

	h.env["GITLAB_TOKEN"] = unknownPAT
	rep = doctorReport(t, h.run("doctor", "-o", "json"))
	expectCheck(t, rep, "token", doctor.Fail, "Failed to authorize user session", "run kubectl gitlab login")
	if c, _ := rep.Get("token"); strings.Contains(c.Found, "GitLab knows the token") {
		t.Errorf("an unknown token taken for one GitLab knows: %+v", c)
	}
}
