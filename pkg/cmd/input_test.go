package cmd

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpki"
)

// TestTokensWithLineBreaksAreRefused: a token that would break the HTTP
// header it travels in is refused with the variable's name, not passed to
// kubectl or GitLab (issue 13, item 16).
func TestTokensWithLineBreaksAreRefused(t *testing.T) {
	kas := jobServerWith(t, func(*testkas.Config) {})
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"job token with a newline", map[string]string{"CI_JOB_TOKEN": jobToken + "\n"}, []string{"get-token", "--agent-id", "1234"}, "CI_JOB_TOKEN"},
		{"job token with a CR", map[string]string{"CI_JOB_TOKEN": jobToken + "\r"}, []string{"get-token", "--agent-id", "1234"}, "CI_JOB_TOKEN"},
		{"personal token with CR LF", map[string]string{"GITLAB_TOKEN": "glpat-lineBreakSecret\r\n"}, []string{"get-token", "--agent-id", "1234"}, "GITLAB_TOKEN"},
		{"narrow personal token with a newline", map[string]string{"KUBECTL_GITLAB_TOKEN": "glpat-lineBreakSecret\n"}, []string{"get-token", "--agent-id", "1234"}, "KUBECTL_GITLAB_TOKEN"},
		{"update-kubeconfig in a job", map[string]string{"CI_JOB_TOKEN": jobToken + "\n", "CI_API_V4_URL": kas.URL + "/api/v4"}, []string{"update-kubeconfig"}, "CI_JOB_TOKEN"},
		{"update-kubeconfig on a workstation", map[string]string{"GITLAB_TOKEN": "glpat-lineBreak\nSecret"}, []string{"update-kubeconfig", "--gitlab-url", kas.URL, "--project", "group/agents"}, "GITLAB_TOKEN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t).withKAS(kas)
			h.secrets = append(h.secrets, "glpat-lineBreak")
			h.env["KUBECONFIG"] = filepath.Join(h.dir, "config")
			for k, v := range c.env {
				h.env[k] = v
			}
			kas.Reset()
			r := h.run(c.args...)
			r.expectErr(t, ExitBadInput, c.want+" holds a line break or another control character", "a token is one line")
			if len(kas.Requests()) != 0 {
				t.Errorf("a request went out: %+v", kas.Requests())
			}
		})
	}
	h := newHarness(t).withKAS(kas)
	h.runWithStdin("glpat-pasted\rTwice\n", "login", "--gitlab-url", kas.URL, "--token-stdin").
		expectErr(t, ExitBadInput, "the token from stdin holds a line break or another control character")
}

// TestKASCertificateAsBase64: $KAS_CERTIFICATE may hold the CA as base64
// (as certificate-authority-data does); a value that is neither a file,
// PEM nor a certificate in base64 is refused without being repeated
// (issue 13, item 17).
func TestKASCertificateAsBase64(t *testing.T) {
	h := newHarness(t)
	path := h.kubeconfig("job-agents.yaml", "")
	h.env["KUBECONFIG"] = path
	ca := writeTestCA(t, h.dir)
	h.env["KAS_CERTIFICATE"] = caBase64(t, ca)
	h.run("use-context", "prod").expect(t, 0, "Embedded the CA bundle from $KAS_CERTIFICATE (base64 of PEM)")
	if !strings.Contains(mustRead(t, path), "certificate-authority-data: "+caBase64(t, ca)) {
		t.Errorf("CA not embedded:\n%s", mustRead(t, path))
	}
	garbage := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("not a certificate, maybe a key: glpat-inCA ", 20)))
	for _, value := range []string{garbage, strings.Repeat("glpat-notBase64 ", 30)} {
		h.env["KAS_CERTIFICATE"] = value
		r := h.run("use-context", "prod")
		r.expectErr(t, ExitBadInput, "$KAS_CERTIFICATE")
		if strings.Contains(r.stderr, value[:40]) || strings.Contains(r.stderr, "glpat-") {
			t.Errorf("the value was repeated:\n%s", r.stderr)
		}
	}
}

// TestCAThatCannotWork: a CA bundle whose every certificate has expired
// is refused (Go's TLS check, kubectl's, refuses a chain that ends in
// one); an expired certificate among valid ones, and a certificate that
// is not a CA, get a warning (issue 13, item 12).
func TestCAThatCannotWork(t *testing.T) {
	h := newHarness(t)
	path := h.kubeconfig("job-agents.yaml", "")
	h.env["KUBECONFIG"] = path
	selfSigned := func(cn string, notAfter time.Time, isCA bool) []byte {
		pem, err := testpki.SelfSigned(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: notAfter,
			IsCA: isCA, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
		if err != nil {
			t.Fatal(err)
		}
		return pem
	}
	expiredOn := h.now.AddDate(0, 0, -1)
	old := selfSigned("old CA", expiredOn, true)
	write := func(name string, pems ...[]byte) string {
		p := filepath.Join(h.dir, name)
		var all []byte
		for _, b := range pems {
			all = append(all, b...)
		}
		os.WriteFile(p, all, 0o600)
		return p
	}
	before := mustRead(t, path)
	h.run("use-context", "prod", "--certificate-authority", write("old.pem", old)).
		expectErr(t, ExitBadInput, "old.pem: certificate 1 (CN=old CA) expired on "+expiredOn.UTC().Format(time.DateOnly), "kubectl refuses")
	if mustRead(t, path) != before {
		t.Fatal("the kubeconfig changed")
	}

	current := mustRead(t, writeTestCA(t, h.dir))
	r := h.run("use-context", "prod", "--certificate-authority", write("mixed.pem", old, []byte(current)))
	r.expect(t, 0, "Embedded the CA bundle")
	if !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, "certificate 1 (CN=old CA) expired") {
		t.Errorf("no warning about the expired certificate:\n%s", r.stderr)
	}

	leaf := selfSigned("kas.example.com", h.now.AddDate(0, 3, 0), false) // CA:FALSE
	r = h.run("use-context", "prod", "--certificate-authority", write("leaf.pem", leaf))
	r.expect(t, 0, "Embedded the CA bundle")
	if !strings.Contains(r.stderr, "certificate 1 (CN=kas.example.com) is not a CA (CA:FALSE)") {
		t.Errorf("no warning about a certificate that is not a CA:\n%s", r.stderr)
	}
}
