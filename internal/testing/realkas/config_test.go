package realkas_test

import (
	"net/http"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/realkas"
)

// TestKASReadsAgentConfiguration: KAS polls the agent's config.yaml and
// posts what it reads to GitLab, which refreshes ci_access from it
// (docs/kas-differences.md #33); a file with a key KAS 16.5's schema lacks
// is rejected whole: KAS posts nothing, and GitLab keeps what it had (#34).
func TestKASReadsAgentConfiguration(t *testing.T) {
	s := realkas.Start(t, world())
	const job = "ci:1234:" + jobToken
	status := func() int { return ask(t, s, http.MethodGet, "/version", job, nil).status }
	if got := status(); got != 200 {
		t.Fatalf("before: %d", got)
	}

	// Polled: ci_access without the job's project takes effect.
	s.SetAgentConfig(1234, "ci_access:\n  projects:\n  - id: group/other\n")
	if got := status(); got != 403 {
		t.Errorf("after ci_access dropped the project: %d, want 403", got)
	}

	// Rejected: the project is back, with protected_branches_only (GitLab
	// 17.3's), which KAS 16.5 does not know. Nothing is posted in three
	// polls, and the job is still refused.
	posts := s.GitLab.Posts(1234)
	s.CommitAgentConfig(1234, "ci_access:\n  projects:\n  - id: group/app\n    protected_branches_only: false\n")
	time.Sleep(3 * realkas.PollPeriod)
	if got := s.GitLab.Posts(1234); got != posts {
		t.Errorf("KAS posted a file with an unknown key (%d posts, had %d)", got, posts)
	}
	if got := status(); got != 403 {
		t.Errorf("after a rejected file: %d, want 403 (GitLab keeps the previous ci_access)", got)
	}

	// Fixed: KAS reads and posts it again.
	s.SetAgentConfig(1234, "ci_access:\n  projects:\n  - id: group/app\n")
	if got := status(); got != 200 {
		t.Errorf("after the file was fixed: %d, want 200", got)
	}
}
