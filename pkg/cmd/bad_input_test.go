package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input: a clear error, exit code 2, and the kubeconfig unchanged.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name     string
		setup    func(h *harness) (kubeconfig string, args []string)
		stderrIn []string
	}{
		{"malformed YAML names file and line", func(h *harness) (string, []string) {
			path := filepath.Join(h.dir, "broken.yaml")
			os.WriteFile(path, []byte("apiVersion: v1\ncontexts:\n- name: a\n  context: {cluster: gitlab\nusers: []\n"), 0o600)
			return path, []string{"use-context", "a"}
		}, []string{"broken.yaml:4: not valid YAML", "nothing was changed"}},
		{"wrong type names file and line", func(h *harness) (string, []string) {
			path := filepath.Join(h.dir, "typed.yaml")
			os.WriteFile(path, []byte("apiVersion: v1\nusers:\n- name: u\n  user:\n    token:\n      nested: ci:1:"+jobToken+"\n"), 0o600)
			return path, []string{"get-contexts"}
		}, []string{`typed.yaml:6:7: token of user "u": expected a string`}},
		{"CA file missing", func(h *harness) (string, []string) {
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod", "--certificate-authority", filepath.Join(h.dir, "nope.pem")}
		}, []string{"nope.pem: no such file", "nothing was written"}},
		{"CA file empty", func(h *harness) (string, []string) {
			ca := filepath.Join(h.dir, "empty.pem")
			os.WriteFile(ca, []byte("\n\n"), 0o600)
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod", "--certificate-authority", ca}
		}, []string{"empty.pem: is empty"}},
		{"CA file not PEM", func(h *harness) (string, []string) {
			ca := filepath.Join(h.dir, "der.crt")
			os.WriteFile(ca, []byte{0x30, 0x82, 0x01, 0x0a, 0x02}, 0o600)
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod", "--certificate-authority", ca}
		}, []string{"der.crt: is not PEM"}},
		{"CA bundle with a key in it", func(h *harness) (string, []string) {
			ca := writeTestCA(t, h.dir)
			f, _ := os.OpenFile(ca, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("-----BEGIN EC PRIVATE KEY-----\nTUlJQ0lqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FnOEFNSUlDQ2dLQ0FnRUE=\n-----END EC PRIVATE KEY-----\n")
			f.Close()
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod", "--certificate-authority", ca}
		}, []string{"block 2 is a EC PRIVATE KEY, not a CERTIFICATE"}},
		{"KAS_CERTIFICATE not PEM", func(h *harness) (string, []string) {
			h.env["KAS_CERTIFICATE"] = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod"}
		}, []string{"$KAS_CERTIFICATE (PEM text): is not PEM"}},
		{"KAS_CERTIFICATE names a missing file", func(h *harness) (string, []string) {
			h.env["KAS_CERTIFICATE"] = filepath.Join(h.dir, "gone.pem")
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod"}
		}, []string{"$KAS_CERTIFICATE = ", "gone.pem: no such file"}},
		{"--kas-url plain http", func(h *harness) (string, []string) {
			return h.kubeconfig("job-agents.yaml", ""), []string{"update-kubeconfig", "--gitlab-url", "https://gitlab.example", "--agent", "1", "--kas-url", "http://kas.example/k8s-proxy"}
		}, []string{"the KAS URL http://kas.example/k8s-proxy from --kas-url is plain http", "You must be logged in"}},
		{"--kas-url with a password", func(h *harness) (string, []string) {
			return h.kubeconfig("job-agents.yaml", ""), []string{"update-kubeconfig", "--gitlab-url", "https://gitlab.example", "--agent", "1", "--kas-url", "https://u:" + jobToken + "@kas.example/k8s-proxy"}
		}, []string{"the KAS URL https://REDACTED@kas.example/k8s-proxy from --kas-url carries a user name or password"}},
		{"KUBECONFIG names a missing file", func(h *harness) (string, []string) {
			h.env["KUBECONFIG"] = filepath.Join(h.dir, "missing.yaml")
			return "", []string{"use-context", "prod"}
		}, []string{"$KUBECONFIG names", "missing.yaml, which does not exist"}},
		{"--kubeconfig names a missing file", func(h *harness) (string, []string) {
			return "", []string{"get-contexts", "--kubeconfig", filepath.Join(h.dir, "missing.yaml")}
		}, []string{"--kubeconfig", "no such file"}},
		{"unknown output format", func(h *harness) (string, []string) {
			return h.kubeconfig("job-agents.yaml", ""), []string{"get-contexts", "-o", "xml"}
		}, []string{`unknown output format "xml"`}},
		{"too many arguments", func(h *harness) (string, []string) {
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "a", "b"}
		}, []string{"accepts at most 1 arg"}},
		{"name and --agent-id", func(h *harness) (string, []string) {
			return h.kubeconfig("job-agents.yaml", ""), []string{"use-context", "prod", "--agent-id", "1234"}
		}, []string{"both a context name and --agent-id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			path, args := c.setup(h)
			var before string
			if path != "" {
				h.env["KUBECONFIG"] = path
				before = mustRead(t, path)
			}
			r := h.run(args...)
			r.expectErr(t, ExitBadInput, c.stderrIn...)
			if !strings.HasPrefix(r.stderr, "error: ") || r.stdout != "" {
				t.Errorf("want one error on stderr and nothing on stdout, got\nstdout: %q\nstderr: %q", r.stdout, r.stderr)
			}
			if path != "" && mustRead(t, path) != before {
				t.Errorf("the kubeconfig changed")
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); path != "" {
				for _, e := range entries {
					if strings.Contains(e.Name(), ".lock") || strings.Contains(e.Name(), "tmp") {
						t.Errorf("left behind %s", e.Name())
					}
				}
			}
		})
	}
}

func TestKASCertificateAsPEMTextAndPath(t *testing.T) {
	for _, asText := range []bool{true, false} {
		h := newHarness(t)
		path := h.kubeconfig("job-agents.yaml", "")
		h.env["KUBECONFIG"] = path
		ca := writeTestCA(t, h.dir)
		h.env["KAS_CERTIFICATE"] = ca
		if asText {
			h.env["KAS_CERTIFICATE"] = mustRead(t, ca)
		}
		h.run("use-context", "prod").expect(t, 0, "Embedded the CA bundle", `into cluster "gitlab"`)
		if !strings.Contains(mustRead(t, path), "certificate-authority-data: "+caBase64(t, ca)) {
			t.Errorf("CA not embedded:\n%s", mustRead(t, path))
		}
	}
}

// The CA goes into the agent context's cluster only, never gitlab-deploy's.
func TestCAOnlyIntoTheAgentCluster(t *testing.T) {
	h := newHarness(t)
	path := h.kubeconfig("job-gitlab-deploy.yaml", "")
	h.env["KUBECONFIG"] = path
	h.env["KAS_CERTIFICATE"] = writeTestCA(t, h.dir)
	deployCA := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
	h.run("use-context", "gitlab-deploy").expect(t, 0, `Switched to context "gitlab-deploy"`)
	if strings.Count(mustRead(t, path), "certificate-authority-data") != 1 {
		t.Errorf("$KAS_CERTIFICATE went into a non-agent cluster")
	}
	h.run("use-context", "review").expect(t, 0)
	text := mustRead(t, path)
	if !strings.Contains(text, "certificate-authority-data: "+deployCA) || strings.Count(text, "certificate-authority-data") != 2 {
		t.Errorf("gitlab-deploy's CA changed or agent CA missing:\n%s", text)
	}
}
