package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// TestCIStory runs a deploy job's whole story through real kubectl, on
// the KUBECONFIG bytes GitLab's template lays out (testkas renders them as
// lib/gitlab/kubernetes/kubeconfig/template.rb and Ruby's YAML do): a
// certificate-based gitlab-deploy current, two agent contexts, KAS behind
// GitLab's host with Omnibus's trailing slash, or on its own host as the
// Helm chart puts it. get-contexts; use-context by name with the CA,
// kubectl get pods; by agent ID; by KUBE_CONTEXT; update-kubeconfig, after
// which kubectl gets the job token from kubectl-gitlab get-token and the
// file holds none, and GitLab's server is as GitLab wrote it.
func TestCIStory(t *testing.T) {
	ks := kubectls(t)
	oldest, newest := ks[0], ks[len(ks)-1]
	for _, k := range ks {
		if k.Version < oldest.Version {
			oldest = k
		}
		if k.Version > newest.Version {
			newest = k
		}
	}
	if oldest.Version == newest.Version {
		t.Fatalf("the CI story needs two kubectl versions, found only %s (set KUBECTL_GITLAB_KUBECTLS)", oldest.Version)
	}
	for _, kasOwnHost := range []bool{false, true} {
		for _, k := range []kubectl{oldest, newest} {
			layout := map[bool]string{false: "Omnibus", true: "KAS on its own host"}[kasOwnHost]
			t.Run(layout+"/"+k.Version, func(t *testing.T) {
				t.Parallel()
				ciStory(t, k, kasOwnHost)
			})
		}
	}
}

func ciStory(t *testing.T, k kubectl, kasOwnHost bool) {
	kas := testkas.Start(t, testkas.Config{
		KASOwnHost: kasOwnHost,
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra", DefaultNamespace: "apps"},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, PipelineID: 77, ProjectID: 150, ProjectPath: "group/app", GroupIDs: []int64{23},
			UserID: 5, Username: "alice", AllowedAgents: []int64{1234, 5678},
			CertificateCluster: &testkas.CertificateCluster{Server: "https://35.1.2.3", Token: "eyJhbGciOiJSUzI1NiJ9.x.y", Namespace: "app-150-production"}}},
		Pods: map[string][]string{"default": {"hello-0"}, "apps": {"web-0", "web-1"}},
	})
	gitlabBytes, err := kas.JobKubeconfig(jobToken)
	if err != nil {
		t.Fatal(err)
	}
	serverLine := "    server: " + kas.K8sProxyURL + "\n"
	if !strings.Contains(string(gitlabBytes), serverLine) || strings.HasSuffix(kas.K8sProxyURL, "/") == kasOwnHost {
		t.Fatalf("the rendered kubeconfig is not the layout under test:\n%s", gitlabBytes)
	}
	e := newEnv(t)
	path := filepath.Join(e.dir, "job-kubeconfig")
	if err := os.WriteFile(path, gitlabBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	e.vars["KUBECONFIG"] = path
	e.vars["CI_JOB_TOKEN"] = jobToken
	e.vars["CI_API_V4_URL"] = kas.URL + "/api/v4"
	e.vars["CI_SERVER_URL"] = kas.URL
	var all []result
	run := e.recording(k.Path, &all)

	run("config", "current-context").ok(t, "gitlab-deploy")
	gc := run("gitlab", "get-contexts", "--all").ok(t, "group/agents:prod", "1234", "group/sub/infra:staging", "5678", "apps", "ci-token", "gitlab-deploy", "not-agent")
	if strings.Contains(gc.stderr, "warning") {
		t.Errorf("get-contexts warns:\n%s", gc)
	}

	// By name, trusting KAS's CA.
	run("gitlab", "use-context", "group/agents:prod", "--certificate-authority", kas.CAFile).ok(t, "Embedded the CA bundle", `Switched to context "group/agents:prod" (agent 1234)`)
	run("get", "pods").ok(t, "hello-0")
	if !kas.SawBearer("ci:1234:" + jobToken) {
		t.Fatalf("KAS did not see ci:1234:<job token>")
	}
	// By agent ID: the context GitLab wrote, with its namespace.
	run("gitlab", "use-context", "--agent-id", "5678").ok(t, `Switched to context "group/sub/infra:staging" (agent 5678)`)
	run("get", "pods").ok(t, "web-0", "web-1")
	// By KUBE_CONTEXT.
	e.vars["KUBE_CONTEXT"] = "group/agents:prod"
	run("gitlab", "use-context").ok(t, `Switched to context "group/agents:prod"`)
	delete(e.vars, "KUBE_CONTEXT")
	run("config", "current-context").ok(t, "group/agents:prod")

	// Exec entries instead of the pasted job token. testkas's GitLab has
	// KAS's self-signed CA; a job would trust it the same way.
	e.vars["KAS_CERTIFICATE"] = kas.CAFile
	kas.Reset()
	run("gitlab", "update-kubeconfig").ok(t, "group/agents:prod (agent 1234)", "group/sub/infra:staging (agent 5678, namespace apps)",
		"KAS: "+kas.K8sProxyURL+" (from cluster gitlab of the job's kubeconfig")
	for _, r := range kas.Requests() {
		if r.Path == "/api/v4/metadata" {
			t.Errorf("update-kubeconfig asked /metadata with the job token")
		}
	}
	run("get", "pods").ok(t, "hello-0")
	run("gitlab", "use-context", "--agent-id", "5678").ok(t)
	run("get", "pods").ok(t, "web-0")
	run("gitlab", "get-contexts").ok(t, "exec")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), jobToken) {
		t.Errorf("the job token is still in the kubeconfig:\n%s", data)
	}
	if !strings.Contains(string(data), serverLine) || !strings.HasPrefix(string(data), "---\napiVersion: v1\nkind: Config\nclusters:\n- name: gitlab\n") {
		t.Errorf("GitLab's bytes were rewritten:\n%s", data)
	}
	// gitlab-deploy is as GitLab wrote it.
	for _, line := range []string{"- name: gitlab-deploy\n  cluster:\n    server: https://35.1.2.3\n", "    token: eyJhbGciOiJSUzI1NiJ9.x.y\n", "    namespace: app-150-production\n"} {
		if !strings.Contains(string(data), line) {
			t.Errorf("gitlab-deploy lost %q:\n%s", line, data)
		}
	}
	noSecret(t, jobToken, all...)
}
