package cmd

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestUseContextWithKubeContextOverGitlabDeploy(t *testing.T) {
	h := newHarness(t)
	h.env["KUBECONFIG"] = h.kubeconfig("job-gitlab-deploy.yaml", "")
	h.env["KUBE_CONTEXT"] = "group/agents:prod"

	h.run("use-context").expect(t, 0, `Switched to context "group/agents:prod" (agent 1234)`)

	r := h.run("get-contexts")
	r.expect(t, 0)
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "group/agents:prod") != strings.HasPrefix(line, "*") {
			t.Errorf("current marker wrong in %q", line)
		}
	}
	if strings.Contains(r.stdout, "gitlab-deploy") {
		t.Errorf("gitlab-deploy listed as an agent context:\n%s", r.stdout)
	}
	all := h.run("get-contexts", "--all")
	all.expect(t, 0, "gitlab-deploy")
	if !strings.Contains(all.stdout, "not-agent") {
		t.Errorf("--all does not mark gitlab-deploy:\n%s", all.stdout)
	}

	js := h.run("get-contexts", "-o", "json", "--all")
	js.expect(t, 0)
	var list struct {
		CurrentContext string `json:"currentContext"`
		Contexts       []struct {
			Name    string `json:"name"`
			Current bool   `json:"current"`
			Agent   bool   `json:"agent"`
			AgentID int64  `json:"agentID"`
			Auth    string `json:"auth"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &list); err != nil {
		t.Fatalf("-o json does not decode: %v\n%s", err, js.stdout)
	}
	if list.CurrentContext != "group/agents:prod" || len(list.Contexts) != 3 {
		t.Fatalf("json = %+v", list)
	}
	for _, c := range list.Contexts {
		wantAgent := c.Name != "gitlab-deploy"
		if c.Agent != wantAgent || c.Current != (c.Name == "group/agents:prod") {
			t.Errorf("context %+v", c)
		}
	}
	h.run("current-context").expect(t, 0, "group/agents:prod")
	for _, format := range []string{"yaml", "wide", "name"} {
		h.run("get-contexts", "-o", format, "--all").expect(t, 0, "group/agents:review")
	}
}

func TestUseContextResolution(t *testing.T) {
	cases := []struct {
		name     string
		file     string
		args     []string
		env      map[string]string
		term     Terminal
		want     string
		code     int
		stderrIn []string
	}{
		{name: "full name", file: "job-agents.yaml", args: []string{"group/sub/infra:staging"}, want: "group/sub/infra:staging"},
		{name: "unique agent name", file: "job-agents.yaml", args: []string{"staging"}, want: "group/sub/infra:staging"},
		{name: "agent id", file: "job-agents.yaml", args: []string{"--agent-id", "5678"}, want: "group/sub/infra:staging"},
		{name: "KUBE_CONTEXT", file: "job-agents.yaml", env: map[string]string{"KUBE_CONTEXT": "group/agents:prod"}, want: "group/agents:prod"},
		{name: "argument beats KUBE_CONTEXT", file: "job-agents.yaml", args: []string{"prod"}, env: map[string]string{"KUBE_CONTEXT": "group/sub/infra:staging"}, want: "group/agents:prod"},
		{name: "interactive pick", file: "job-agents.yaml", term: &fakeTerminal{choice: 1}, want: "group/sub/infra:staging"},
		{name: "no choice without a terminal", file: "job-agents.yaml", code: 2,
			stderrIn: []string{"2 agent contexts", "group/agents:prod (agent 1234)", "group/sub/infra:staging (agent 5678)", "KUBE_CONTEXT"}},
		{name: "unknown context lists candidates", file: "job-agents.yaml", args: []string{"group/agents:nope"}, code: 2,
			stderrIn: []string{`no context named "group/agents:nope"`, "group/agents:prod (agent 1234)"}},
		{name: "unknown KUBE_CONTEXT", file: "job-agents.yaml", env: map[string]string{"KUBE_CONTEXT": "x:y"}, code: 2,
			stderrIn: []string{`$KUBE_CONTEXT "x:y"`}},
		{name: "ambiguous agent name", file: "job-same-agent-name.yaml", args: []string{"prod"}, code: 2,
			stderrIn: []string{"ambiguous", "group/agents:prod", "other/agents:prod"}},
		{name: "unknown agent id", file: "job-agents.yaml", args: []string{"--agent-id", "99"}, code: 2, stderrIn: []string{"agent ID 99"}},
		{name: "bad agent id", file: "job-agents.yaml", args: []string{"--agent-id", "abc"}, code: 2, stderrIn: []string{"--agent-id"}},
		{name: "only agent context, gitlab-deploy not counted", file: "job-gitlab-deploy-one-agent.yaml", want: "group/agents:prod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.term = c.term
			path := h.kubeconfig(c.file, "")
			h.env["KUBECONFIG"] = path
			for k, v := range c.env {
				h.env[k] = v
			}
			before := mustRead(t, path)
			r := h.run(append([]string{"use-context"}, c.args...)...)
			if c.code != 0 {
				r.expectErr(t, c.code, c.stderrIn...)
				if mustRead(t, path) != before {
					t.Errorf("a failed use-context changed the file")
				}
				return
			}
			r.expect(t, 0, `Switched to context "`+c.want+`"`)
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CurrentContext != c.want {
				t.Errorf("current-context = %q, want %q", cfg.CurrentContext, c.want)
			}
		})
	}
}

// TestUseContextMultipleFiles follows kubectl: current-context goes to the
// first file that sets one, the CA to the file that defines the cluster,
// and no other file changes.
func TestUseContextMultipleFiles(t *testing.T) {
	h := newHarness(t)
	base := h.kubeconfig("multi/1-base.yaml", "")
	agents := h.kubeconfig("multi/2-agents.yaml", "")
	current := h.kubeconfig("multi/3-current.yaml", "")
	h.env["KUBECONFIG"] = strings.Join([]string{base, agents, current}, string(os.PathListSeparator))
	caFile := writeTestCA(t, h.dir)
	before := map[string]string{base: mustRead(t, base), agents: mustRead(t, agents), current: mustRead(t, current)}

	h.run("use-context", "staging", "--certificate-authority", caFile).expect(t, 0, "Switched")

	if mustRead(t, base) != before[base] {
		t.Errorf("1-base.yaml changed")
	}
	gotCurrent := mustRead(t, current)
	if want := strings.Replace(before[current], "current-context: local", "current-context: group/sub/infra:staging", 1); gotCurrent != want {
		t.Errorf("3-current.yaml:\n%s\nwant:\n%s", gotCurrent, want)
	}
	gotAgents := mustRead(t, agents)
	if strings.Count(gotAgents, "certificate-authority-data:") != 1 || strings.Contains(gotAgents, "current-context") {
		t.Errorf("2-agents.yaml:\n%s", gotAgents)
	}
	// Only the CA line was added to the agents file.
	if strings.Replace(gotAgents, "\n    certificate-authority-data: "+caBase64(t, caFile), "", 1) != before[agents] {
		t.Errorf("2-agents.yaml changed more than the CA:\n%s", gotAgents)
	}

	// With no file setting current-context, the first file gets it.
	h2 := newHarness(t)
	b2, a2 := h2.kubeconfig("multi/1-base.yaml", ""), h2.kubeconfig("multi/2-agents.yaml", "")
	h2.env["KUBECONFIG"] = b2 + string(os.PathListSeparator) + a2
	a2Before := mustRead(t, a2)
	h2.run("use-context", "prod").expect(t, 0)
	if !strings.HasSuffix(mustRead(t, b2), "current-context: group/agents:prod\n") || mustRead(t, a2) != a2Before {
		t.Errorf("current-context went to the wrong file")
	}
}
