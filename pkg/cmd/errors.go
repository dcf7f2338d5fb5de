package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/discovery"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/login"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// Exit codes of every command.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the operation failed: network, a server refused
	ExitBadInput = 2 // bad usage or bad input
)

// Error is a command's own error: what went wrong and why (one line),
// how to fix it (Fix), and the exit code.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
func (e *Error) Fix() string   { return fixable.FixOf(e.Err) }

// badInput is an exit-2 error.
func badInput(fix string, format string, args ...any) error {
	return &Error{Code: ExitBadInput, Err: fixable.Errorf(fix, format, args...)}
}

// failed is an exit-1 error.
func failed(fix string, format string, args ...any) error {
	return &Error{Code: ExitFailed, Err: fixable.Errorf(fix, format, args...)}
}

// exitCodes gives the errors of the packages below their exit code: the
// first row whose error is in the chain decides, after a command's own
// *Error; an error no row knows is a failure (1).
var exitCodes = []struct {
	code int
	is   func(error) bool
}{
	// A kubeconfig context that cannot be used is bad input; a refusal or
	// an unreachable KAS is a failure.
	{ExitBadInput, func(err error) bool {
		var e *kas.Error
		return errors.As(err, &e) && e.Reason == kas.ReasonKubeconfig
	}},
	{ExitFailed, fixable.Is[*kas.Error]},
	// A KAS URL the user gave is bad input; one a server gave, a failure.
	{ExitBadInput, func(err error) bool {
		var e *kas.ProxyURLError
		return errors.As(err, &e) && e.FromUser()
	}},
	{ExitBadInput, fixable.Is[*agentcontext.Error]},
	{ExitFailed, fixable.Is[*agentcontext.NotAllowedError]},
	{ExitFailed, fixable.Is[*discovery.Error]},
	{ExitBadInput, fixable.Is[*kubeconfig.ParseError]},
	{ExitBadInput, fixable.Is[*kubeconfig.MissingError]},
	{ExitBadInput, fixable.Is[*kubeconfig.NotWritableError]},
	{ExitBadInput, fixable.Is[*kas.CAError]},
	{ExitBadInput, fixable.Is[*gitlab.URLError]},
	{ExitBadInput, fixable.Is[*httpsafe.InsecureURLError]},
	{ExitBadInput, fixable.Is[*credential.SecretError]},
	{ExitBadInput, fixable.Is[*tokenstore.SeveralURLsError]},
	// An OAuth application GitLab refuses is bad input; a login denied,
	// expired or cancelled failed.
	{ExitBadInput, func(err error) bool { return login.IsReason(err, login.ReasonBadClient) }},
	{ExitFailed, fixable.Is[*login.Error]},
	{ExitFailed, fixable.Is[*gitlab.APIError]},
	{ExitFailed, fixable.Is[*gitlab.NetworkError]},
	{ExitBadInput, fixable.Is[*atomicfile.RefusedError]},
	{ExitFailed, func(err error) bool { return errors.Is(err, atomicfile.ErrLockTimeout) }},
}

// exitCode is err's exit code, by exitCodes.
func exitCode(err error) int {
	var own *Error
	if errors.As(err, &own) {
		return own.Code
	}
	for _, row := range exitCodes {
		if row.is(err) {
			return row.code
		}
	}
	return ExitFailed
}

// fixOf is err's fix. kubeconfig's errors carry none, so the fixes of
// those that reach a command are here.
func fixOf(err error) string {
	if fix := fixable.FixOf(err); fix != "" {
		return fix
	}
	var parseErr *kubeconfig.ParseError
	var missing *kubeconfig.MissingError
	switch {
	case errors.As(err, &parseErr):
		return "fix the file by hand (kubectl refuses it too); nothing was changed"
	case errors.As(err, &missing) && missing.Paths.Explicit != "":
		return "pass --kubeconfig an existing file, or leave it out to use $KUBECONFIG"
	case errors.As(err, &missing):
		return "check the path; in a GitLab CI job, KUBECONFIG is set when an agent is shared with the project (see kubectl gitlab doctor)"
	case fixable.Is[*kubeconfig.NotWritableError](err):
		return "make the file and its directory writable, or copy it somewhere writable and pass --kubeconfig"
	}
	return ""
}

// withExitCode makes err a command's *Error, with the code exitCodes
// gives it.
func withExitCode(err error) *Error {
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	return &Error{Code: exitCode(err), Err: err}
}

// report prints err as "error: …" and the fix, and returns its exit code.
func report(w io.Writer, err error) int {
	fmt.Fprintf(w, "error: %s\n", err)
	if fix := fixOf(err); fix != "" {
		for _, line := range strings.Split(fix, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	return exitCode(err)
}
