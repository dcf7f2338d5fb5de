package kas

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

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
	spec := map[string]any{"interactive": false}
	if e.ProvideClusterInfo {
		cl := c.cfg.Cluster
		cluster := map[string]any{"server": cl.Server}
		if cl.TLSServerName != "" {
			cluster["tls-server-name"] = cl.TLSServerName
		}
		if cl.InsecureSkipTLSVerify {
			cluster["insecure-skip-tls-verify"] = true
		}
		if cl.ProxyURL != "" {
			cluster["proxy-url"] = cl.ProxyURL
		}
		if ca, _, err := dataOrFile(cl.CertificateAuthorityData, "certificate-authority-data", cl.CertificateAuthority, c.cfg.ClusterFile); err == nil && ca != nil {
			cluster["certificate-authority-data"] = base64.StdEncoding.EncodeToString(ca)
		}
		spec["cluster"] = cluster
	}
	data, err := json.Marshal(map[string]any{"apiVersion": e.APIVersion, "kind": "ExecCredential", "spec": spec})
	return string(data), err
}

// execCredential runs the user's exec plugin and reads its ExecCredential.
func (c *Client) execCredential(ctx context.Context) (Credential, error) {
	e := c.cfg.User.Exec
	shown := DescribeExec(e.Command, e.Args)
	fail := func(format string, args ...any) error {
		return &Error{Reason: ReasonCredential, Context: c.cfg.Context,
			Message: "the exec plugin " + shown + " " + fmt.Sprintf(format, args...),
			Hint:    "fix the user's exec entry, or write it anew: kubectl gitlab update-kubeconfig"}
	}
	switch e.APIVersion {
	case credential.V1, credential.V1beta1:
	case "":
		return Credential{}, fail("has no apiVersion; kubectl needs %s (or v1beta1)", credential.V1)
	default:
		return Credential{}, fail("asks for apiVersion %q; use %s (or v1beta1)", e.APIVersion, credential.V1)
	}
	info, err := c.ExecInfo()
	if err != nil {
		return Credential{}, err
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
			return Credential{}, fail("failed: %v", err)
		}
		if ee.NotFound {
			hint := e.InstallHint
			if hint == "" {
				hint = "install it, or fix the command of the user's exec entry"
			}
			return Credential{}, &Error{Reason: ReasonCredential, Context: c.cfg.Context,
				Message: fmt.Sprintf("the exec plugin %s: %q is not found on PATH", shown, e.Command), Hint: hint}
		}
		// The plugin's own first line says what, the rest how to fix it.
		said, fix := splitPluginMessage(ee.Stderr)
		msg := "the exec plugin " + shown + " failed (" + ee.Error() + ")"
		if said != "" {
			msg += ": " + said
		}
		return Credential{}, &Error{Reason: ReasonCredential, Context: c.cfg.Context, Message: msg, Hint: fix}
	}
	return parseExecCredential(out, e.APIVersion, shown, fail)
}

func parseExecCredential(out []byte, apiVersion, shown string, fail func(string, ...any) error) (Credential, error) {
	var got struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Status     *struct {
			Token                 string     `json:"token"`
			ClientCertificateData string     `json:"clientCertificateData"`
			ClientKeyData         string     `json:"clientKeyData"`
			ExpirationTimestamp   *time.Time `json:"expirationTimestamp"`
		} `json:"status"`
	}
	// Messages never quote the output: it holds the credential.
	if err := json.Unmarshal(out, &got); err != nil {
		return Credential{}, fail("printed something that is not an ExecCredential (not JSON)")
	}
	switch {
	case got.Kind != "ExecCredential":
		return Credential{}, fail("printed kind %q, not ExecCredential", got.Kind)
	case got.APIVersion != apiVersion:
		return Credential{}, fail("answered in apiVersion %q, not the %q the kubeconfig asks for", got.APIVersion, apiVersion)
	case got.Status == nil:
		return Credential{}, fail("printed an ExecCredential without status")
	}
	cred := Credential{Source: "exec " + shown, Token: got.Status.Token}
	if got.Status.ExpirationTimestamp != nil {
		cred.Expires = *got.Status.ExpirationTimestamp
	}
	if got.Status.ClientCertificateData != "" || got.Status.ClientKeyData != "" {
		cert, err := tls.X509KeyPair([]byte(got.Status.ClientCertificateData), []byte(got.Status.ClientKeyData))
		if err != nil {
			return Credential{}, fail("printed a client certificate and key that do not load")
		}
		cred.Certificate = &cert
	}
	if cred.Token == "" && cred.Certificate == nil {
		return Credential{}, fail("printed an ExecCredential with neither a token nor a client certificate")
	}
	return cred, nil
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
			parts = append(parts, "<redacted>")
			hideNext = false
			continue
		}
		name, _, hasValue := strings.Cut(a, "=")
		lower := strings.ToLower(name)
		secretish := strings.HasPrefix(lower, "-") && (strings.HasSuffix(lower, "token") || strings.HasSuffix(lower, "password") || strings.HasSuffix(lower, "secret"))
		switch {
		case secretish && hasValue:
			parts = append(parts, name+"=<redacted>")
		case secretish:
			parts = append(parts, a)
			hideNext = true
		default:
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, " ")
}
