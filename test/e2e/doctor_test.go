package e2e

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// doctorCheck is one check of kubectl gitlab doctor -o json.
type doctorCheck struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Found  string `json:"found"`
	Fix    string `json:"fix"`
}

type doctorReport struct {
	Context string         `json:"context"`
	Checks  []doctorCheck  `json:"checks"`
	Summary map[string]int `json:"summary"`
}

func decodeDoctor(t *testing.T, r result) doctorReport {
	t.Helper()
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, r)
	}
	return rep
}

// expectCheck asserts a check's status, and that what it found and its fix
// say all of wants.
func (rep doctorReport) expectCheck(t *testing.T, name, status string, wants ...string) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name != name {
			continue
		}
		if c.Status != status {
			t.Errorf("check %s: %s, want %s: %s\nfix: %s", name, c.Status, status, c.Found, c.Fix)
		}
		for _, w := range wants {
			if !strings.Contains(c.Found+"\n"+c.Fix, w) {
				t.Errorf("check %s does not say %q:\n%s\nfix: %s", name, w, c.Found, c.Fix)
			}
		}
		return
	}
	t.Errorf("no check %s in %+v", name, rep.Checks)
}

// check returns the named check.
func (rep doctorReport) check(t *testing.T, name string) doctorCheck {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", name, rep.Checks)
	return doctorCheck{}
}

