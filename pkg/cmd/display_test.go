package cmd

import (
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/hostile"
)

// TestServerURLCredentialsAreRedacted: a cluster server URL with a user
// name and token, or a private_token query, is shown redacted by every
// command that shows it, in every format (issue 13, item 9).
func TestServerURLCredentialsAreRedacted(t *testing.T) {
	kas := accessKAS(t)
	h := newHarness(t)
	h.secrets = append(h.secrets, "glpat-srvUserinfo", "glpat-srvQuery")
	server := strings.Replace(strings.TrimSuffix(kas.K8sProxyURL, "/"), "https://", "https://alice:glpat-srvUserinfo@", 1) + "?private_token=glpat-srvQuery"
	trustedKubeconfig(h, kas, "job-agents.yaml", jobToken)
	text := strings.ReplaceAll(mustRead(t, h.env["KUBECONFIG"]), strings.TrimSuffix(kas.K8sProxyURL, "/"), server)
	os.WriteFile(h.env["KUBECONFIG"], []byte(text), 0o600)

	redacted := strings.Replace(strings.TrimSuffix(kas.K8sProxyURL, "/"), "https://", "https://REDACTED@", 1) + "?private_token=REDACTED"
	h.run("get-contexts", "-o", "wide").expect(t, 0, redacted)
	for _, o := range []string{"json", "yaml"} {
		h.run("get-contexts", "-o", o).expect(t, 0, "REDACTED@")
		h.run("current-context", "-o", o).expect(t, 0, "REDACTED@")
		h.run("whoami", "-o", o).expect(t, 0, "REDACTED@", "gitlab:ci_job:4242")
	}
	h.run("whoami").expect(t, 0, "gitlab:ci_job:4242")
	// (kubectl is not on the harness's PATH: that check fails.)
	h.run("doctor").expect(t, ExitFailed, "REDACTED@", "✓ identity")
	h.run("doctor", "-o", "json").expect(t, ExitFailed, "REDACTED@")
	kas.Close() // the server is gone: its URL in the errors, redacted
	h.run("whoami").expectErr(t, ExitFailed, "cannot reach", "REDACTED@")
	h.run("doctor").expect(t, ExitFailed, "REDACTED@")
}

// TestURLCredentialsInFlagsAreNotEchoed: a URL with credentials given to
// a flag is refused, or used, without being repeated (issue 13, item 8).
func TestURLCredentialsInFlagsAreNotEchoed(t *testing.T) {
	h := newHarness(t)
	h.secrets = append(h.secrets, "glpat-inFlagUser", "glpat-inFlagQuery", "glpat-kasFlag")
	h.env["KUBECONFIG"] = h.kubeconfig("job-agents.yaml", "")
	h.runWithStdin("glpat-x\n", "login", "--gitlab-url", "https://gitlab.example.com/?private_token=glpat-inFlagQuery", "--token-stdin").
		expectErr(t, ExitBadInput, "private_token=REDACTED")
	h.runWithStdin("glpat-x\n", "login", "--gitlab-url", "https://u:glpat-inFlagUser@gitlab example.com", "--token-stdin").
		expectErr(t, ExitBadInput, "REDACTED@gitlab example.com")
	for _, kasURL := range []string{"http://u:glpat-kasFlag@kas.example/k8s-proxy/", "https://u:glpat-kasFlag@kas.example/k8s-proxy/",
		"https://kas.example/k8s-proxy/?private_token=glpat-kasFlag", "kas.example/k8s-proxy?glpat-kasFlag"} {
		h.run("update-kubeconfig", "--gitlab-url", "https://gitlab.example.com", "--agent", "1234", "--kas-url", kasURL).
			expectErr(t, ExitBadInput, "--kas-url", "REDACTED")
	}
	for _, url := range []string{"https://u:glpat-inFlagUser@gitlab.example.com", "https://gitlab.example.com/?private_token=glpat-inFlagQuery"} {
		h.run("get-token", "--agent-id", "1234", "--gitlab-url", url, "--token-store", "file").expectErr(t, ExitBadInput, "GitLab URL")
	}
}

// TestControlCharactersAreEscaped: context names, a namespace and a
// server's message with control characters reach the terminal escaped,
// and a name cannot add a line or a column (issue 13, item 10).
func TestControlCharactersAreEscaped(t *testing.T) {
	s := hostile.Start(t)
	s.Answer("POST", reviewPath, http.StatusForbidden, `{"kind":"Status","status":"Failure","message":"forbidden\u001b[2J\u001b]0;owned\u0007\r\nerror: fake"}`)
	h := newHarness(t)
	path := h.kubeconfig("hostile/names.yaml", s.URL+"/k8s-proxy")
	text := strings.Replace(mustRead(t, path), "    server: ", "    certificate-authority-data: "+base64.StdEncoding.EncodeToString(s.CAPEM)+"\n    server: ", 1)
	os.WriteFile(path, []byte(text), 0o600)
	h.env["KUBECONFIG"] = path
	prod := "group/agents:prod\x1b]0;pwned\x07"

	var runs []result
	check := func(r result) result {
		t.Helper()
		runs = append(runs, r)
		for _, out := range []string{r.stdout, r.stderr} {
			if strings.ContainsAny(out, "\x1b\x07\r\u009b") {
				t.Errorf("a control character reached the terminal:\n%q", out)
			}
		}
		return r
	}
	for _, o := range []string{"", "wide", "name"} {
		args := []string{"get-contexts"}
		if o != "" {
			args = append(args, "-o", o)
		}
		r := check(h.run(args...))
		r.expect(t, 0, `group/agents:prod\u001b]0;pwned\u0007`)
		if lines := strings.Count(r.stdout, "\n"); lines != 2+boolInt(o != "name") {
			t.Errorf("-o %s: %d lines, want a header (but for name) and one per context:\n%s", o, lines, r.stdout)
		}
		if o == "" && !strings.Contains(r.stdout, `apps\u001b[2J\r`) {
			t.Errorf("the namespace is not shown escaped:\n%s", r.stdout)
		}
	}
	for _, o := range []string{"json", "yaml"} {
		check(h.run("get-contexts", "-o", o)).expect(t, 0)
	}
	check(h.run("current-context")).expect(t, 0, `group/agents:prod\u001b]0;pwned\u0007`)
	check(h.run("use-context", prod, "--namespace", "apps")).expect(t, 0, `group/agents:prod\x1b]0;pwned\a`)
	check(h.run("use-context", "nope")).expectErr(t, ExitBadInput)
	check(h.run("whoami")).expectErr(t, ExitFailed, `forbidden\u001b[2J\u001b]0;owned\u0007\r\nerror: fake`)
	r := check(h.run("doctor"))
	if strings.Contains(r.stdout, "\nerror: fake") {
		t.Errorf("a server's message added a line:\n%s", r.stdout)
	}
	term := &fakeTerminal{choice: 0}
	h.term = term
	os.WriteFile(path, []byte(strings.Replace(text, "current-context:", "# current-context:", 1)), 0o600)
	check(h.run("use-context"))
	for _, o := range term.offered {
		if strings.ContainsAny(o, "\x1b\x07\r\n\t") {
			t.Errorf("a choice with control characters was offered: %q", o)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
