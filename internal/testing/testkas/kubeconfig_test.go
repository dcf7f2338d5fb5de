package testkas

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

const fixtures = "../../../testdata/kubeconfig"

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRenderJobKubeconfigIsGitLabsBytes renders each job kubeconfig of
// testdata/kubeconfig and compares it byte for byte: the two that Ruby
// wrote from GitLab's template (testdata/kubeconfig/gitlab/job-kubeconfig.rb)
// and the fixtures the plugin's tests use.
func TestRenderJobKubeconfigIsGitLabsBytes(t *testing.T) {
	const sampleToken = "glcbt-64_yzPwzR2Ldd6sSb_JQzjN"
	samples := KubeconfigSpec{ProxyURL: "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", JobToken: sampleToken,
		Agents: []KubeconfigAgent{{11, "group/agents", "prod", "apps"}, {12, "group/agents", "staging", ""}}}
	withDeploy := samples
	withDeploy.CertificateCluster = &CertificateCluster{Server: "https://35.1.2.3",
		CAPEM: []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), Token: "eyJhbGciOiJSUzI1NiJ9.x.y", Namespace: "my-app-123-production"}

	const kas = "https://kas.gitlab.example/k8s-proxy"
	twoAgents := []KubeconfigAgent{{1234, "group/agents", "prod", ""}, {5678, "group/sub/infra", "staging", ""}}
	legacyCA := mustDecode(t, "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=")
	cases := map[string]KubeconfigSpec{
		"gitlab/two-agents.yaml":               samples,
		"gitlab/two-agents-gitlab-deploy.yaml": withDeploy,
		"job-agents.yaml":                      {ProxyURL: kas, JobToken: "JOBTOKEN", Agents: twoAgents},
		"multi/2-agents.yaml":                  {ProxyURL: kas, JobToken: "JOBTOKEN", Agents: twoAgents},
		"job-omnibus.yaml":                     {ProxyURL: "https://gitlab.example/-/kubernetes-agent/k8s-proxy/", JobToken: "JOBTOKEN", Agents: twoAgents},
		"job-default-namespace.yaml": {ProxyURL: kas, JobToken: "JOBTOKEN", Agents: []KubeconfigAgent{
			{1234, "group/agents", "prod", "apps"}, {42, "other-group/cluster-management", "shared", "team-a"}}},
		"job-gitlab-deploy.yaml": {ProxyURL: kas, JobToken: "JOBTOKEN",
			Agents: []KubeconfigAgent{{1234, "group/agents", "prod", ""}, {5678, "group/agents", "review", ""}},
			CertificateCluster: &CertificateCluster{Server: "https://k8s.legacy.example:6443", CAPEM: legacyCA,
				Token: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxlZ2FjeSJ9.c2VydmljZS1hY2NvdW50.c2ln", Namespace: "my-project-150-production"}},
		"job-gitlab-deploy-one-agent.yaml": {ProxyURL: kas, JobToken: "JOBTOKEN",
			Agents: []KubeconfigAgent{{1234, "group/agents", "prod", ""}},
			CertificateCluster: &CertificateCluster{Server: "https://k8s.legacy.example:6443", CAPEM: legacyCA,
				Token: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxlZ2FjeSJ9.c2VydmljZS1hY2NvdW50.c2ln", Namespace: "my-project-150-production"}},
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(fixtures, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := RenderJobKubeconfig(spec)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("rendered:\n%s\nwant (%s):\n%s", got, name, want)
			}
			if _, err := clientcmd.Load(got); err != nil {
				t.Errorf("client-go cannot load it: %v", err)
			}
		})
	}
}

func TestRenderJobKubeconfigQuotesAsPsych(t *testing.T) {
	got, err := RenderJobKubeconfig(KubeconfigSpec{ProxyURL: "https://kas.example/k8s-proxy", JobToken: "t",
		Agents: []KubeconfigAgent{{1, "g/p", "a", "1e3"}, {2, "g/p", "b", "123"}, {3, "g/p", "yes", "null"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Psych leaves 1e3 plain (its float rule needs a dot), and kubectl then
	// reads a number where a string belongs: GitLab writes kubeconfigs
	// that client-go refuses.
	for _, line := range []string{"    namespace: 1e3\n", "    namespace: '123'\n", "- name: g/p:yes\n", "    namespace: 'null'\n"} {
		if !strings.Contains(string(got), line) {
			t.Errorf("no %q in\n%s", line, got)
		}
	}
	if _, err := clientcmd.Load(got); err == nil || !strings.Contains(err.Error(), "cannot unmarshal number") {
		t.Errorf("client-go loaded a namespace 1e3 written plain: %v", err)
	}
	if _, err := RenderJobKubeconfig(KubeconfigSpec{ProxyURL: "https://kas.example/k8s-proxy", JobToken: "t",
		Agents: []KubeconfigAgent{{1, "g/p", "a", "two\nlines"}}}); err == nil {
		t.Errorf("a value the renderer does not model was rendered")
	}
}

func TestJobKubeconfig(t *testing.T) {
	agents := []Agent{
		{ID: 1, Name: "own", ConfigProjectID: 150, ConfigProjectPath: "group/app", DefaultNamespace: "ignored", AccessAs: AccessAs{Implicit: true}},
		{ID: 2, Name: "shared", ConfigProjectID: 77, ConfigProjectPath: "group/agents", DefaultNamespace: "apps"},
	}
	jobs := []Job{
		{Token: "glcbt-agents", ID: 10, ProjectID: 150, AllowedAgents: []int64{1, 2}},
		{Token: "glcbt-none", ID: 11, ProjectID: 150},
		{Token: "glcbt-deploy", ID: 12, ProjectID: 150, CertificateCluster: &CertificateCluster{Server: "https://10.0.0.1", Token: "sa", Namespace: "app-150-prod"}},
	}
	for _, kasOwnHost := range []bool{false, true} {
		s := Start(t, Config{Agents: agents, Jobs: jobs, KASOwnHost: kasOwnHost})
		got, err := s.JobKubeconfig("glcbt-agents")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.Load(got)
		if err != nil {
			t.Fatal(err)
		}
		if server := cfg.Clusters["gitlab"].Server; server != s.K8sProxyURL {
			t.Errorf("server %s, want %s", server, s.K8sProxyURL)
		}
		own, shared := cfg.Contexts["group/app:own"], cfg.Contexts["group/agents:shared"]
		if own == nil || own.Namespace != "" || shared == nil || shared.Namespace != "apps" || cfg.AuthInfos["agent:2"].Token != "ci:2:glcbt-agents" {
			t.Errorf("contexts: %+v %+v", own, shared)
		}
		if cfg.CurrentContext != "" {
			t.Errorf("current-context %q without a certificate cluster", cfg.CurrentContext)
		}
		if got, err := s.JobKubeconfig("glcbt-none"); got != nil || err != nil {
			t.Errorf("a job without agents got a KUBECONFIG: %s %v", got, err)
		}
		got, err = s.JobKubeconfig("glcbt-deploy")
		if cfg, err := clientcmd.Load(got); err != nil || cfg.CurrentContext != "gitlab-deploy" || cfg.Clusters["gitlab"] == nil || len(cfg.AuthInfos) != 1 {
			t.Errorf("certificate cluster only: %v\n%s", err, got)
		}
	}
}