// closedAddress is a loopback address where nothing listens.
func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDoctorAgainstRealCluster: against a real kube-apiserver behind
// testkas, doctor passes every check for a healthy job, and for each
// prepared failure names it and its fix, with exit code 1 (0 when there are
// only warnings).
func TestDoctorAgainstRealCluster(t *testing.T) {
	c := startCluster(t)
	k := kubectls(t)[0]
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")
	var all []result
	record := func(r result) result {
		all = append(all, r)
		return r
	}
	defer func() {
		for _, secret := range []string{jobToken, deniedJobToken, "glcbt-64_E2EexpiredJOBtoken"} {
			noSecret(t, secret, all...)
		}
	}()
	// healthy is a job that may read pods in its context's namespace.
	healthy := func(t *testing.T) *env {
		e := c.jobEnv(t, k, jobToken)
		e.run(k.Path, "gitlab", "use-context", "group/agents:prod", "--namespace", "ns").ok(t)
		e.run(k.Path, "get", "pods").ok(t, "web-0") // also fills ~/.kube/cache
		return e
	}
	doctor := func(t *testing.T, e *env, wantCode int, args ...string) doctorReport {
		t.Helper()
		r := record(e.run(k.Path, append([]string{"gitlab", "doctor", "-o", "json"}, args...)...))
		if r.code != wantCode {
			t.Fatalf("exit code %d, want %d\n%s", r.code, wantCode, r)
		}
		return decodeDoctor(t, r)
	}

	t.Run("healthy", func(t *testing.T) {
		e := healthy(t)
		r := record(e.run(k.Path, "gitlab", "doctor")).ok(t, "✓ kubectl", "✓ TLS", "✓ token accepted", "✓ agent answers",
			"✓ identity         gitlab:ci_job:4242 in 9 groups (access_as ci_job", "✓ RBAC", "may: get,list,watch pods", "All checks passed.")
		if strings.Contains(r.stdout, "✗") || strings.Contains(r.stdout, "!") {
			t.Errorf("a check did not pass:\n%s", r)
		}
		rep := doctor(t, e, 0)
		if rep.Context != "group/agents:prod" || rep.Summary["pass"] != len(rep.Checks) || len(rep.Checks) != 13 {
			t.Errorf("not every check passed: %+v", rep)
		}
	})

	t.Run("untrusted CA", func(t *testing.T) {
		e := newEnv(t)
		e.jobKubeconfig("job-agents.yaml", c.kas.K8sProxyURL, jobToken)
		e.run(k.Path, "gitlab", "use-context", "group/agents:prod").ok(t)
		c.kas.Reset()
		r := record(e.run(k.Path, "gitlab", "doctor"))
		r.fails(t, "error: doctor: failed: TLS")
		if !strings.Contains(r.stdout, "✗ TLS") || !strings.Contains(r.stdout, "x509: certificate signed by unknown authority") {
			t.Errorf("no ✗ TLS line:\n%s", r)
		}
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "kas-reachable", "pass")
		rep.expectCheck(t, "tls", "fail", "x509: certificate signed by unknown authority",
			"kubectl gitlab use-context group/agents:prod --certificate-authority FILE", "$KAS_CERTIFICATE")
		rep.expectCheck(t, "token", "skip", "no secret is sent")
		if c.kas.SawBearer("ci:1234:" + jobToken) {
			t.Errorf("doctor sent the token over an untrusted connection")
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		e := c.jobEnv(t, k, "glcbt-64_E2EexpiredJOBtoken")
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "credential", "pass", "ci:1234:<job token>")
		rep.expectCheck(t, "token", "fail", "KAS rejected the token (401 Unauthorized, Gitlab-Unauthorized: true)",
			"CI_JOB_TOKEN is valid only while its job runs")
	})

	t.Run("agent not allowed", func(t *testing.T) {
		e := c.jobEnv(t, k, deniedJobToken)
		e.vars["CI_PROJECT_PATH"] = "group1/group1-1/project1"
		e.vars["CI_ENVIRONMENT_NAME"] = "review/x"
		e.vars["CI_COMMIT_REF_PROTECTED"] = "false"
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "token", "fail", "403 Forbidden", "agentId is not allowed",
			`CI_PROJECT_PATH (here: "group1/group1-1/project1")`, `CI_ENVIRONMENT_NAME (here: "review/x")`, `CI_COMMIT_REF_PROTECTED (here: "false")`,
			"kubectl gitlab access explain .gitlab/agents/prod/config.yaml --agent-project group/agents")
	})

	t.Run("KAS down", func(t *testing.T) {
		e := newEnv(t)
		e.jobKubeconfig("job-agents.yaml", "https://"+closedAddress(t)+"/k8s-proxy", jobToken)
		e.run(k.Path, "gitlab", "use-context", "group/agents:prod", "--certificate-authority", c.kas.CAFile).ok(t)
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "kas-reachable", "fail", "connection refused", "KAS is down, or the server URL is wrong")
		rep.expectCheck(t, "tls", "skip")
	})

	t.Run("kubectl 1.27.0", func(t *testing.T) {
		e := healthy(t)
		fake := writeFile(t, filepath.Join(e.dir, "fake-bin", "kubectl"), "#!/bin/sh\n"+
			`echo '{"clientVersion":{"major":"1","minor":"27","gitVersion":"v1.27.0","platform":"linux/amd64"},"kustomizeVersion":"v5.0.1"}'`+"\n", 0o755)
		e.vars["PATH"] = filepath.Dir(fake) + string(os.PathListSeparator) + e.vars["PATH"]
		r := record(e.run(plugin, "doctor", "-o", "json"))
		if r.code != 1 {
			t.Fatalf("want exit 1:\n%s", r)
		}
		rep := decodeDoctor(t, r)
		rep.expectCheck(t, "kubectl", "fail", "kubectl v1.27.0 ("+fake+")", "the status code 426", "use another kubectl version")
		if rep.Summary["fail"] != 1 {
			t.Errorf("only the kubectl check should fail: %+v", rep)
		}
	})

	t.Run("kube cache is a file", func(t *testing.T) {
		e := healthy(t)
		cache := filepath.Join(e.vars["HOME"], ".kube", "cache")
		if err := os.RemoveAll(cache); err != nil {
			t.Fatal(err)
		}
		writeFile(t, cache, "not a directory\n", 0o644)
		// A warning alone: exit code 0.
		rep := doctor(t, e, 0)
		rep.expectCheck(t, "kube-cache", "warn", cache+" is a file, not a directory", "fetch discovery on every call", "rm "+cache)
		r := record(e.run(k.Path, "gitlab", "doctor")).ok(t, "! kube cache", "0 checks failed, 1 warning.")
		_ = r
	})

	t.Run("kube cache not writable", func(t *testing.T) {
		e := healthy(t)
		cache := filepath.Join(e.vars["HOME"], ".kube", "cache")
		cmd := exec.Command(plugin, "doctor", "-o", "json")
		cmd.Env = e.list()
		if os.Getuid() == 0 {
			// Root writes anywhere: run as nobody, with what it must read
			// readable. The cache directory stays root's 0755.
			for _, dir := range []string{pluginDir, e.dir, filepath.Dir(e.dir), e.vars["HOME"], filepath.Dir(cache)} {
				os.Chmod(dir, 0o755)
			}
			os.Chmod(e.vars["KUBECONFIG"], 0o644)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		} else {
			os.Chmod(cache, 0o555)
			defer os.Chmod(cache, 0o755)
		}
		out, _ := cmd.Output()
		rep := decodeDoctor(t, result{cmd: "kubectl-gitlab doctor -o json", stdout: string(out)})
		rep.expectCheck(t, "kube-cache", "warn", cache+" is not writable (permission denied)", "KUBECACHEDIR")
	})

	t.Run("gitlab-deploy current", func(t *testing.T) {
		e := newEnv(t)
		e.jobKubeconfig("job-gitlab-deploy.yaml", c.kas.K8sProxyURL, jobToken)
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "current-context", "fail", "gitlab-deploy, the certificate-based cluster", "kubectl gitlab use-context NAME", "group/agents:prod (agent 1234)")
		rep.expectCheck(t, "context", "fail", "2 agent contexts in", "kubectl gitlab use-context NAME")
		e.vars["KUBE_CONTEXT"] = "group/agents:prod"
		e.vars["SSL_CERT_FILE"] = c.kas.CAFile
		rep = doctor(t, e, 1)
		rep.expectCheck(t, "current-context", "fail", "gitlab-deploy", "run kubectl gitlab use-context: it switches to $KUBE_CONTEXT (group/agents:prod)")
		rep.expectCheck(t, "context", "pass", "group/agents:prod ($KUBE_CONTEXT)")
		rep.expectCheck(t, "rbac", "fail", "may do nothing in namespace default")
		record(e.run(k.Path, "gitlab", "use-context")).ok(t)
		rep = doctor(t, e, 1)
		rep.expectCheck(t, "current-context", "pass", "group/agents:prod, an agent context")
	})

	t.Run("cluster RBAC forbids", func(t *testing.T) {
		e := healthy(t)
		e.run(k.Path, "gitlab", "use-context", "group/agents:prod", "--namespace", "other").ok(t)
		e.run(k.Path, "get", "pods").fails(t, `pods is forbidden: User "gitlab:ci_job:4242" cannot list resource "pods" in API group "" in the namespace "other"`)
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "token", "pass", "KAS accepted ci:1234:<job token>")
		rep.expectCheck(t, "rbac", "fail", "gitlab:ci_job:4242 may do nothing in namespace other", "403 Forbidden from the cluster (not from KAS)",
			"kubectl gitlab access rbac --for-project-id 150 --clusterrole edit --namespace other")
		// --namespace checks another namespace.
		doctor(t, e, 0, "--namespace", "ns").expectCheck(t, "rbac", "pass", "in namespace ns, gitlab:ci_job:4242 may: get,list,watch pods")
	})

	t.Run("plain http", func(t *testing.T) {
		e := newEnv(t)
		e.jobKubeconfig("job-agents.yaml", "http://"+strings.TrimPrefix(c.kas.K8sProxyURL, "https://"), jobToken)
		e.run(k.Path, "gitlab", "use-context", "group/agents:prod").ok(t)
		rep := doctor(t, e, 1)
		rep.expectCheck(t, "kas-url", "fail", "is plain http", "You must be logged in to the server")
	})
}
