package kas

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

const kasJobToken = "glcbt-64_kasErrorsJobToken"

// TestDecodeErrorOfKAS: every failure testkas answers as KAS 16.5 does
// gets its own reason and fix.
func TestDecodeErrorOfKAS(t *testing.T) {
	srv := testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", AccessAs: testkas.AccessAs{CIJob: true}},
			{ID: 5678, Name: "away", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Disconnected: true},
		},
		Jobs: []testkas.Job{
			{Token: kasJobToken, ID: 4242, PipelineID: 7, ProjectID: 150, UserID: 5, Username: "alice", AllowedAgents: []int64{1234, 5678}},
			{Token: "glcbt-64_blockedUsersJob", ID: 4243, PipelineID: 7, ProjectID: 150, UserID: 6, Username: "bob", AllowedAgents: []int64{1234}, UserBlocked: true},
		},
		TunnelFindTimeout: 300 * time.Millisecond,
		GitLabRetryWait:   time.Millisecond,
		AuthCacheTTL:      -1,
		AuthCacheErrorTTL: -1,
	})
	cases := []struct {
		name   string
		token  string
		as     string
		fault  []int // GitLab's answers to KAS's /job/allowed_agents
		reason Reason
		says   []string
	}{
		{name: "agent not connected", token: "ci:5678:" + kasJobToken, reason: ReasonAgentNotConnected,
			says: []string{"the agent is not connected to KAS (502 Bad Gateway", "Agent connection not found. Is agent up to date and connected?",
				"no agentk of agent 5678", "kubectl get pods -n gitlab-agent-", "version", "Access tokens"}},
		{name: "nested impersonation", token: "ci:1234:" + kasJobToken, as: "someone", reason: ReasonImpersonationRefused,
			says: []string{"the agent refused client impersonation (502 Bad Gateway)", "nested impersonation is not supported", "--as", "drop them"}},
		{name: "unknown agent, valid job token", token: "ci:777:" + kasJobToken, reason: ReasonAgentNotAllowed,
			says: []string{"KAS does not let this job use the agent (403 Forbidden): GitLab Agent Server: Forbidden: agentId is not allowed", "no agent has the ID in ci:777:…"}},
		{name: "job's user blocked", token: "ci:1234:glcbt-64_blockedUsersJob", reason: ReasonJobForbidden,
			says: []string{"GitLab refused KAS's check of the job token (403 Forbidden, relayed by KAS): GitLab Agent Server: Forbidden: CI job token", "blocked"}},
		{name: "GitLab 404", token: "ci:1234:" + kasJobToken, fault: []int{404}, reason: ReasonJobNotFound,
			says: []string{"with 404 Not Found (relayed by KAS): GitLab Agent Server: Not found: agents for CI job token", "KAS's configuration"}},
		{name: "GitLab down", token: "ci:1234:" + kasJobToken, fault: []int{502, 502, 502, 502, 502}, reason: ReasonGitLabFailed,
			says: []string{"KAS could not ask GitLab about the job token (500 Internal Server Error): GitLab Agent Server: Failed to get allowed agents for CI job token", "try again"}},
		{name: "unknown personal access token", token: "pat:1234:glpat-unknownToken", reason: ReasonUserSessionFailed,
			says: []string{"KAS could not get GitLab to authorize the personal access token (500 Internal Server Error)", "kubectl gitlab login"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv.FailForKAS("/api/v4/job/allowed_agents", c.fault...)
			client, err := NewClient(ClientConfig{Context: "group/agents:prod",
				Cluster: kubeconfig.Cluster{Server: srv.K8sProxyURL, CertificateAuthorityData: b64(srv.CAPEM)},
				User:    kubeconfig.User{Token: c.token, As: c.as}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.Version(context.Background())
			var e *Error
			if !errors.As(err, &e) || e.Reason != c.reason || !e.FromKAS {
				t.Fatalf("%#v", err)
			}
			for _, s := range c.says {
				if !strings.Contains(e.Error()+"\n"+e.Fix(), s) {
					t.Errorf("does not say %q:\n%s\nfix: %s", s, e.Error(), e.Fix())
				}
			}
			if strings.Contains(e.Error()+e.Fix(), kasJobToken) {
				t.Errorf("the job token is in the message")
			}
		})
	}
}

// TestProgressWhileKASLooksForTheAgent: a request that waits says so
// once, on the writer it is given; one that is answered at once does not.
func TestProgressWhileKASLooksForTheAgent(t *testing.T) {
	srv := testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"},
			{ID: 5678, Name: "away", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Disconnected: true}},
		Jobs:              []testkas.Job{{Token: kasJobToken, ID: 4242, PipelineID: 7, ProjectID: 150, UserID: 5, Username: "alice", AllowedAgents: []int64{1234, 5678}}},
		TunnelFindTimeout: 500 * time.Millisecond,
	})
	for _, c := range []struct {
		agent string
		says  string
	}{{"1234", ""}, {"5678", "waiting for KAS to find agent 5678 (it looks for up to 20 s)…\n"}} {
		var out bytes.Buffer
		client, err := NewClient(ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.K8sProxyURL, CertificateAuthorityData: b64(srv.CAPEM)},
			User: kubeconfig.User{Token: "ci:" + c.agent + ":" + kasJobToken}, Progress: &Progress{W: &out, After: 100 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		client.Version(context.Background())
		client.Version(context.Background())
		if out.String() != c.says {
			t.Errorf("agent %s: progress %q, want %q", c.agent, out.String(), c.says)
		}
	}
}
