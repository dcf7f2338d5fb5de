package cmd

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("get-token in a job made a network call to %s", r.URL)
	return nil, http.ErrNotSupported
}

// TestGetTokenInJobReadsNoKubeconfigAndNoNetwork: a malformed kubeconfig
// and a transport that fails the test do not matter to get-token in a job.
func TestGetTokenInJobReadsNoKubeconfigAndNoNetwork(t *testing.T) {
	h := newHarness(t)
	h.transport = failTransport{t}
	broken := filepath.Join(h.dir, "broken")
	os.WriteFile(broken, []byte("{{{ not yaml"), 0o600)
	h.env["KUBECONFIG"] = broken
	h.env["CI_JOB_TOKEN"] = jobToken
	h.env["KUBERNETES_EXEC_INFO"] = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`
	r := h.run("get-token", "--agent-id", "1234")
	r.expect(t, 0, `"apiVersion":"client.authentication.k8s.io/v1beta1"`, `"token":"ci:1234:`+jobToken+`"`)
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	h.run("get-token", "--agent-id", "1234", "--token-source", "pat").expectErr(t, 1, "no token for agent 1234")
	delete(h.env, "CI_JOB_TOKEN")
	r = h.run("get-token", "--agent-id", "1234", "--token-source", "ci")
	r.expectErr(t, 1, "CI_JOB_TOKEN is not set")
	if !strings.Contains(r.stderr, "kubectl gitlab login") {
		t.Errorf("no hint: %s", r.stderr)
	}
}
