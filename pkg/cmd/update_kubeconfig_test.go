package cmd

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

func jobServer(t *testing.T, metadata string) *testkas.Server {
	return jobServerWith(t, func(c *testkas.Config) { c.Metadata = metadata })
}

// k8sProxyPAT has only the scope login asks for: GitLab refuses it
// /metadata (403 insufficient_scope).
const k8sProxyPAT = "glpat-k8sProxyOnlySecret"

func jobServerWith(t *testing.T, configure func(*testkas.Config)) *testkas.Server {
	cfg := testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra", DefaultNamespace: "apps"},
			{ID: 42, Name: "shared", ConfigProjectID: 79, ConfigProjectPath: "other-group/cluster-management", DefaultNamespace: "team-a"},
			{ID: 91, Name: "infra", ConfigProjectID: 80, ConfigProjectPath: "other/cluster-management", DefaultNamespace: "team-a"},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, ProjectID: 150, AllowedAgents: []int64{1234, 5678, 42, 91}}},
		PATs: []testkas.PAT{
			{Token: "glpat-workstationSecret", ID: 9, Username: "alice", Scopes: []string{"k8s_proxy", "read_api"}, Agents: []int64{1234}},
			{Token: k8sProxyPAT, ID: 10, Username: "alice", Scopes: []string{"k8s_proxy"}, Agents: []int64{1234}},
		},
	}
	configure(&cfg)
	return testkas.Start(t, cfg)
}

// inJob sets the variables GitLab gives a CI job.
func (h *harness) inJob(kas *testkas.Server) {
	h.env["CI_JOB_TOKEN"] = jobToken
	h.env["CI_API_V4_URL"] = kas.URL + "/api/v4"
	h.env["CI_SERVER_URL"] = kas.URL
}

func (h *harness) withKAS(kas *testkas.Server) *harness {
	h.transport = kas.Client().Transport
	return h
}

// assertNoSecretInFiles greps every byte of every file under dir.
func assertNoSecretInFiles(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("%s contains a secret", path)
			}
		}
		return nil
	})
}

func TestUpdateKubeconfigInJob(t *testing.T) {
	kas := jobServer(t, testkas.MetadataK8sProxyURL)
	h := newHarness(t).withKAS(kas)
	h.inJob(kas)
	path := h.kubeconfig("job-default-namespace.yaml", kas.K8sProxyURL)
	h.env["KUBECONFIG"] = path

	r := h.run("update-kubeconfig", "--use-context", "prod")
	r.expect(t, 0, "group/agents:prod (agent 1234, namespace apps)", "group/sub/infra:agent-5678 (agent 5678, namespace apps)",
		"other-group/cluster-management:shared", `Switched to context "group/agents:prod"`)
	assertNoSecretInFiles(t, h.dir, jobToken)

	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "group/agents:prod" || len(cfg.Contexts) != 4 {
		t.Fatalf("contexts: %v, current %q", cfg.Contexts, cfg.CurrentContext)
	}
	// GitLab's names are kept; the agent it did not render gets <project>:agent-<id>.
	for name, agent := range map[string]string{"group/agents:prod": "agent:1234", "other-group/cluster-management:shared": "agent:42", "group/sub/infra:agent-5678": "agent:5678"} {
		c := cfg.Contexts[name]
		if c == nil || c.AuthInfo != agent {
			t.Errorf("context %s = %+v", name, c)
		}
	}
	u := cfg.AuthInfos["agent:1234"]
	if u.Token != "" || u.Exec == nil || u.Exec.Command != "kubectl-gitlab" || u.Exec.APIVersion != "client.authentication.k8s.io/v1" ||
		u.Exec.InteractiveMode != "Never" || strings.Join(u.Exec.Args, " ") != "get-token --agent-id=1234" || u.Exec.InstallHint == "" || len(u.Exec.Env) != 0 {
		t.Errorf("exec entry = %+v", u.Exec)
	}
	if server := cfg.Clusters["gitlab"].Server; strings.TrimSuffix(server, "/") != strings.TrimSuffix(kas.K8sProxyURL, "/") {
		t.Errorf("server = %q, want GitLab's %q", server, kas.K8sProxyURL) // never one from /metadata
	}

	gc := h.run("get-contexts")
	gc.expect(t, 0, "group/agents:prod", "exec")
	if strings.Contains(gc.stdout, "ci-token") {
		t.Errorf("a context still carries the job token:\n%s", gc.stdout)
	}
	// Running it again changes nothing.
	before := mustRead(t, path)
	h.run("update-kubeconfig").expect(t, 0)
	if mustRead(t, path) != before {
		t.Errorf("a second run changed the file")
	}
}

