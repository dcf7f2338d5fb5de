package agentcontext

import (
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// TestNames pins the naming rules; GitLab's are those of
// Ci::GenerateKubeconfigService.
func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		JobUser(1234):                                 "agent:1234",
		ContextName("group/sub/agents", "prod"):       "group/sub/agents:prod",
		ContextNameByID("group/agents", 91):           "group/agents:agent-91",
		HostContextName("gitlab.example.com", 7):      "gitlab.example.com:agent-7",
		WorkstationUser("gitlab.example.com:8443", 7): "gitlab-agent:gitlab.example.com:8443:7",
		WorkstationCluster("gitlab.example.com"):      "gitlab.example.com",
		agentName("group/agents:prod"):                "prod",
		agentName("gitlab.example.com:8443:agent-7"):  "agent-7",
		agentName("gitlab-deploy"):                    "",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for _, c := range []struct {
		name, project, agent string
		ok                   bool
	}{
		{"group/sub/agents:prod", "group/sub/agents", "prod", true},
		{"gitlab-deploy", "", "", false},
		{"host:8443:agent-1", "", "", false},
		{":prod", "", "", false},
	} {
		p, a, ok := SplitContextName(c.name)
		if p != c.project || a != c.agent || ok != c.ok {
			t.Errorf("SplitContextName(%q) = %q, %q, %v", c.name, p, a, ok)
		}
	}
}

// TestAgentOf: what makes a user an agent's.
func TestAgentOf(t *testing.T) {
	for _, c := range []struct {
		name string
		user kubeconfig.User
		id   int64
		auth Auth
	}{
		{"job token", kubeconfig.User{Token: "ci:1234:secret"}, 1234, AuthCIToken},
		{"personal access token", kubeconfig.User{Token: "pat:7:glpat-secret"}, 7, AuthPATToken},
		{"our exec entry", kubeconfig.User{Exec: &kubeconfig.Exec{Command: "/usr/local/bin/kubectl-gitlab", Args: []string{"get-token", "--agent-id=42"}}}, 42, AuthExec},
		{"through kubectl", kubeconfig.User{Exec: &kubeconfig.Exec{Command: "kubectl", Args: []string{"gitlab", "get-token", "--agent-id", "42"}}}, 42, AuthExec},
		{"another plugin", kubeconfig.User{Exec: &kubeconfig.Exec{Command: "gke-gcloud-auth-plugin"}}, 0, AuthOther},
		{"gitlab-deploy", kubeconfig.User{Token: "eyJhbGciOi.legacy"}, 0, AuthOther},
		{"client certificate", kubeconfig.User{ClientCertificateData: "LS0t"}, 0, AuthOther},
	} {
		id, auth, ok := AgentOf(c.user)
		if id != c.id || auth != c.auth || ok != (c.auth != AuthOther) {
			t.Errorf("%s: %d %s %v", c.name, id, auth, ok)
		}
	}
}
