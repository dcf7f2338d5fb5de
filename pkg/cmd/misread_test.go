package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/doctor"
)

// TestWarnsOfValuesKubectlMisreads: GitLab writes an agent's
// default_namespace 1e3 unquoted (Ruby's YAML), and kubectl then refuses
// the whole kubeconfig. get-contexts, use-context and doctor say so, with
// the fix; use-context --namespace applies it.
func TestWarnsOfValuesKubectlMisreads(t *testing.T) {
	kas := jobServerWith(t, func(c *testkas.Config) { c.Agents[0].DefaultNamespace = "1e3" })
	h := newHarness(t).withKAS(kas)
	data, err := kas.JobKubeconfig(jobToken)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.dir, "kubeconfig")
	os.WriteFile(path, data, 0o600)
	h.env["KUBECONFIG"] = path
	if _, err := clientcmd.LoadFromFile(path); err == nil {
		t.Fatalf("client-go loads GitLab's file; the test needs one it refuses:\n%s", data)
	}
	warning := []string{
		"warning: " + path + ":25: the namespace of context \"group/agents:prod\", 1e3, is unquoted: kubectl reads it as a number and refuses the whole file",
		"GitLab writes it so into every job's kubeconfig, from the agent's default_namespace",
		"kubectl gitlab use-context group/agents:prod --namespace 1e3",
		"kubectl config set-context cannot",
	}
	r := h.run("get-contexts")
	r.expect(t, 0, "group/agents:prod")
	r.expectErr(t, 0, warning...)
	h.run("use-context", "group/sub/infra:staging").expectErr(t, 0, warning...)

	fakeKubectl(h, "v1.33.1")
	rep := doctorReport(t, h.run("doctor", "-o", "json"))
	expectCheck(t, rep, "kubeconfig", doctor.Fail, "1e3, is unquoted: kubectl reads it as a number", "--namespace 1e3")

	r = h.run("use-context", "group/agents:prod", "--namespace", "1e3")
	r.expect(t, 0, `Switched to context "group/agents:prod"`)
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("use-context warns of what it fixed:\n%s", r.stderr)
	}
	if _, err := clientcmd.LoadFromFile(path); err != nil {
		t.Errorf("kubectl still refuses the file: %v\n%s", err, mustRead(t, path))
	}
	if r := h.run("get-contexts"); r.stderr != "" {
		t.Errorf("get-contexts still warns:\n%s", r.stderr)
	}
}