// TestUpdateKubeconfigKeepsGitLabsBytes: in a job, update-kubeconfig
// replaces the job tokens and leaves every other byte GitLab wrote, such
// as the trailing slash of Omnibus's k8s-proxy URL.
func TestUpdateKubeconfigKeepsGitLabsBytes(t *testing.T) {
	kas := jobServer(t, testkas.MetadataK8sProxyURL)
	h := newHarness(t).withKAS(kas)
	h.inJob(kas)
	path := h.kubeconfig("job-default-namespace.yaml", kas.K8sProxyURL)
	h.env["KUBECONFIG"] = path
	h.run("update-kubeconfig").expect(t, 0)
	if data := mustRead(t, path); !strings.Contains(data, "    server: "+kas.K8sProxyURL+"\n") {
		t.Errorf("GitLab's server line is gone:\n%s", data)
	}
}

// TestUpdateKubeconfigChangesOnlyTheTokens: on the bytes GitLab renders
// (testkas's renderer follows lib/gitlab/kubernetes/kubeconfig/template.rb
// and Psych), update-kubeconfig replaces each user's job token with an
// exec entry and leaves every other byte: the server with or without its
// trailing slash, Psych's quoting ('123', "y"), gitlab-deploy,
// current-context last.
func TestUpdateKubeconfigChangesOnlyTheTokens(t *testing.T) {
	for _, kasOwnHost := range []bool{false, true} {
		t.Run(map[bool]string{false: "Omnibus", true: "KAS on its own host"}[kasOwnHost], func(t *testing.T) {
			kas := jobServerWith(t, func(c *testkas.Config) {
				c.KASOwnHost = kasOwnHost
				c.Agents[0].DefaultNamespace = "123"
				c.Agents[1].DefaultNamespace = "y"
				c.Jobs[0].CertificateCluster = &testkas.CertificateCluster{Server: "https://35.1.2.3", CAPEM: []byte("ca"), Token: "eyJhbGciOiJSUzI1NiJ9.x.y", Namespace: "my-app-123-production"}
			})
			h := newHarness(t).withKAS(kas)
			h.inJob(kas)
			gitlabBytes, err := kas.JobKubeconfig(jobToken)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(h.dir, "kubeconfig")
			if err := os.WriteFile(path, gitlabBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			h.env["KUBECONFIG"] = path
			h.run("update-kubeconfig").expect(t, 0, "KAS: "+kas.K8sProxyURL+" (from cluster gitlab of the job's kubeconfig")
			after := mustRead(t, path)
			// Put the job tokens back where the exec entries are: the
			// rest must be GitLab's bytes.
			exec := regexp.MustCompile(`(?m)^- name: agent:(\d+)\n  user:\n    exec:\n(?:      .*\n)+`)
			back := exec.ReplaceAllString(after, "- name: agent:$1\n  user:\n    token: ci:$1:"+jobToken+"\n")
			if back != string(gitlabBytes) {
				t.Errorf("bytes other than the tokens changed:\n%s\nGitLab wrote:\n%s", after, gitlabBytes)
			}
			if n := len(exec.FindAllString(after, -1)); n != 4 {
				t.Errorf("%d exec entries, want 4:\n%s", n, after)
			}
			if _, err := clientcmd.Load([]byte(after)); err != nil {
				t.Errorf("kubectl cannot load it: %v", err)
			}
		})
	}
}

// TestUpdateKubeconfigKASURL: where the k8s-proxy URL comes from. GitLab
// 17.6+ says it in /metadata (kas.externalK8sProxyUrl); before, it derives
// it from kas.externalUrl. Omnibus puts KAS under GitLab's host, the Helm
// chart on its own host. /metadata refuses job tokens (401) and
// k8s_proxy-only tokens (403).
func TestUpdateKubeconfigKASURL(t *testing.T) {
	cases := []struct {
		name, metadata string
		kasOwnHost     bool
		token          string // GITLAB_TOKEN; "" runs in a job
		code           int
		stderr         []string
		env            bool // K8S_PROXY_URL is set, as GitLab's docs have a job set it
	}{
		{name: "17.6+, Omnibus", metadata: testkas.MetadataK8sProxyURL, token: "glpat-workstationSecret"},
		{name: "17.6+, KAS on its own host", metadata: testkas.MetadataK8sProxyURL, kasOwnHost: true, token: "glpat-workstationSecret"},
		{name: "before 17.6, Omnibus", metadata: testkas.MetadataLegacy, token: "glpat-workstationSecret"},
		{name: "before 17.6, KAS on its own host", metadata: testkas.MetadataLegacy, kasOwnHost: true, token: "glpat-workstationSecret"},
		{name: "KAS disabled", metadata: testkas.MetadataKASDisabled, token: "glpat-workstationSecret", code: 1, stderr: []string{"agent server (KAS) is disabled"}},
		{name: "k8s_proxy-only token", token: k8sProxyPAT, stderr: []string{"note: the KAS URL", "is a guess", "403 Forbidden", "--kas-url"}},
		{name: "in a job, no kubeconfig", stderr: []string{"note: the KAS URL", "is a guess", "takes no job token", "--kas-url", "K8S_PROXY_URL"}},
		{name: "in a job, no kubeconfig, K8S_PROXY_URL", kasOwnHost: true, env: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kas := jobServerWith(t, func(cfg *testkas.Config) { cfg.Metadata, cfg.KASOwnHost = c.metadata, c.kasOwnHost })
			h := newHarness(t).withKAS(kas)
			args := []string{"update-kubeconfig", "--agent", "1234"}
			if c.token == "" {
				h.inJob(kas)
				if c.env {
					h.env["K8S_PROXY_URL"] = kas.K8sProxyURL
				}
			} else {
				h.env["GITLAB_TOKEN"] = c.token
				h.secrets = append(h.secrets, c.token)
				args = append(args, "--gitlab-url", kas.URL)
			}
			path := filepath.Join(h.dir, "config")
			h.env["KUBECONFIG"] = path
			r := h.run(args...)
			if c.code != 0 {
				r.expectErr(t, c.code, c.stderr...)
				if _, err := os.Stat(path); err == nil {
					t.Errorf("a kubeconfig was written")
				}
				return
			}
			r.expect(t, 0)
			for _, s := range c.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if len(c.stderr) == 0 && strings.Contains(r.stderr, "note:") {
				t.Errorf("a note on stderr: %s", r.stderr)
			}
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// kubectl joins request paths alike with or without the
			// trailing slash, so only the slash may differ.
			if len(cfg.Clusters) != 1 {
				t.Fatalf("clusters: %v", cfg.Clusters)
			}
			for _, cluster := range cfg.Clusters {
				if strings.TrimSuffix(cluster.Server, "/") != strings.TrimSuffix(kas.K8sProxyURL, "/") {
					t.Errorf("server = %s, want %s", cluster.Server, kas.K8sProxyURL)
				}
			}
			if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
				t.Errorf("new kubeconfig has mode %v", info.Mode().Perm())
			}
		})
	}
}

