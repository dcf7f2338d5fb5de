package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// Exit codes of every command.
const (
	ExitOK        = 0
	ExitFailed    = 1 // the operation failed: network, a server refused
	ExitBadInput  = 2 // bad usage or bad input
	exitUnhandled = ExitFailed
)

// Error is what a command reports: what went wrong and why (one line), then
// how to fix it, and the exit code.
type Error struct {
	Code int
	Err  error
	Fix  string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// badInput is an exit-2 error.
func badInput(fix string, format string, args ...any) error {
	return &Error{Code: ExitBadInput, Err: fmt.Errorf(format, args...), Fix: fix}
}

// failed is an exit-1 error.
func failed(fix string, format string, args ...any) error {
	return &Error{Code: ExitFailed, Err: fmt.Errorf(format, args...), Fix: fix}
}

// classify gives errors from the packages below their exit code and fix.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var parseErr *kubeconfig.ParseError
	var missing *kubeconfig.MissingError
	var notWritable *kubeconfig.NotWritableError
	var caErr *kas.CAError
	var kasErr *kas.Error
	var resolveErr *agentcontext.Error
	var notAllowed *agentcontext.NotAllowedError
	switch {
	case errors.As(err, &resolveErr):
		return &Error{Code: ExitBadInput, Err: err, Fix: resolveErr.Fix()}
	case errors.As(err, &notAllowed):
		return &Error{Code: ExitFailed, Err: err, Fix: notAllowed.Fix()}
	case errors.As(err, &kasErr):
		// A kubeconfig that cannot be used is bad input; a refusal or an
		// unreachable KAS is a failure.
		code := ExitFailed
		if kasErr.Reason == kas.ReasonKubeconfig {
			code = ExitBadInput
		}
		return &Error{Code: code, Err: kasErr, Fix: kasErr.Fix()}
	case errors.As(err, &parseErr):
		return &Error{Code: ExitBadInput, Err: err, Fix: "fix the file by hand (kubectl refuses it too); nothing was changed"}
	case errors.As(err, &missing):
		fix := "check the path; in a GitLab CI job, KUBECONFIG is set when an agent is shared with the project (see kubectl gitlab doctor)"
		if missing.Paths.Explicit != "" {
			fix = "pass --kubeconfig an existing file, or leave it out to use $KUBECONFIG"
		}
		return &Error{Code: ExitBadInput, Err: err, Fix: fix}
	case errors.As(err, &notWritable):
		return &Error{Code: ExitBadInput, Err: err, Fix: "make the file and its directory writable, or copy it somewhere writable and pass --kubeconfig"}
	case errors.As(err, &caErr):
		return &Error{Code: ExitBadInput, Err: err, Fix: "pass the PEM file of the CA that signed KAS's certificate (--certificate-authority FILE or $KAS_CERTIFICATE); nothing was written"}
	case errors.Is(err, atomicfile.ErrLockTimeout):
		return &Error{Code: ExitFailed, Err: err}
	}
	return &Error{Code: exitUnhandled, Err: err}
}

// report prints err as "error: …" and the fix, and returns its exit code.
func report(w io.Writer, err error) int {
	e := classify(err)
	fmt.Fprintf(w, "error: %s\n", e.Err)
	if e.Fix != "" {
		for _, line := range strings.Split(e.Fix, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	return e.Code
}
