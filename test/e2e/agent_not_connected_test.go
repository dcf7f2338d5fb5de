package e2e

import (
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// TestAgentNotConnected: the commonest failure. KAS holds a request for an
// agent that has no tunnel for its tunnel-find timeout, the real 20 s,
// then answers 502 with "Agent connection not found". Plain kubectl hides
// KAS's message ("an error on the server ("unknown")"); -v=8 shows it.
// whoami and doctor must wait it out and name the failure.
func TestAgentNotConnected(t *testing.T) {
	k := kubectls(t)[0]
	kas := testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Disconnected: true},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra"}},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, PipelineID: 7, ProjectID: 150, UserID: 5, Username: "alice", AllowedAgents: []int64{1234, 5678}}},
	})
	jobEnv := func(t *testing.T) *env {
		e := newEnv(t)
		e.jobKubeconfig("job-agents.yaml", kas.K8sProxyURL, jobToken)
		e.run(k.Path, "gitlab", "use-context", "group/agents:prod", "--certificate-authority", kas.CAFile).ok(t)
		return e
	}
	const notConnected = "Agent connection not found. Is agent up to date and connected?"

	t.Run("kubectl", func(t *testing.T) {
		t.Parallel()
		r := jobEnv(t).run(k.Path, "version", "-v=8")
		r.fails(t, "Response Status: 502 Bad Gateway", notConnected)
		noSecret(t, jobToken, r)
	})
	t.Run("whoami", func(t *testing.T) {
		t.Parallel()
		r := jobEnv(t).run(k.Path, "gitlab", "whoami")
		r.fails(t, "502 Bad Gateway", notConnected, "no agentk of agent 1234")
		if strings.Contains(r.stderr, "did not answer in time") {
			t.Errorf("an agent that is not connected reported as a timeout:\n%s", r)
		}
	})
	t.Run("doctor", func(t *testing.T) {
		t.Parallel()
		r := jobEnv(t).run(k.Path, "gitlab", "doctor", "-o", "json")
		rep := decodeDoctor(t, r)
		rep.expectCheck(t, "token", "pass")
		rep.expectCheck(t, "agent", "fail", "502 Bad Gateway", notConnected, "kubectl get pods -n gitlab-agent-")
	})
}
