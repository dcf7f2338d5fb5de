package kas

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
)

// ExecRequest is one run of a kubeconfig user's exec credential plugin.
type ExecRequest struct {
	Command string
	Args    []string
	// Env is added to the process environment: the entry's env, then
	// KUBERNETES_EXEC_INFO, as NAME=VALUE.
	Env []string
}

// ExecRunner runs an exec plugin and returns its stdout; a failure is an
// *ExecError.
type ExecRunner func(ctx context.Context, req ExecRequest) ([]byte, error)

// ExecError is an exec plugin that did not run or did not succeed.
type ExecError struct {
	NotFound bool
	ExitCode int
	// Stderr is what the plugin said; it is shown to the user, as kubectl
	// shows it.
	Stderr string
	Err    error
}

func (e *ExecError) Error() string {
	switch {
	case e.NotFound:
		return "not found"
	case e.ExitCode != 0:
		return fmt.Sprintf("exit code %d", e.ExitCode)
	}
	return e.Err.Error()
}

func (e *ExecError) Unwrap() error { return e.Err }

// RunExec runs the plugin as a process with this process's environment
// plus req.Env, as kubectl does. Its stdin is empty: like interactiveMode
// Never, it may not prompt.
func RunExec(ctx context.Context, req ExecRequest) ([]byte, error) {
	path, err := exec.LookPath(req.Command)
	if err != nil {
		return nil, &ExecError{NotFound: true, Err: err}
	}
	cmd := exec.CommandContext(ctx, path, req.Args...)
	cmd.Env = append(os.Environ(), req.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		e := &ExecError{Stderr: stderr.String(), Err: err}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			e.ExitCode = exitErr.ExitCode()
		}
		return nil, e
	}
	return stdout.Bytes(), nil
}

// ExecInfo is the KUBERNETES_EXEC_INFO kubectl would pass to the plugin.
func (c *Client) ExecInfo() (string, error) {
	e := c.cfg.User.Exec
	info := credential.ExecInfo{APIVersion: e.APIVersion}
	if e.ProvideClusterInfo {
		cl := c.cfg.Cluster
		info.Cluster = &credential.ExecCluster{Server: cl.Server, TLSServerName: cl.TLSServerName,
			InsecureSkipTLSVerify: cl.InsecureSkipTLSVerify, ProxyURL: cl.ProxyURL}
		if ca, _, err := dataOrFile(cl.CertificateAuthorityData, "certificate-authority-data", cl.CertificateAuthority, c.cfg.ClusterFile); err == nil {
			info.Cluster.CertificateAuthorityData = ca
		}
	}
	return info.Marshal()
}

// execCredential runs the user's exec plugin and reads its ExecCredential.
func (c *Client) execCredential(ctx context.Context) (UserCredential, error) {
	e := c.cfg.User.Exec
	shown := DescribeExec(e.Command, e.Args)
	fail := func(err error) error {
		return &Error{Reason: ReasonCredential, Context: c.cfg.Context, Err: err,
			Message: "the exec plugin " + shown + " " + err.Error(),
			Hint:    "fix the user's exec entry, or write it anew: kubectl gitlab update-kubeconfig"}
	}
	switch {
	case e.APIVersion == "":
		return UserCredential{}, fail(fmt.Errorf("has no apiVersion; kubectl needs %s (or v1beta1)", credential.V1))
	case !credential.Supported(e.APIVersion):
		return UserCredential{}, fail(fmt.Errorf("asks for apiVersion %q; use %s (or v1beta1)", e.APIVersion, credential.V1))
	}
	info, err := c.ExecInfo()
	if err != nil {
		return UserCredential{}, err
	}
	req := ExecRequest{Command: e.Command, Args: e.Args}
	for _, v := range e.Env {
		req.Env = append(req.Env, v.Name+"="+v.Value)
	}
	req.Env = append(req.Env, "KUBERNETES_EXEC_INFO="+info)
	run := c.cfg.Exec
	if run == nil {
		run = RunExec
	}
	out, err := run(ctx, req)
	if err != nil {
		var ee *ExecError
		if !errors.As(err, &ee) {
			return UserCredential{}, fail(fmt.Errorf("failed: %w", err))
		}
		if ee.NotFound {
			hint := e.InstallHint
			if hint == "" {
				hint = "install it, or fix the command of the user's exec entry"
			}
			return UserCredential{}, &Error{Reason: ReasonCredential, Context: c.cfg.Context, Err: err,
				Message: fmt.Sprintf("the exec plugin %s: %q is not found on PATH", shown, e.Command), Hint: hint}
		}
		// The plugin's own first line says what, the rest how to fix it.
		said, fix := splitPluginMessage(ee.Stderr)
		msg := "the exec plugin " + shown + " failed (" + ee.Error() + ")"
		if said != "" {
			msg += ": " + said
		}
		return UserCredential{}, &Error{Reason: ReasonCredential, Context: c.cfg.Context, Message: msg, Hint: fix, Err: err}
	}
	cred, err := credential.ParseExecCredential(out, e.APIVersion)
	if err != nil {
		return UserCredential{}, fail(err)
	}
	uc := UserCredential{Source: "exec " + shown, Credential: cred}
	if cred.ClientCertificateData != "" || cred.ClientKeyData != "" {
		cert, err := tls.X509KeyPair([]byte(cred.ClientCertificateData), []byte(cred.ClientKeyData))
		if err != nil {
			return UserCredential{}, fail(errors.New("printed a client certificate and key that do not load"))
		}
		uc.Certificate = &cert
	}
	return uc, nil
}

// splitPluginMessage splits a plugin's stderr into its first line (without
// "error: ") and the rest, unindented.
func splitPluginMessage(stderr string) (first, rest string) {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	first = strings.TrimPrefix(strings.TrimSpace(lines[0]), "error: ")
	var tail []string
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			tail = append(tail, l)
		}
	}
	return first, strings.Join(tail, "\n")
}

// DescribeExec shows an exec command for messages, hiding the values of
// arguments that look like secrets.
func DescribeExec(command string, args []string) string {
	parts := []string{command}
	hideNext := false
	for _, a := range args {
		if hideNext {
			parts = append(parts, redact.Marker)
			hideNext = false
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		lower := strings.ToLower(name)
		secretish := strings.HasPrefix(lower, "-") && (strings.HasSuffix(lower, "token") || strings.HasSuffix(lower, "password") || strings.HasSuffix(lower, "secret"))
		switch {
		case secretish && hasValue:
			parts = append(parts, name+"="+redact.Marker)
		case secretish:
			parts = append(parts, a)
			hideNext = true
		default:
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, " ")
}
