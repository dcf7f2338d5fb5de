package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// TestExitCodeTable: every error keeps its type through the wrapping a
// command adds (%w), so the table finds its exit code and fix.
func TestExitCodeTable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code int
		fix  string
	}{
		{"a command's own", badInput("pass a name", "no name"), ExitBadInput, "pass a name"},
		{"a KAS refusal", &kas.Error{Reason: kas.ReasonTokenRejected, TokenKind: "ci"}, ExitFailed, "CI_JOB_TOKEN is valid only while its job runs"},
		{"an unusable kubeconfig context", &kas.Error{Reason: kas.ReasonKubeconfig, Message: "m", Hint: "fix the context"}, ExitBadInput, "fix the context"},
		{"a context that cannot be resolved", &agentcontext.Error{Problem: agentcontext.NoChoice}, ExitBadInput, ""},
		{"a job without the agent", &agentcontext.NotAllowedError{Denied: []int64{1}}, ExitFailed, "ci_access"},
		{"a kubeconfig that does not parse", &kubeconfig.ParseError{File: "f", Line: 1, Msg: "bad"}, ExitBadInput, "fix the file by hand"},
		{"a missing --kubeconfig", &kubeconfig.MissingError{Paths: kubeconfig.Paths{Explicit: "x"}, Missing: []string{"x"}}, ExitBadInput, "pass --kubeconfig an existing file"},
		{"a kubeconfig that cannot be written", &kubeconfig.NotWritableError{Path: "f", Err: fs.ErrPermission}, ExitBadInput, "writable"},
		{"a CA bundle that is no PEM", &kas.CAError{Source: "ca.pem", Msg: "is not PEM"}, ExitBadInput, "--certificate-authority FILE"},
		{"a GitLab URL that is none", func() error { _, err := gitlab.ParseBaseURL("ftp://x"); return err }(), ExitBadInput, "use https://"},
		{"no --gitlab-url among several stored", &tokenstore.SeveralURLsError{URLs: []string{"https://a", "https://b"}}, ExitBadInput, "pass --gitlab-url"},
		{"a lock held too long", fmt.Errorf("%w /x.lock", atomicfile.ErrLockTimeout), ExitFailed, ""},
		{"anything else", errors.New("boom"), ExitFailed, ""},
	}
	for _, c := range cases {
		// As a command wraps it: the code and fix still come through.
		for _, err := range []error{c.err, fmt.Errorf("while doing it: %w", c.err)} {
			var out bytes.Buffer
			code := report(&out, withExitCode(err))
			if code != c.code {
				t.Errorf("%s: exit code %d, want %d", c.name, code, c.code)
			}
			if c.fix != "" && !strings.Contains(out.String(), "\n  ") {
				t.Errorf("%s: no fix:\n%s", c.name, out.String())
			}
			if !strings.Contains(out.String(), c.fix) {
				t.Errorf("%s: fix lacks %q:\n%s", c.name, c.fix, out.String())
			}
		}
	}
	// The chain of what a command wraps stays whole.
	err := failed("", "cannot remove the token for %s: %w", "https://gitlab.example.com", fmt.Errorf("%w for https://gitlab.example.com", tokenstore.ErrNotFound))
	if !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("failed() lost the cause: %v", err)
	}
}
