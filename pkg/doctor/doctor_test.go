package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

const jobToken = "glcbt-64_doctorUNITsecret"

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// answer is a canned HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
}

func kasStatus(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": msg, "code": code})
	return string(b)
}

var (
	kas401     = answer{401, http.Header{"Gitlab-Unauthorized": {"true"}}, kasStatus(401, "GitLab Agent Server: Unauthorized. Trace ID: 1")}
	versionOK  = answer{200, nil, `{"gitVersion":"v1.33.0"}`}
	reviewOK   = answer{201, nil, `{"status":{"userInfo":{"username":"gitlab:ci_job:4242","groups":["gitlab:ci_job","gitlab:project:150","system:authenticated"]}}}`}
	rulesOK    = answer{201, nil, `{"status":{"resourceRules":[{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"]},{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}]}}`}
	rulesEmpty = answer{201, nil, `{"status":{"resourceRules":[{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews","selfsubjectrulesreviews"]}]}}`}
)

// fakeKAS answers by path; requests without credentials get KAS's 401.
type fakeKAS struct {
	answers map[string]answer
	peer    []*x509.Certificate
	sawAuth []string
}

func (f *fakeKAS) RoundTrip(r *http.Request) (*http.Response, error) {
	f.sawAuth = append(f.sawAuth, r.Header.Get("Authorization"))
	a, ok := f.answers[r.URL.Path]
	switch {
	case r.Header.Get("Authorization") == "":
		a = kas401
	case !ok:
		a = answer{404, nil, kasStatus(404, "not found")}
	}
	if a.header == nil {
		a.header = http.Header{}
	}
	return &http.Response{StatusCode: a.status, Header: a.header, Body: io.NopCloser(strings.NewReader(a.body)), Request: r,
		TLS: &tls.ConnectionState{PeerCertificates: f.peer}}, nil
}

func healthyKAS() *fakeKAS {
	return &fakeKAS{answers: map[string]answer{
		"/k8s-proxy/version": versionOK,
		"/k8s-proxy/apis/authentication.k8s.io/v1/selfsubjectreviews":     reviewOK,
		"/k8s-proxy/apis/authorization.k8s.io/v1/selfsubjectrulesreviews": rulesOK,
	}, peer: []*x509.Certificate{{DNSNames: []string{"kas.example"}, NotAfter: now.AddDate(0, 2, 0)}}}
}

// setup is one doctor run's world: a job kubeconfig, a home, fakes.
type setup struct {
	t    *testing.T
	dir  string
	env  map[string]string
	kas  *fakeKAS
	deps Deps
	opts Options
}

func newSetup(t *testing.T) *setup {
	dir := t.TempDir()
	s := &setup{t: t, dir: dir, env: map[string]string{}, kas: healthyKAS()}
	home := filepath.Join(dir, "home")
	os.MkdirAll(filepath.Join(home, ".kube"), 0o755)
	config := s.fixture("job.yaml")
	s.deps = Deps{
		LookupEnv: func(k string) (string, bool) { v, ok := s.env[k]; return v, ok },
		Home:      home,
		Now:       func() time.Time { return now },
		LookPath: func(name string) (string, error) {
			if name == "kubectl" || name == "kubectl-gitlab" {
				return "/usr/local/bin/" + name, nil
			}
			return "", exec.ErrNotFound
		},
		Run: func(context.Context, string, ...string) ([]byte, error) {
			return []byte(`{"clientVersion":{"gitVersion":"v1.33.1"}}`), nil
		},
		Transport: s.kas,
	}
	s.opts = Options{Kubeconfig: kubeconfig.Paths{Explicit: config}}
	return s
}

// fixture copies testdata/name to the kubeconfig, with the job token in
// place of JOBTOKEN.
func (s *setup) fixture(name string) string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		s.t.Fatal(err)
	}
	return s.write("kubeconfig", strings.ReplaceAll(string(data), "JOBTOKEN", jobToken))
}

