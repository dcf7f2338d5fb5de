package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const (
	deployerPAT = "glpat-deployerSecret"
	reporterPAT = "glpat-reporterSecret"
)

// deployingServer is testkas.DeployingProject with group/app's own agent,
// an agent that admits only group/app's CI jobs, a reporter's token and a
// k8s_proxy-only one.
func deployingServer(t *testing.T) *testkas.Server {
	cfg := testkas.DeployingProject(deployerPAT)
	cfg.Agents = append(cfg.Agents,
		testkas.Agent{ID: 4321, Name: "ci-only", ConfigProjectID: 77, ConfigProjectPath: "group/agents", CIAccessProjects: []int64{150}},
		testkas.Agent{ID: 7, Name: "own", ConfigProjectID: 150, ConfigProjectPath: "group/app"})
	cfg.PATs = append(cfg.PATs,
		testkas.PAT{Token: reporterPAT, ID: 2, Username: "rita", Scopes: []string{"read_api"}, Role: "reporter"},
		testkas.PAT{Token: k8sProxyPAT, ID: 3, Username: "dora", Scopes: []string{"k8s_proxy"}})
	return testkas.Start(t, cfg)
}

// workstation is a harness on a workstation logged in with token.
func workstation(t *testing.T, kas *testkas.Server, token string) *harness {
	h := newHarness(t).withKAS(kas)
	h.env["GITLAB_TOKEN"] = token
	h.env["GITLAB_URL"] = kas.URL
	if token != "" {
		h.secrets = append(h.secrets, token)
	}
	return h
}