func TestUpdateKubeconfigRetriesAndRefuses(t *testing.T) {
	t.Run("503 twice then 200", func(t *testing.T) {
		kas := jobServer(t, "")
		h := newHarness(t).withKAS(kas)
		h.inJob(kas)
		h.env["KUBECONFIG"] = filepath.Join(h.dir, "config")
		kas.Fail("/api/v4/job/allowed_agents", 503, 503)
		h.run("update-kubeconfig").expect(t, 0, "group/agents:agent-1234")
	})
	t.Run("401", func(t *testing.T) {
		kas := jobServer(t, "")
		h := newHarness(t).withKAS(kas)
		h.inJob(kas)
		h.env["CI_JOB_TOKEN"] = "glcbt-64_expiredJobToken"
		path := h.kubeconfig("job-agents.yaml", kas.K8sProxyURL)
		h.env["KUBECONFIG"] = path
		before := mustRead(t, path)
		r := h.run("update-kubeconfig")
		r.expectErr(t, 1, "GET /api/v4/job/allowed_agents: 401 Unauthorized", "CI_JOB_TOKEN is valid only while the job runs")
		if strings.Contains(r.stderr, "expiredJobToken") {
			t.Errorf("the token reached stderr")
		}
		if mustRead(t, path) != before {
			t.Errorf("the kubeconfig changed")
		}
	})
	t.Run("agent not allowed", func(t *testing.T) {
		kas := jobServer(t, "")
		h := newHarness(t).withKAS(kas)
		h.inJob(kas)
		h.env["KUBECONFIG"] = filepath.Join(h.dir, "config")
		h.run("update-kubeconfig", "--agent", "777").expectErr(t, 1, "this job may not use agent 777; it may use: 1234, 5678, 42, 91")
	})
}

