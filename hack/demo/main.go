// Command demo shows kubectl-gitlab at work in a simulated GitLab CI job:
// it builds the plugin, starts a loopback GitLab + KAS (testkas) with a
// self-signed CA, writes the kubeconfig GitLab would give the job, and runs
// real kubectl through the plugin. It stops everything it started.
//
// `make demo-real` runs the same job against the real KAS and agentk in
// front of a real kube-apiserver (real_test.go).
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const jobToken = "glcbt-64_demoJobToken"

func main() {
	if err := run(startTestkas); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

// backend is a GitLab and KAS for the demo's job. Its agents are 1234
// (group/agents:prod) and 5678 (group/sub/infra:staging, namespace apps),
// both of which the job may use as the agent; pods hello-0 run in default
// and web-0, web-1 in apps.
type backend struct {
	// what says what was started, for the demo's narration.
	what        string
	gitlabURL   string
	k8sProxyURL string
	caPEM       []byte
	// credentials are the bearer tokens KAS saw, when the backend can tell.
	credentials func() []string
	close       func()
}

// startTestkas runs testkas as the backend.
func startTestkas() (*backend, error) {
	kas, err := testkas.New(testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra", DefaultNamespace: "apps"},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, PipelineID: 77, ProjectID: 150, ProjectPath: "group/app",
			GroupIDs: []int64{23}, UserID: 5, Username: "alice", AllowedAgents: []int64{1234, 5678}}},
		Pods: map[string][]string{"default": {"hello-0"}, "apps": {"web-0", "web-1"}},
	})
	if err != nil {
		return nil, err
	}
	return &backend{
		what: "a loopback GitLab + KAS at " + kas.URL, gitlabURL: kas.URL, k8sProxyURL: kas.K8sProxyURL, caPEM: kas.CAPEM,
		credentials: func() []string {
			var seen []string
			for _, r := range kas.Requests() {
				if strings.HasPrefix(r.Authorization, "Bearer ") {
					seen = append(seen, strings.TrimPrefix(r.Authorization, "Bearer "))
				}
			}
			return seen
		},
		close: kas.Close,
	}, nil
}

func run(start func() (*backend, error)) error {
	kubectl, err := findKubectl()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kubectl-gitlab-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "bin")
	step("Building kubectl-gitlab into %s", bin)
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-gitlab"), "./cmd/kubectl-gitlab")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}

	kas, err := start()
	if err != nil {
		return err
	}
	defer kas.close()
	caFile := filepath.Join(dir, "kas-ca.pem")
	if err := os.WriteFile(caFile, kas.caPEM, 0o600); err != nil {
		return err
	}
	step("Started %s (self-signed CA in %s)", kas.what, caFile)

	kubeconfig := filepath.Join(dir, "job-kubeconfig")
	// The backend's agents, as GitLab lays out their job's KUBECONFIG.
	gitlabBytes, err := testkas.RenderJobKubeconfig(testkas.KubeconfigSpec{ProxyURL: kas.k8sProxyURL, JobToken: jobToken,
		Agents: []testkas.KubeconfigAgent{
			{ID: 1234, ConfigProjectPath: "group/agents", Name: "prod"},
			{ID: 5678, ConfigProjectPath: "group/sub/infra", Name: "staging", DefaultNamespace: "apps"},
		}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, gitlabBytes, 0o600); err != nil {
		return err
	}
	step("Wrote the kubeconfig GitLab gives a CI job, byte for byte as GitLab renders it: one context per agent, the job token inside, no CA, no current context")

	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"KUBECONFIG=" + kubeconfig,
		"CI_JOB_TOKEN=" + jobToken,
		"CI_API_V4_URL=" + kas.gitlabURL + "/api/v4",
		"CI_SERVER_URL=" + kas.gitlabURL,
	}
	sh := func(args ...string) error {
		fmt.Printf("\n$ kubectl %s\n", strings.Join(args, " "))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := exec.CommandContext(ctx, kubectl, args...)
		c.Env = env
		out, err := c.CombinedOutput()
		fmt.Print(strings.ReplaceAll(string(out), jobToken, "[MASKED]"))
		return err
	}
	expectOK := func(args ...string) error {
		if err := sh(args...); err != nil {
			return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	for _, args := range [][]string{
		{"gitlab", "version"},
		{"gitlab", "get-contexts"},
		{"gitlab", "use-context", "group/agents:prod"},
	} {
		if err := expectOK(args...); err != nil {
			return err
		}
	}
	fmt.Println("\n# KAS uses a self-signed certificate, so plain kubectl cannot trust it yet:")
	if err := sh("get", "pods"); err == nil {
		return fmt.Errorf("kubectl get pods worked before the CA was trusted")
	}
	fmt.Println("\n# Embed the CA (in a job: --certificate-authority \"$KAS_CERTIFICATE\", or just set KAS_CERTIFICATE):")
	for _, args := range [][]string{
		{"gitlab", "use-context", "group/agents:prod", "--certificate-authority", caFile},
		{"get", "pods"},
		{"gitlab", "use-context", "staging"},
		{"get", "pods"},
		{"gitlab", "get-contexts", "-o", "wide"},
	} {
		if err := expectOK(args...); err != nil {
			return err
		}
	}
	fmt.Println("\n# No job token in the kubeconfig: exec entries mint ci:<id>:$CI_JOB_TOKEN on demand:")
	env = append(env, "KAS_CERTIFICATE="+caFile)
	for _, args := range [][]string{
		{"gitlab", "update-kubeconfig", "--use-context", "group/agents:prod"},
		{"gitlab", "get-contexts"},
		{"get", "pods"},
	} {
		if err := expectOK(args...); err != nil {
			return err
		}
	}
	if data, _ := os.ReadFile(kubeconfig); strings.Contains(string(data), jobToken) {
		return fmt.Errorf("the job token is still in the kubeconfig")
	}
	if kas.credentials != nil {
		var seen []string
		for _, c := range kas.credentials() {
			seen = append(seen, strings.ReplaceAll(c, jobToken, "[job token]"))
		}
		sort.Strings(seen)
		step("KAS saw these credentials: %s", strings.Join(compact(seen), ", "))
	}
	step("Demo done; stopped %s and removed %s", kas.what, dir)
	return nil
}

func findKubectl() (string, error) {
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*")
	if len(matches) > 0 {
		sort.Strings(matches)
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("no kubectl found on PATH; install kubectl (https://kubernetes.io/docs/tasks/tools/) and run make demo again")
}

func step(format string, args ...any) {
	fmt.Printf("\n==> "+format+"\n", args...)
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