func (s *setup) write(name, content string) string {
	path := filepath.Join(s.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return path
}

func (s *setup) run() *Report {
	s.t.Helper()
	r := Run(context.Background(), s.deps, s.opts)
	var out bytes.Buffer
	r.WriteText(&out)
	r.WriteJSON(&out)
	if strings.Contains(out.String(), jobToken) {
		s.t.Errorf("the report shows the job token:\n%s", out.String())
	}
	return r
}

func expect(t *testing.T, r *Report, name string, status Status, says ...string) {
	t.Helper()
	c, ok := r.Get(name)
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

func TestHealthy(t *testing.T) {
	s := newSetup(t)
	r := s.run()
	if r.Count(Pass) != len(r.Checks) || len(r.Checks) != 13 {
		var out bytes.Buffer
		r.WriteText(&out)
		t.Fatalf("not all passed:\n%s", out.String())
	}
	expect(t, r, "rbac", Pass, "in namespace apps, gitlab:ci_job:4242 may: get,list pods")
	expect(t, r, "identity", Pass, "gitlab:ci_job:4242 in 3 groups (access_as ci_job")
	var out bytes.Buffer
	r.WriteText(&out)
	for _, want := range []string{`Checking context "group/agents:prod"`, "✓ kubectl          kubectl v1.33.1 (/usr/local/bin/kubectl)", "All checks passed."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
	// The probe carries no credential; later requests do.
	if s.kas.sawAuth[0] != "" || s.kas.sawAuth[1] != "Bearer ci:1234:"+jobToken {
		t.Errorf("authorization headers: %q", s.kas.sawAuth)
	}
}

func TestKubectlCheck(t *testing.T) {
	cases := []struct {
		out    string
		err    error
		status Status
		says   string
	}{
		{`{"clientVersion":{"gitVersion":"v1.27.0"}}`, nil, Fail, "status code 426"},
		{`{"clientVersion":{"gitVersion":"v1.27.1-eks-2f008fe"}}`, nil, Fail, "use another kubectl version"},
		{`{"clientVersion":{"gitVersion":"v1.27.10"}}`, nil, Pass, "kubectl v1.27.10"},
		{`{"clientVersion":{"gitVersion":"v1.26.15"}}`, nil, Pass, "kubectl v1.26.15"},
		{`Client Version: v1.27.0`, nil, Warn, "printed no clientVersion.gitVersion"},
		{``, errors.New("exit status 1"), Warn, "does not tell its version"},
	}
	for _, c := range cases {
		s := newSetup(t)
		s.deps.Run = func(_ context.Context, path string, args ...string) ([]byte, error) {
			if strings.Join(args, " ") != "version --client -o json" {
				t.Errorf("ran %s %q", path, args)
			}
			return []byte(c.out), c.err
		}
		expect(t, s.run(), "kubectl", c.status, c.says)
	}
	s := newSetup(t)
	s.deps.LookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	expect(t, s.run(), "kubectl", Fail, "not on PATH", "install kubectl")
}

// unwritableFS is the real filesystem, where nothing may be written.
type unwritableFS struct{ OSFS }

func (unwritableFS) ProbeWrite(string) error {
	return &fs.PathError{Op: "open", Path: "x", Err: errors.New("permission denied")}
}

func TestCacheCheck(t *testing.T) {
	s := newSetup(t)
	cache := filepath.Join(s.deps.Home, ".kube", "cache")
	expect(t, s.run(), "kube-cache", Pass, cache+" does not exist yet; kubectl can create it")
	os.MkdirAll(cache, 0o755)
	expect(t, s.run(), "kube-cache", Pass, cache+" is writable")

	s.deps.FS = unwritableFS{}
	expect(t, s.run(), "kube-cache", Warn, cache+" is not writable (permission denied)", "more load on the cluster", "KUBECACHEDIR")
	os.RemoveAll(cache)
	expect(t, s.run(), "kube-cache", Warn, "cannot be created: "+filepath.Dir(cache)+" is not writable")
	s.deps.FS = nil

	os.WriteFile(cache, []byte("x"), 0o644)
	r := s.run()
	expect(t, r, "kube-cache", Warn, cache+" is a file, not a directory", "rm "+cache)
	if len(r.Failed()) != 0 {
		t.Errorf("a warning fails the run: %v", r.Failed())
	}

	s.env["KUBECACHEDIR"] = filepath.Join(s.dir, "kubeconfig", "cache")
	expect(t, s.run(), "kube-cache", Warn, "cannot be created: "+filepath.Join(s.dir, "kubeconfig")+" is a file")
}

func TestAnswersOfKAS(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		answer answer
		env    map[string]string
		expect map[string]Status
		says   map[string][]string
	}{
		{"token rejected", "/k8s-proxy/version", kas401, nil,
			map[string]Status{"token": Fail, "agent": Skip, "identity": Skip, "rbac": Skip},
			map[string][]string{"token": {"KAS rejected the token (401 Unauthorized, Gitlab-Unauthorized: true)", "CI_JOB_TOKEN is valid only while its job runs"}}},
		{"agent not allowed", "/k8s-proxy/version", answer{403, nil, kasStatus(403, "GitLab Agent Server: Forbidden: agentId is not allowed")},
			map[string]string{"CI_PROJECT_PATH": "group/app", "CI_ENVIRONMENT_NAME": "production"},
			map[string]Status{"token": Fail, "agent": Skip},
			map[string][]string{"token": {`CI_PROJECT_PATH (here: "group/app")`, `CI_ENVIRONMENT_NAME (here: "production")`, "CI_COMMIT_REF_PROTECTED (not set here)",
				"kubectl gitlab access explain .gitlab/agents/prod/config.yaml --agent-project group/agents"}}},
		{"client impersonation", "/k8s-proxy/version", answer{502, nil, kasStatus(502, "GitLab Agent Server: HTTP->gRPC: failed to read gRPC response: rpc error: code = Unavailable desc = gRPC -> HTTP: nested impersonation is not supported - agent is already configured to impersonate an identity")}, nil,
			map[string]Status{"token": Pass, "agent": Fail},
			map[string][]string{"agent": {"the agent refused client impersonation (502 Bad Gateway)", "nested impersonation is not supported", "--as"}}},
		{"client impersonation, KAS before 15.1", "/k8s-proxy/version", answer{400, nil, kasStatus(400, "GitLab Agent Server: impersonation is not allowed")}, nil,
			map[string]Status{"token": Pass, "agent": Fail},
			map[string][]string{"agent": {"the agent refused client impersonation (400 Bad Request)", "--as"}}},
		{"agent not connected", "/k8s-proxy/version", answer{502, nil, kasStatus(502, "GitLab Agent Server: HTTP->gRPC: failed to read gRPC response: rpc error: code = DeadlineExceeded desc = Agent connection not found. Is agent up to date and connected?")}, nil,
			map[string]Status{"token": Pass, "agent": Fail, "identity": Skip},
			map[string][]string{"agent": {"the agent is not connected to KAS (502 Bad Gateway", "Agent connection not found", "kubectl get pods -n gitlab-agent-", "version", "Access tokens"}}},
		{"KAS or a proxy unavailable", "/k8s-proxy/version", answer{503, nil, "no agent connected"}, nil,
			map[string]Status{"token": Pass, "agent": Fail, "identity": Skip},
			map[string][]string{"agent": {"503 Service Unavailable", "agent's pods"}}},
		{"GitLab refuses the job's user", "/k8s-proxy/version", answer{403, nil, kasStatus(403, "GitLab Agent Server: Forbidden: CI job token: HTTP status code: 403 for path /api/v4/job/allowed_agents")}, nil,
			map[string]Status{"token": Fail, "agent": Skip},
			map[string][]string{"token": {"GitLab refused KAS's check of the job token (403 Forbidden, relayed by KAS)", "GITLAB_USER_LOGIN", "blocked"}}},
		{"GitLab knows no such job", "/k8s-proxy/version", answer{404, nil, kasStatus(404, "GitLab Agent Server: Not found: agents for CI job token: HTTP status code: 404 for path /api/v4/job/allowed_agents")}, nil,
			map[string]Status{"token": Fail, "agent": Skip},
			map[string][]string{"token": {"GitLab answered KAS's check of the job token with 404 Not Found (relayed by KAS)", "KAS's configuration"}}},
		{"GitLab failed", "/k8s-proxy/version", answer{500, nil, kasStatus(500, "GitLab Agent Server: Failed to get allowed agents for CI job token: HTTP status code: 502 for path /api/v4/job/allowed_agents")}, nil,
			map[string]Status{"token": Fail, "agent": Skip},
			map[string][]string{"token": {"KAS could not ask GitLab about the job token (500 Internal Server Error)", "try again"}}},
		{"cluster 401", "/k8s-proxy/version", answer{401, nil, kasStatus(401, "Unauthorized")}, nil,
			map[string]Status{"token": Pass, "agent": Fail},
			map[string][]string{"agent": {"from the cluster, not from KAS", "impersonate verb"}}},
		{"426", "/k8s-proxy/version", answer{426, nil, ""}, nil,
			map[string]Status{"agent": Fail}, map[string][]string{"agent": {"426 Upgrade Required", "1.27.0 and 1.27.1"}}},
		{"no rights", "/k8s-proxy/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", rulesEmpty, nil,
			map[string]Status{"identity": Pass, "rbac": Fail},
			map[string][]string{"rbac": {"gitlab:ci_job:4242 may do nothing in namespace apps", "403 Forbidden from the cluster (not from KAS)",
				"kubectl gitlab access rbac --for-project-id 150 --clusterrole edit --namespace apps", "--namespace NS"}}},
		{"rules review forbidden", "/k8s-proxy/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
			answer{403, nil, kasStatus(403, `selfsubjectrulesreviews.authorization.k8s.io is forbidden: User "gitlab:ci_job:4242" cannot create resource`)}, nil,
			map[string]Status{"rbac": Fail}, map[string][]string{"rbac": {"cluster's RBAC forbids", "kubectl gitlab access rbac"}}},
		{"no SelfSubjectReview", "/k8s-proxy/apis/authentication.k8s.io/v1/selfsubjectreviews", answer{404, nil, kasStatus(404, "not found")}, nil,
			map[string]Status{"identity": Warn, "rbac": Skip}, map[string][]string{"identity": {"serves no SelfSubjectReview"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSetup(t)
			s.kas.answers[c.path] = c.answer
			for k, v := range c.env {
				s.env[k] = v
			}
			r := s.run()
			for name, status := range c.expect {
				expect(t, r, name, status, c.says[name]...)
			}
		})
	}
}

func TestTLSAndCredentialChecks(t *testing.T) {
	t.Run("certificate expires soon", func(t *testing.T) {
		s := newSetup(t)
		s.kas.peer[0].NotAfter = now.Add(3 * 24 * time.Hour)
		expect(t, s.run(), "tls", Warn, "kas.example expires 2026-11-28 (in 3 days)", "renewed")
	})
	t.Run("insecure", func(t *testing.T) {
		s := newSetup(t)
		s.fixture("job-insecure.yaml")
		r := s.run()
		expect(t, r, "kas-url", Warn, "insecure-skip-tls-verify", "--certificate-authority")
		expect(t, r, "tls", Warn, "not verified")
	})
	t.Run("token of another job", func(t *testing.T) {
		s := newSetup(t)
		s.env["CI_JOB_TOKEN"] = "glcbt-64_theRunningJob"
		expect(t, s.run(), "credential", Warn, "not this job's CI_JOB_TOKEN")
	})
	credential := func(expires time.Time) kas.ExecRunner {
		return func(context.Context, kas.ExecRequest) ([]byte, error) {
			return json.Marshal(map[string]any{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
				"status": map[string]any{"token": "pat:1234:" + jobToken, "expirationTimestamp": expires.Format(time.RFC3339)}})
		}
	}
	t.Run("exec", func(t *testing.T) {
		s := newSetup(t)
		s.fixture("job-exec.yaml")
		s.deps.Exec = credential(now.Add(time.Hour))
		expect(t, s.run(), "credential", Pass, "exec kubectl-gitlab get-token --agent-id=1234: pat:1234:<personal access token>, valid until 2026-11-25T13:00:00Z")
		s.deps.Exec = credential(now.Add(-time.Hour))
		r := s.run()
		expect(t, r, "credential", Fail, "which expired")
		expect(t, r, "token", Skip)
	})
	t.Run("exec plugin not on PATH", func(t *testing.T) {
		s := newSetup(t)
		s.fixture("job-exec.yaml")
		s.deps.LookPath = func(name string) (string, error) {
			if name == "kubectl" {
				return "/usr/bin/kubectl", nil
			}
			return "", errors.New("not found")
		}
		expect(t, s.run(), "credential", Fail, `kubectl runs "kubectl-gitlab" for this context's credential, and it is not on PATH`, "install kubectl-gitlab with krew")
	})
	t.Run("exec plugin fails", func(t *testing.T) {
		s := newSetup(t)
		s.fixture("job-exec.yaml")
		s.deps.Exec = func(context.Context, kas.ExecRequest) ([]byte, error) {
			return nil, &kas.ExecError{ExitCode: 1, Stderr: "error: no token for agent 1234\n  run: kubectl gitlab login\n"}
		}
		expect(t, s.run(), "credential", Fail, "failed (exit code 1): no token for agent 1234", "run: kubectl gitlab login")
	})
	t.Run("not an agent token", func(t *testing.T) {
		s := newSetup(t)
		s.fixture("job-legacy-token.yaml")
		r := s.run()
		expect(t, r, "context", Fail, "no agent contexts in", "update-kubeconfig")
		expect(t, r, "credential", Skip)
	})
}

func TestContextChecks(t *testing.T) {
	s := newSetup(t)
	s.fixture("job-gitlab-deploy.yaml")
	r := s.run()
	expect(t, r, "current-context", Fail, "gitlab-deploy, the certificate-based cluster", "group/agents:prod (agent 1234)", "KUBE_CONTEXT")
	expect(t, r, "context", Fail, "2 agent contexts in", "says which one", "kubectl gitlab use-context NAME", "group/agents:review (agent 5678)")
	expect(t, r, "kas-url", Skip)

	s.opts.Context = "group/agents:review"
	r = s.run()
	expect(t, r, "context", Pass, "group/agents:review (--context): agent 5678")
	expect(t, r, "token", Pass, "ci:5678:<job token>")

	s.opts.Context = "gitlab-deploy"
	expect(t, s.run(), "context", Fail, `"gitlab-deploy" is not an agent context`, "group/agents:review")
	s.opts.Context = "nope"
	expect(t, s.run(), "context", Fail, `no context named "nope"`)

	s.opts.Context = ""
	s.env["KUBE_CONTEXT"] = "group/agents:prod"
	r = s.run()
	expect(t, r, "current-context", Fail, "run kubectl gitlab use-context: it switches to $KUBE_CONTEXT (group/agents:prod)")
	expect(t, r, "context", Pass, "group/agents:prod ($KUBE_CONTEXT)")

	s.fixture("job-no-current-context.yaml")
	r = s.run()
	expect(t, r, "current-context", Fail, "none is set")
	expect(t, r, "context", Pass, "group/agents:prod ($KUBE_CONTEXT)")
	delete(s.env, "KUBE_CONTEXT")
	expect(t, s.run(), "context", Pass, "group/agents:prod (the only agent context)")

	s.fixture("job-current-context-gone.yaml")
	r = s.run()
	expect(t, r, "current-context", Fail, `current-context "gone" names no context`)
	expect(t, r, "context", Pass, "group/agents:prod (the only agent context)")

	s.write("kubeconfig", "clusters: [")
	r = s.run()
	expect(t, r, "kubeconfig", Fail, "not valid YAML", "fix the file by hand")
	expect(t, r, "context", Skip)
	s.opts.Kubeconfig = kubeconfig.Paths{Env: filepath.Join(s.dir, "missing")}
	expect(t, s.run(), "kubeconfig", Fail, "does not exist", "KUBECONFIG is set when an agent is shared")

	s = newSetup(t)
	s.fixture("job-plain-http.yaml")
	expect(t, s.run(), "kas-url", Fail, "http://kas.example/k8s-proxy is plain http", "You must be logged in to the server")
}