func TestUpdateKubeconfigWorkstation(t *testing.T) {
	kas := jobServer(t, "")
	h := newHarness(t).withKAS(kas)
	h.env["GITLAB_TOKEN"] = "glpat-workstationSecret"
	path := filepath.Join(h.dir, "home", ".kube", "config")
	r := h.run("update-kubeconfig", "--gitlab-url", kas.URL, "--project", "group/agents", "--use-context", "prod")
	r.expect(t, 0, "group/agents:prod (agent 1234)")
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("~/.kube/config not written: %v", err)
	}
	u := cfg.AuthInfos[cfg.Contexts["group/agents:prod"].AuthInfo]
	if u.Exec == nil || strings.Join(u.Exec.Args, " ") != "get-token --agent-id=1234 --gitlab-url="+kas.URL {
		t.Errorf("exec = %+v", u.Exec)
	}
	assertNoSecretInFiles(t, h.dir, "glpat-workstationSecret")

	h2 := newHarness(t).withKAS(kas)
	h2.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234").expect(t, 0, "127.0.0.1")
	h2.run("update-kubeconfig", "--agent", "1234").expectErr(t, 2, "--gitlab-url")
	h2.run("update-kubeconfig", "--gitlab-url", kas.URL).expectErr(t, 2, "--agent ID or --project PATH")
	// No credential may read GitLab's API: not bad input (exit 1, as when
	// GitLab refuses a token), and the three ways are named.
	h2.run("update-kubeconfig", "--gitlab-url", kas.URL, "--project", "group/agents").expectErr(t, 1, "needs a credential that may read GitLab's API",
		"KUBECTL_GITLAB_TOKEN=<token>", "login --web --keep-refresh-token", "add --web")
	h2.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--web").expectErr(t, 2, "--web approves finding a project's agents")
}

// TestUseContextCreatesMissingAgentContext: the four "kubectl config"
// lines of GitLab's docs (gitlab-deploy in the way, agent context wanted)
// become one command, and the server GitLab wrote stays as it is, whether
// KAS sits under GitLab's host (Omnibus) or on its own (Helm chart).
func TestUseContextCreatesMissingAgentContext(t *testing.T) {
	for _, kasOwnHost := range []bool{false, true} {
		t.Run(map[bool]string{false: "Omnibus", true: "KAS on its own host"}[kasOwnHost], func(t *testing.T) {
			kas := jobServerWith(t, func(c *testkas.Config) { c.KASOwnHost = kasOwnHost })
			h := newHarness(t).withKAS(kas)
			h.inJob(kas)
			path := h.kubeconfig("job-gitlab-deploy.yaml", kas.K8sProxyURL)
			h.env["KUBECONFIG"] = path
			h.env["KAS_CERTIFICATE"] = kas.CAFile
			r := h.run("use-context", "--agent-id", "91")
			r.expect(t, 0, "Created context other/cluster-management:agent-91", `Switched to context "other/cluster-management:agent-91" (agent 91)`, "Embedded the CA bundle")
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c := cfg.Contexts["other/cluster-management:agent-91"]
			if cfg.CurrentContext != "other/cluster-management:agent-91" || c == nil || c.Namespace != "team-a" || cfg.AuthInfos[c.AuthInfo].Exec == nil {
				t.Errorf("context = %+v, current %q", c, cfg.CurrentContext)
			}
			same := func(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }
			if server := cfg.Clusters[c.Cluster].Server; !same(server, kas.K8sProxyURL) {
				t.Errorf("the new context's server is %s, not GitLab's %s", server, kas.K8sProxyURL)
			}
			if server := cfg.Clusters["gitlab"].Server; !same(server, kas.K8sProxyURL) {
				t.Errorf("GitLab's cluster now has server %s, not %s", server, kas.K8sProxyURL)
			}
			h.run("use-context", "--agent-id", "4444").expectErr(t, 1, "may not use agent 4444")
		})
	}
}

