package realkas

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

// startAgent runs agentk for an agent, as its deployment in the cluster
// would (its namespace, pod name and service account in the environment),
// and waits until KAS has posted its configuration to GitLab and a request
// reaches the cluster through it.
func (s *Stack) startAgent(agentID int64) error {
	s.GitLab.mu.Lock()
	a := s.GitLab.world.agent(agentID)
	s.GitLab.mu.Unlock()
	if a == nil {
		return fmt.Errorf("no agent %d", agentID)
	}
	if p := s.agents[agentID]; p != nil && p.Running() {
		return fmt.Errorf("agent %d is running already", agentID)
	}
	id := strconv.FormatInt(agentID, 10)
	tokenFile := filepath.Join(s.dir, "agent-"+id+".token")
	if err := os.WriteFile(tokenFile, []byte(a.Token), 0o600); err != nil {
		return err
	}
	kubeconfig := s.API.Kubeconfig(s.t, AgentUser, AgentGroups...)
	posts := s.GitLab.Posts(agentID)
	cmd := exec.Command(s.bins.Agentk,
		"--kas-address", "grpc://127.0.0.1:"+strconv.Itoa(s.kas.ports.agent),
		"--token-file", tokenFile,
		"--kubeconfig", kubeconfig,
		"--observability-listen-address", "127.0.0.1:0")
	cmd.Env = append(os.Environ(),
		"POD_NAMESPACE="+AgentNamespace, "POD_NAME=agentk-"+id, "SERVICE_ACCOUNT_NAME="+AgentServiceAccount)
	p, err := testprocess.Start(s.t, "agentk "+id, filepath.Join(s.dir, "agentk-"+id+".log"), cmd)
	if err != nil {
		return err
	}
	s.agents[agentID] = p

	deadline := time.Now().Add(agentReadyTimeout)
	if !s.GitLab.waitForPost(agentID, posts, deadline) {
		return fmt.Errorf("KAS did not post agent %d's configuration to GitLab within %v (running: %v)\n%s", agentID, agentReadyTimeout, p.Running(), s.logTails())
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for {
		err := s.probe(ctx, agentID)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !p.Running() {
			return fmt.Errorf("no request reached the cluster through agent %d: %v\n%s", agentID, err, s.logTails())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StopAgent stops an agent's agentk, as when its pod is gone.
func (s *Stack) StopAgent(agentID int64) {
	s.t.Helper()
	p := s.agents[agentID]
	if p == nil {
		s.t.Fatalf("realkas: agent %d was never started", agentID)
	}
	p.Stop()
}

// StartAgent starts an agent's agentk again after StopAgent, and waits as
// Start does.
func (s *Stack) StartAgent(agentID int64) {
	s.t.Helper()
	if err := s.startAgent(agentID); err != nil {
		s.t.Fatalf("realkas: %v", err)
	}
}

// SetAgentConfig commits a new config.yaml for the agent ("" removes it) and
// waits until KAS has read it and posted it to GitLab: from then on
// allowed_agents and authorize_proxy_user answer by it. KAS still serves
// what it cached before for allowedAgentCacheTTL: this waits that out.
func (s *Stack) SetAgentConfig(agentID int64, config string) {
	s.t.Helper()
	posts := s.GitLab.Posts(agentID)
	s.CommitAgentConfig(agentID, config)
	if !s.GitLab.waitForPost(agentID, posts, time.Now().Add(agentReadyTimeout)) {
		s.t.Fatalf("realkas: KAS did not post agent %d's new configuration within %v\n%s", agentID, agentReadyTimeout, s.logTails())
	}
	time.Sleep(allowedAgentCacheTTL + 100*time.Millisecond)
}

// CommitAgentConfig commits a new config.yaml for the agent and returns at
// once, for a file that KAS may reject (it then posts nothing). KAS reads
// it at its next poll (PollPeriod).
func (s *Stack) CommitAgentConfig(agentID int64, config string) {
	s.t.Helper()
	s.GitLab.mu.Lock()
	err := s.writeConfig(&s.GitLab.world, agentID, config)
	if a := s.GitLab.world.agent(agentID); a != nil {
		a.Config = config
	}
	s.GitLab.mu.Unlock()
	if err != nil {
		s.t.Fatalf("realkas: %v", err)
	}
}