func loadConfig(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestAgentsInJob(t *testing.T) {
	kas := jobServer(t, "")
	h := newHarness(t).withKAS(kas)
	h.inJob(kas)
	h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", kas.K8sProxyURL)
	h.run("agents").expect(t, 0, `AGENT-ID   NAME      CONFIG-PROJECT                   ACCESS            NAMESPACE
1234       prod      group/agents                     ci_access:agent   -
5678       staging   group/sub/infra                  ci_access:agent   apps
42         -         other-group/cluster-management   ci_access:agent   team-a
91         -         other/cluster-management         ci_access:agent   team-a
`)
	h.run("agents", "-o", "name").expect(t, 0, "group/agents:prod\ngroup/sub/infra:staging\nother-group/cluster-management:agent-42\nother/cluster-management:agent-91\n")
	js := h.run("agents", "-o", "json")
	js.expect(t, 0)
	var list struct {
		Agents []agentView `json:"agents"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &list); err != nil || len(list.Agents) != 4 || list.Agents[0].ID != 1234 ||
		list.Agents[0].Access[0].Via != "ci_access" || list.Agents[0].Access[0].As != "agent" || list.Agents[0].Context != "group/agents:prod" {
		t.Errorf("json: %+v %v\n%s", list, err, js.stdout)
	}
	h.run("agents", "-o", "yaml").expect(t, 0, "agents:\n  - id: 1234\n    name: prod\n    configProject: group/agents\n    access:\n      - via: ci_access\n        as: agent\n    context: group/agents:prod\n")
}

func TestAgentsForProject(t *testing.T) {
	kas := deployingServer(t)
	h := workstation(t, kas, deployerPAT)
	r := h.run("agents", "--project", "group/app", "-o", "wide")
	r.expect(t, 0, `AGENT-ID   NAME      CONFIG-PROJECT   ACCESS                              NAMESPACE   CONTEXT
4321       ci-only   group/agents     ci_access:agent                     -           group/agents:ci-only
1234       prod      group/agents     ci_access:ci_job,user_access:user   apps        group/agents:prod
9012       static    group/agents     user_access:agent                   -           group/agents:static
7          own       group/app        ci_access:agent,registered          -           group/app:own
5555       hidden    secret/agents    user_access:user                    -           secret/agents:hidden
`)

	for _, c := range []struct {
		name  string
		token string
		args  []string
		code  int
		says  []string
	}{
		{"no project on a workstation", deployerPAT, nil, 2, []string{"--project PATH"}},
		{"no token", "", []string{"--project", "group/app"}, 1, []string{"needs a credential that may read GitLab's API", "KUBECTL_GITLAB_TOKEN=<token>", "--keep-refresh-token", "add --web"}},
		{"a reporter", reporterPAT, []string{"--project", "group/app"}, 1, []string{"only to its Developers and above, and rita is not one", "Developer role"}},
		{"a k8s_proxy-only token", k8sProxyPAT, []string{"--project", "group/app"}, 1, []string{"GitLab refused the token", "401", "read_api"}},
		{"no such project", deployerPAT, []string{"--project", "group/nope"}, 1, []string{"no project group/nope that dora can see", "check the path"}},
	} {
		h := workstation(t, kas, c.token)
		if c.token == "" {
			delete(h.env, "GITLAB_TOKEN")
		}
		r := h.run(append([]string{"agents"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("%s: exit code %d, want %d\n%s", c.name, r.code, c.code, r.stderr)
		}
		for _, s := range c.says {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, s, r.stderr)
			}
		}
	}
}

// TestUpdateKubeconfigDeployingProject: --project names the project one
// deploys from; every agent that admits the user (user_access), and every
// agent registered in it, gets a context named as in CI jobs; the first
// in name order becomes current in a kubeconfig without one.
func TestUpdateKubeconfigDeployingProject(t *testing.T) {
	kas := deployingServer(t)
	h := workstation(t, kas, deployerPAT)
	path := filepath.Join(h.dir, "home", ".kube", "config")
	r := h.run("update-kubeconfig", "--project", "group/app")
	r.expect(t, 0, "group/agents:prod (agent 1234, namespace apps)", "group/agents:static (agent 9012)", "secret/agents:hidden (agent 5555)",
		"group/app:own (agent 7)", `Switched to context "group/agents:prod" (agent 1234) (the first of the 4 written, in name order).`)
	if !strings.Contains(r.stderr, "not written, as they admit the CI jobs of group/app (ci_access) but not you (user_access): group/agents:ci-only (agent 4321)") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	cfg := loadConfig(t, path)
	if len(cfg.Contexts) != 4 || cfg.CurrentContext != "group/agents:prod" || cfg.Contexts["group/agents:prod"].Namespace != "apps" {
		t.Errorf("contexts %v, current %q", cfg.Contexts, cfg.CurrentContext)
	}
	host := strings.TrimPrefix(kas.URL, "https://")
	if u := cfg.Contexts["secret/agents:hidden"].AuthInfo; u != "gitlab-agent:"+host+":5555" || cfg.Contexts["secret/agents:hidden"].Cluster != host {
		t.Errorf("user %s", u)
	}
	assertNoSecretInFiles(t, h.dir, deployerPAT)

	// Again: nothing moves, the current context stays.
	before := mustRead(t, path)
	h.run("update-kubeconfig", "--project", "group/app").expect(t, 0, `The current context stays "group/agents:prod"`)
	if mustRead(t, path) != before {
		t.Errorf("a second run changed the file")
	}
	// --use-context switches, and use-context - goes back.
	h.run("update-kubeconfig", "--project", "group/app", "--agent", "9012", "--use-context", "static").expect(t, 0, `Switched to context "group/agents:static" (agent 9012).`)
	h.run("use-context", "-").expect(t, 0, `Switched to context "group/agents:prod" (agent 1234).`)
	h.run("use-context", "-").expect(t, 0, `Switched to context "group/agents:static"`)

	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"an agent that admits only CI jobs", []string{"--agent", "4321"}, 1, "no agent admits you through project group/app"},
		{"an agent the project does not know", []string{"--agent", "999"}, 1, "agent 999 neither authorizes project group/app nor is registered in it"},
	} {
		r := h.run(append([]string{"update-kubeconfig", "--project", "group/app"}, c.args...)...)
		r.expectErr(t, c.code, c.says)
	}
}

func TestUpdateKubeconfigContextNames(t *testing.T) {
	kas := deployingServer(t)
	h := workstation(t, kas, deployerPAT)
	path := filepath.Join(h.dir, "home", ".kube", "config")
	h.run("update-kubeconfig", "--project", "group/app", "--context-name", "1234=prod", "--context-name", "9012=static-cluster", "--agent", "1234,9012").
		expect(t, 0, "prod (agent 1234", "static-cluster (agent 9012)")
	h.run("update-kubeconfig", "--project", "group/app", "--agent", "1234", "--context-name", "{project}/{agent}-{id}").
		expect(t, 0, `Renamed context "prod" to "group/agents/prod-1234".`)
	cfg := loadConfig(t, path)
	if cfg.Contexts["group/agents/prod-1234"] == nil || cfg.Contexts["prod"] != nil || cfg.CurrentContext != "group/agents/prod-1234" {
		t.Errorf("contexts %v, current %q", cfg.Contexts, cfg.CurrentContext)
	}
	// Without --context-name, a context keeps the name it has.
	h.run("update-kubeconfig", "--project", "group/app", "--agent", "1234").expect(t, 0, "group/agents/prod-1234 (agent 1234")

	for _, c := range []struct {
		name string
		args []string
		says string
	}{
		{"one name for several agents", []string{"--context-name", "cluster"}, "would both get context"},
		{"an unknown placeholder", []string{"--context-name", "{cluster}"}, "unknown placeholder {cluster}"},
		{"an agent not written", []string{"--agent", "1234", "--context-name", "9012=x"}, "names agent 9012, which is not among the agents written"},
		{"a name another context holds", []string{"--agent", "1234", "--context-name", "1234=static-cluster"}, `context "static-cluster" exists`},
	} {
		before := mustRead(t, path)
		r := h.run(append([]string{"update-kubeconfig", "--project", "group/app"}, c.args...)...)
		r.expectErr(t, 2, c.says)
		if mustRead(t, path) != before {
			t.Errorf("%s: the kubeconfig changed", c.name)
		}
	}

	job := jobServer(t, "")
	j := newHarness(t).withKAS(job)
	j.inJob(job)
	j.env["KUBECONFIG"] = j.kubeconfig("job-agents.yaml", job.K8sProxyURL)
	j.run("update-kubeconfig", "--context-name", "x").expectErr(t, 2, "keep the names GitLab gave them")
}

// TestUpdateKubeconfigTwoInstances: the same project and agent names on two
// GitLab instances: the second's context is host-qualified, the first's is
// left as it was; users and clusters never mix.
func TestUpdateKubeconfigTwoInstances(t *testing.T) {
	a, b := deployingServer(t), deployingServer(t)
	h := workstation(t, a, deployerPAT)
	delete(h.env, "GITLAB_URL")
	path := filepath.Join(h.dir, "home", ".kube", "config")
	h.run("update-kubeconfig", "--gitlab-url", a.URL, "--project", "group/app", "--agent", "1234").expect(t, 0, "group/agents:prod (agent 1234")
	before := loadConfig(t, path)

	h.transport = b.Client().Transport
	hostB := strings.TrimPrefix(b.URL, "https://")
	r := h.run("update-kubeconfig", "--gitlab-url", b.URL, "--project", "group/app", "--agent", "1234")
	r.expect(t, 0, hostB+"/group/agents:prod (agent 1234", `The current context stays "group/agents:prod"`)
	if !strings.Contains(r.stderr, `note: context "`+hostB+`/group/agents:prod" is host-qualified`) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	after := loadConfig(t, path)
	ctxA, ctxB := after.Contexts["group/agents:prod"], after.Contexts[hostB+"/group/agents:prod"]
	if ctxB == nil || ctxA.AuthInfo != before.Contexts["group/agents:prod"].AuthInfo || ctxA.AuthInfo == ctxB.AuthInfo || ctxA.Cluster == ctxB.Cluster {
		t.Fatalf("contexts %+v %+v", ctxA, ctxB)
	}
	if args := strings.Join(after.AuthInfos[ctxB.AuthInfo].Exec.Args, " "); !strings.Contains(args, "--gitlab-url="+b.URL) {
		t.Errorf("B's exec entry: %s", args)
	}
	if args := strings.Join(after.AuthInfos[ctxA.AuthInfo].Exec.Args, " "); !strings.Contains(args, "--gitlab-url="+a.URL) {
		t.Errorf("A's exec entry: %s", args)
	}
	// Running B again finds its own context, under its host-qualified name.
	h.run("update-kubeconfig", "--gitlab-url", b.URL, "--project", "group/app", "--agent", "1234").expect(t, 0, hostB+"/group/agents:prod (agent 1234")
	if n := len(loadConfig(t, path).Contexts); n != 2 {
		t.Errorf("%d contexts", n)
	}
}

// TestUpdateKubeconfigMigratesOldNames: a context written by --agent ID
// before names were known (<host>:agent-<id>) takes GitLab's name once
// --project tells it, and stays current.
func TestUpdateKubeconfigMigratesOldNames(t *testing.T) {
	kas := deployingServer(t)
	h := workstation(t, kas, deployerPAT)
	host := strings.TrimPrefix(kas.URL, "https://")
	path := filepath.Join(h.dir, "home", ".kube", "config")
	h.run("update-kubeconfig", "--agent", "1234").expect(t, 0, host+":agent-1234 (agent 1234)", `Switched to context "`+host+`:agent-1234"`)
	r := h.run("update-kubeconfig", "--project", "group/app", "--agent", "1234")
	r.expect(t, 0, `Renamed context "`+host+`:agent-1234" to "group/agents:prod".`, `The current context stays "group/agents:prod"`)
	cfg := loadConfig(t, path)
	if len(cfg.Contexts) != 1 || cfg.CurrentContext != "group/agents:prod" {
		t.Errorf("contexts %v, current %q", cfg.Contexts, cfg.CurrentContext)
	}
}

// TestUpdateKubeconfigCurrentContextInJob: in a job only an unambiguous
// choice is made current: $KUBE_CONTEXT, or the only agent context.
func TestUpdateKubeconfigCurrentContextInJob(t *testing.T) {
	kas := jobServerWith(t, func(c *testkas.Config) {
		c.Jobs = append(c.Jobs, testkas.Job{Token: "glcbt-64_oneAgentJob", ID: 4243, ProjectID: 150, AllowedAgents: []int64{1234}})
	})
	for _, c := range []struct {
		name, token, kubeContext, want string
		current                        string
	}{
		{name: "several agents", token: jobToken, want: "No current context: 4 agent contexts", current: ""},
		{name: "KUBE_CONTEXT", token: jobToken, kubeContext: "staging", want: `Switched to context "group/sub/infra:staging" (agent 5678) ($KUBE_CONTEXT).`,
			current: "group/sub/infra:staging"},
		{name: "one agent", token: "glcbt-64_oneAgentJob", want: `Switched to context "group/agents:agent-1234" (agent 1234) (the only agent context).`,
			current: "group/agents:agent-1234"},
	} {
		h := newHarness(t).withKAS(kas)
		h.inJob(kas)
		h.env["CI_JOB_TOKEN"] = c.token
		h.secrets = append(h.secrets, c.token)
		h.env["KUBE_CONTEXT"] = c.kubeContext
		if c.kubeContext == "" {
			delete(h.env, "KUBE_CONTEXT")
		}
		path := filepath.Join(h.dir, "kubeconfig") // a job's kubeconfig replaced by an empty one
		if c.token == jobToken {
			path = h.kubeconfig("job-agents.yaml", kas.K8sProxyURL)
		}
		h.env["KUBECONFIG"] = path
		h.run("update-kubeconfig").expect(t, 0, c.want)
		if got := loadConfig(t, path).CurrentContext; got != c.current {
			t.Errorf("%s: current %q, want %q", c.name, got, c.current)
		}
	}
}

// TestUseContextPrevious: use-context - goes back, as kubectx - does; for
// ~/.kube/config through kubectx's own file.
func TestUseContextPrevious(t *testing.T) {
	h := newHarness(t)
	path := h.kubeconfig("job-agents.yaml", "")
	h.env["KUBECONFIG"] = path
	h.run("use-context", "-").expectErr(t, 2, "no previous context to go back to")
	h.run("use-context", "prod").expect(t, 0)
	h.run("use-context", "-").expectErr(t, 2, "no previous context") // none was current before, as kubectx records it
	h.run("use-context", "staging").expect(t, 0)
	h.run("use-context", "-").expect(t, 0, `Switched to context "group/agents:prod" (agent 1234).`)
	h.run("use-context", "-").expect(t, 0, `Switched to context "group/sub/infra:staging" (agent 5678).`)
	if _, err := os.Stat(filepath.Join(h.dir, "home", ".kube", "kubectx")); err == nil {
		t.Errorf("a kubeconfig other than ~/.kube/config wrote kubectx's file")
	}
	h.run("use-context", "--agent-id", "1234", "-").expectErr(t, 2, "give either NAME, - or --agent-id")

	// ~/.kube/config: kubectx's file, both ways.
	d := newHarness(t)
	kube := filepath.Join(d.dir, "home", ".kube")
	os.MkdirAll(kube, 0o700)
	data, _ := os.ReadFile(path)
	os.WriteFile(filepath.Join(kube, "config"), []byte(strings.Replace(string(data), "current-context: group/sub/infra:staging\n", "", 1)), 0o600)
	d.run("use-context", "prod").expect(t, 0)
	d.run("use-context", "staging").expect(t, 0)
	if got, _ := os.ReadFile(filepath.Join(kube, "kubectx")); string(got) != "group/agents:prod" {
		t.Errorf("~/.kube/kubectx holds %q", got)
	}
	os.WriteFile(filepath.Join(kube, "kubectx"), []byte("group/sub/infra:staging"), 0o644) // as kubectx writes it
	d.run("use-context", "prod").expect(t, 0)
	os.WriteFile(filepath.Join(kube, "kubectx"), []byte("gone:context"), 0o644)
	d.run("use-context", "-").expectErr(t, 2, `the previous context "gone:context" (remembered in `+filepath.Join(kube, "kubectx")+`) is not in`)
}

// keysTerminal is a person who types keys into the real picker.
type keysTerminal struct{ keys string }

func (k keysTerminal) Interactive() bool { return true }
func (k keysTerminal) Pick(question string, options []string) (int, error) {
	return pickFuzzy(strings.NewReader(k.keys), &strings.Builder{}, question, options, 24, 80)
}
func (k keysTerminal) ReadSecret(string) (string, error) { return "", nil }

// TestUseContextPickByTyping: use-context with no name on a terminal is
// the fuzzy pick; Esc leaves the kubeconfig as it was, with exit code 2.
func TestUseContextPickByTyping(t *testing.T) {
	h := newHarness(t)
	path := h.kubeconfig("job-agents.yaml", "")
	h.env["KUBECONFIG"] = path
	h.term = keysTerminal{"infra\r"}
	h.run("use-context").expect(t, 0, `Switched to context "group/sub/infra:staging" (agent 5678).`)
	before := mustRead(t, path)
	for _, keys := range []string{"pro\x1b", "\x03"} {
		h.term = keysTerminal{keys}
		h.run("use-context").expectErr(t, 2, "no context chosen; the current context is unchanged")
		if mustRead(t, path) != before {
			t.Errorf("%q changed the kubeconfig", keys)
		}
	}
}

// TestAgentsEscapesWhatGitLabSays: names from GitLab cannot act on the
// terminal or break the table (one line per agent), in the table and -o name.
func TestAgentsEscapesWhatGitLabSays(t *testing.T) {
	cfg := testkas.DeployingProject(deployerPAT)
	cfg.Agents = append(cfg.Agents, testkas.Agent{ID: 66, Name: "evil\x1b]0;pwned\x07\tcell\nfake-row", ConfigProjectID: 77,
		ConfigProjectPath: "group/agents", CIAccessProjects: []int64{150}})
	h := workstation(t, testkas.Start(t, cfg), deployerPAT)
	for _, format := range []string{"wide", "name"} {
		r := h.run("agents", "--project", "group/app", "-o", format)
		r.expect(t, 0)
		want := 5 // header and four agents
		if format == "name" {
			want = 4
		}
		if strings.ContainsAny(r.stdout, "\x1b\x07") || strings.Count(r.stdout, "\n") != want || strings.Contains(r.stdout, "\nfake-row") {
			t.Errorf("-o %s:\n%q", format, r.stdout)
		}
	}
}