// TestUpdateKubeconfigEveryPage: GitLab pages a project's agents (20 by
// default, at most 100); update-kubeconfig --project writes them all, and
// --agent finds one on page 3.
func TestUpdateKubeconfigEveryPage(t *testing.T) {
	for _, c := range []struct {
		agents int
		only   string
		want   int
	}{{45, "", 45}, {250, "1217", 1}} {
		t.Run(fmt.Sprintf("%d agents %s", c.agents, c.only), func(t *testing.T) {
			agents := make([]testkas.Agent, c.agents)
			for i := range agents {
				agents[i] = testkas.Agent{ID: int64(1000 + i), Name: fmt.Sprintf("agent-%03d", i), ConfigProjectID: 77, ConfigProjectPath: "group/agents"}
			}
			kas := testkas.Start(t, testkas.Config{Agents: agents,
				PATs: []testkas.PAT{{Token: "glpat-workstationSecret", ID: 9, Username: "alice", Scopes: []string{"k8s_proxy", "read_api"}}}})
			h := newHarness(t).withKAS(kas)
			h.env["GITLAB_TOKEN"] = "glpat-workstationSecret"
			args := []string{"update-kubeconfig", "--gitlab-url", kas.URL, "--project", "group/agents"}
			if c.only != "" {
				args = append(args, "--agent", c.only)
			}
			h.run(args...).expect(t, 0)
			cfg, err := clientcmd.LoadFromFile(filepath.Join(h.dir, "home", ".kube", "config"))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Contexts) != c.want {
				t.Errorf("%d contexts, want %d", len(cfg.Contexts), c.want)
			}
			if c.only != "" && cfg.Contexts["group/agents:agent-217"] == nil {
				t.Errorf("agent 1217 (page 3) not written: %v", cfg.Contexts)
			}
		})
	}
}

// TestUpdateKubeconfigAsksMetadataOnlyWhenItMay: GitLab answers
// /metadata only to read_user, read_api and api tokens. login stores the
// token's scopes, so a k8s_proxy-only token does not ask; one with
// read_api does.
func TestUpdateKubeconfigAsksMetadataOnlyWhenItMay(t *testing.T) {
	for _, c := range []struct {
		token string
		asks  bool
	}{{k8sProxyPAT, false}, {"glpat-workstationSecret", true}} {
		kas := jobServerWith(t, func(cfg *testkas.Config) { cfg.KASOwnHost = true })
		h := newHarness(t).withKAS(kas)
		h.secrets = append(h.secrets, c.token)
		h.runWithStdin(c.token+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin").expect(t, 0)
		kas.Reset()
		r := h.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234")
		r.expect(t, 0)
		asked := false
		for _, req := range kas.Requests() {
			asked = asked || req.Path == "/api/v4/metadata"
		}
		if asked != c.asks {
			t.Errorf("%s: asked /metadata: %v", c.token, asked)
		}
		if c.asks && !strings.Contains(r.stdout, "KAS: "+kas.K8sProxyURL+" (from GitLab's /api/v4/metadata)") {
			t.Errorf("%s: stdout:\n%s", c.token, r.stdout)
		}
		if !c.asks && !strings.Contains(r.stderr, "the stored token's scopes (k8s_proxy) may not read GitLab's /api/v4/metadata") {
			t.Errorf("%s: stderr:\n%s", c.token, r.stderr)
		}
	}
}

// TestUpdateKubeconfigNeverOverwritesGitLabsServer: in a job, --kas-url
// may only say what GitLab wrote into cluster gitlab.
func TestUpdateKubeconfigNeverOverwritesGitLabsServer(t *testing.T) {
	kas := jobServerWith(t, func(cfg *testkas.Config) { cfg.KASOwnHost = true })
	h := newHarness(t).withKAS(kas)
	h.inJob(kas)
	path := h.kubeconfig("job-agents.yaml", kas.K8sProxyURL)
	h.env["KUBECONFIG"] = path
	before := mustRead(t, path)
	h.run("update-kubeconfig", "--kas-url", kas.URL+"/-/kubernetes-agent/k8s-proxy/").expectErr(t, ExitBadInput,
		"differs from the server GitLab wrote into the job's kubeconfig (cluster gitlab: "+kas.K8sProxyURL+")", "leave out --kas-url")
	if mustRead(t, path) != before {
		t.Errorf("the kubeconfig changed")
	}
	h.run("update-kubeconfig", "--kas-url", kas.K8sProxyURL+"/").expect(t, 0, "KAS: "+kas.K8sProxyURL+"/ (from --kas-url)")
	if !strings.Contains(mustRead(t, path), "    server: "+kas.K8sProxyURL+"\n") {
		t.Errorf("GitLab's server was rewritten:\n%s", mustRead(t, path))
	}
}
