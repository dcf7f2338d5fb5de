package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/realkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testapiserver"
)

// The tests in realkas*_test.go run the plugin through real kubectl against
// the real GitLab agent server (KAS 16.5) and agentk, in front of a real
// kube-apiserver (internal/testing/realkas): nothing of KAS is guessed.

const (
	realJobToken       = "glcbt-64_RealKASjobTOKENsecret"
	realDeniedJobToken = "glcbt-64_RealKASdeniedJOBsecret"
	aliceRealPAT       = "glpat-RealKASaliceSecret"
	bobRealPAT         = "glpat-RealKASbobSecret"
)

// Agent 1234 (prod) lives in project group/agents and agent 5678 (staging)
// in group/sub/infra: the contexts of testdata/kubeconfig/job-agents.yaml.
const (
	prodAgentConfig = `
ci_access:
  projects:
  - id: group/sub/app
    access_as:
      ci_job: {}
user_access:
  access_as:
    user: {}
  projects:
  - id: group/agents
  groups:
  - id: group/sub
`
	stagingAgentConfig = `
ci_access:
  groups:
  - id: group/sub
`
)

// realWorld is GitLab as the job and the users see it: job 4242 of project
// group/sub/app (150) deploys to environment prod; prod shares itself with
// that project as the CI job, staging with everything in group/sub as
// itself. Job 4244 of group/sub/other may use staging only. alice is a
// Maintainer of group/agents, bob a Developer of group/sub.
func realWorld() realkas.World {
	return realkas.World{
		Groups: []realkas.Group{
			{ID: 23, Path: "group"},
			{ID: 25, Path: "group/sub", Members: map[string]realkas.Role{"bob": realkas.Developer}},
		},
		Projects: []realkas.Project{
			{ID: 77, Path: "group/agents", Members: map[string]realkas.Role{"alice": realkas.Maintainer}},
			{ID: 78, Path: "group/sub/infra"},
			{ID: 150, Path: "group/sub/app"},
			{ID: 151, Path: "group/sub/other"},
		},
		Users: []realkas.User{{ID: 5, Username: "alice"}, {ID: 6, Username: "bob"}},
		Agents: []realkas.Agent{
			{ID: 1234, Name: "prod", ProjectID: 77, Token: "glagent-RealKASprodAgentToken", Config: prodAgentConfig},
			{ID: 5678, Name: "staging", ProjectID: 78, Token: "glagent-RealKASstagingAgentToken", Config: stagingAgentConfig},
		},
		Jobs: []realkas.Job{
			{Token: realJobToken, ID: 4242, PipelineID: 77, ProjectID: 150, Username: "alice",
				Environment: &realkas.Environment{Name: "prod", Slug: "prod", Tier: "production"}},
			{Token: realDeniedJobToken, ID: 4244, PipelineID: 78, ProjectID: 151, Username: "alice",
				Environment: &realkas.Environment{Name: "review/x", Slug: "review-x-abc123", Tier: "development"}},
		},
		PATs: []realkas.PAT{
			{Token: aliceRealPAT, ID: 11, Name: "laptop", Username: "alice", Scopes: []string{"k8s_proxy", "read_api"}, ExpiresAt: "2099-01-01"},
			{Token: bobRealPAT, ID: 12, Name: "laptop", Username: "bob", Scopes: []string{"k8s_proxy", "read_api"}},
		},
	}
}

// realCIJobGroups are the groups real KAS impersonates for job 4242: the
// project's groups innermost first, as GitLab lists them
// (self_and_ancestor_ids), each with the environment's tier. The extras
// are cluster_test's ciJobExtra: the same job, agent and projects.
var realCIJobGroups = []string{
	"gitlab:ci_job",
	"gitlab:group:25", "gitlab:group_env_tier:25:production",
	"gitlab:group:23", "gitlab:group_env_tier:23:production",
	"gitlab:project:150", "gitlab:project_env:150:prod", "gitlab:project_env_tier:150:production",
}

// realUserRBAC lets the Developers of project group/agents read pods in ns
// (KAS impersonates alice with gitlab:project_role:77:developer, among
// others) and bob's group, through group/sub, read configmaps there.
const realUserRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: agents-developers-read-pods, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "gitlab:project_role:77:developer"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sub-developers-read-configmaps, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "gitlab:group_role:25:developer"}]
`

// realCluster is the real stack with the cluster set up as in cluster_test:
// CI jobs may read pods in ns, the agent may do anything.
type realCluster struct {
	*realkas.Stack
}

func startRealCluster(t *testing.T) *realCluster {
	t.Helper()
	c := &realCluster{realkas.Start(t, realWorld())}
	c.asAdmin(t, clusterRBAC+"---"+realUserRBAC, "apply", "-f", "-").ok(t, "rolebinding.rbac.authorization.k8s.io/ci-jobs-read-pods created")
	c.API.WaitForAccess(t,
		testapiserver.Access{User: "gitlab:ci_job:1", Groups: []string{"gitlab:ci_job"}, Verb: "list", Resource: "pods", Namespace: "ns"},
		testapiserver.Access{User: "gitlab:user:alice", Groups: []string{"gitlab:project_role:77:developer"}, Verb: "list", Resource: "pods", Namespace: "ns"},
		testapiserver.Access{User: "gitlab:user:bob", Groups: []string{"gitlab:group_role:25:developer"}, Verb: "list", Resource: "configmaps", Namespace: "ns"})
	return c
}

func (c *realCluster) asAdmin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runStdin(t, nil, stdin, kubectls(t)[0].Path, append([]string{"--kubeconfig", c.AdminKubeconfig}, args...)...)
}

// realKubectls are the default kubectl and the oldest and newest of the
// versioned ones: the range the real stack is run with.
func realKubectls(t *testing.T) []kubectl {
	all := kubectls(t)
	if len(all) <= 3 {
		return all
	}
	return []kubectl{all[0], all[1], all[len(all)-1]}
}

// jobEnv is a CI job's environment against the real stack: GitLab's
// kubeconfig for the job, CI_JOB_TOKEN and CI_API_V4_URL, and the system
// trusting the test CA as a job's image trusts GitLab's (not KAS's: the
// kubeconfig gets that with --certificate-authority).
func (c *realCluster) jobEnv(t *testing.T, token string) *env {
	t.Helper()
	e := newEnv(t)
	e.jobKubeconfig("job-agents.yaml", c.K8sProxyURL, token)
	e.vars["CI_JOB_TOKEN"] = token
	e.vars["CI_API_V4_URL"] = c.GitLab.URL + "/api/v4"
	e.vars["SSL_CERT_FILE"] = c.CAFile
	return e
}

// jobIn is a CI job's environment switched with use-context to an agent
// context, KAS's CA embedded, and to namespace ("" for none).
func (c *realCluster) jobIn(t *testing.T, k kubectl, token, context, namespace string) *env {
	t.Helper()
	e := c.jobEnv(t, token)
	args := []string{"gitlab", "use-context", context, "--certificate-authority", c.CAFile}
	if namespace != "" {
		args = append(args, "--namespace", namespace)
	}
	e.run(k.Path, args...).ok(t, "Embedded the CA bundle")
	return e
}

// TestRealKASCIJob: in a CI job, through every kubectl: use-context embeds
// KAS's CA, kubectl reaches the cluster as the job that real KAS
// impersonates (access_as: ci_job), whoami shows that identity exactly as
// the cluster reports it, and after update-kubeconfig the exec entries'
// ci:<agent-id>:<job token> credentials work through KAS with no token left
// in the kubeconfig. The staging agent (access_as: agent) lists namespaces
// as the agent's service account.
func TestRealKASCIJob(t *testing.T) {
	c := startRealCluster(t)
	for _, k := range realKubectls(t) {
		t.Run(k.Version, func(t *testing.T) {
			e := c.jobEnv(t, realJobToken)
			var all []result
			run := e.recording(k.Path, &all)
			defer func() { noSecret(t, realJobToken, all...) }()

			run("gitlab", "use-context", "group/agents:prod", "--certificate-authority", c.CAFile).ok(t, "Embedded the CA bundle")
			run("get", "pods", "-n", "ns").ok(t, "web-0")
			run("get", "pods", "-n", "other").fails(t, `pods is forbidden: User "gitlab:ci_job:4242" cannot list resource "pods"`)

			expectWhoami(t, k, run, "gitlab:ci_job:4242", realCIJobGroups, ciJobExtra, "Access as ci_job (access_as: {ci_job: {}})")

			// access_as: agent (staging, through group/sub): the agent's own
			// service account, which may list namespaces.
			run("gitlab", "use-context", "group/sub/infra:staging").ok(t)
			run("get", "ns").ok(t, realkas.AgentNamespace, "ns", "other")
			run("gitlab", "whoami").ok(t, realkas.AgentUser, "Access as agent (access_as: {agent: {}}, the default)")

			// Exec entries: the job token leaves the kubeconfig, kubectl asks
			// get-token for ci:<agent-id>:$CI_JOB_TOKEN on every call.
			run("gitlab", "update-kubeconfig", "--use-context", "group/agents:prod").ok(t, "exec kubectl-gitlab get-token --agent-id=1234")
			run("gitlab", "get-contexts").ok(t, "exec")
			if found := filesContaining(e.dir, realJobToken); len(found) != 0 {
				t.Errorf("the job token is still in %v", found)
			}
			run("get", "pods", "-n", "ns").ok(t, "web-0")
			run("gitlab", "whoami").ok(t, "gitlab:ci_job:4242")
			run("gitlab", "use-context", "group/sub/infra:staging").ok(t)
			run("get", "ns").ok(t, "gitlab-agent")
		})
	}
	// KAS asked GitLab which agents the job may use, with the job token, as
	// real KAS does for every ci: credential it has not cached.
	if !slices.ContainsFunc(c.GitLab.Requests(), func(r realkas.Request) bool {
		return r.Path == "/api/v4/job/allowed_agents" && r.JobToken == realJobToken && r.Status == 200
	}) {
		t.Errorf("KAS never asked GitLab for the job's allowed agents: %+v", c.GitLab.Requests())
	}
}

// TestRealKASWorkstation: on a workstation, login keeps alice's personal
// access token, update-kubeconfig finds KAS from GitLab's metadata and
// writes an exec entry, and kubectl reaches the cluster with
// pat:<agent-id>:<token> through user_access with access_as: user: the
// cluster sees gitlab:user:alice with a group per role she has in the
// project the agent shares itself with, and RBAC on those groups decides.
func TestRealKASWorkstation(t *testing.T) {
	c := startRealCluster(t)
	for _, k := range realKubectls(t) {
		t.Run(k.Version, func(t *testing.T) {
			e := newEnv(t)
			e.noBus()
			e.vars["SSL_CERT_FILE"] = c.CAFile
			var all []result
			run := e.recording(k.Path, &all)
			defer func() { noSecret(t, aliceRealPAT, all...) }()

			all = append(all, e.login(t, c.GitLab.URL, aliceRealPAT).ok(t, "Logged in to "+c.GitLab.URL))
			host := strings.TrimPrefix(c.GitLab.URL, "https://")
			run("gitlab", "update-kubeconfig", "--gitlab-url", c.GitLab.URL, "--agent", "1234",
				"--certificate-authority", c.CAFile, "--use-context", host+":agent-1234").ok(t, "KAS: "+c.K8sProxyURL+" (from GitLab's /api/v4/metadata)")
			if found := filesContaining(e.dir, aliceRealPAT); len(found) != 1 || filepath.Base(found[0]) != "tokens.json" {
				t.Fatalf("the token is in %v; want only the token file", found)
			}
			run("get", "pods", "-n", "ns").ok(t, "web-0")
			run("get", "configmaps", "-n", "ns").fails(t, `User "gitlab:user:alice" cannot list resource "configmaps"`)

			expectWhoami(t, k, run, "gitlab:user:alice", []string{"gitlab:user", "gitlab:project_role:77:guest", "gitlab:project_role:77:reporter",
				"gitlab:project_role:77:developer", "gitlab:project_role:77:maintainer"},
				map[string][]string{
					"agent.gitlab.com/id": {"1234"}, "agent.gitlab.com/username": {"alice"},
					"agent.gitlab.com/access_type": {"personal_access_token"}, "agent.gitlab.com/config_project_id": {"77"},
				}, "Access as user")
		})
	}

	// bob is a Developer of group/sub, which user_access lists: his groups
	// come from the group, and RBAC lets them read configmaps, not pods.
	k := realKubectls(t)[0]
	e, r1 := c.workstationWithToken(t, k, bobRealPAT)
	r2 := e.run(k.Path, "gitlab", "whoami").ok(t, "gitlab:user:bob", "gitlab:group_role:25:developer\n")
	r3 := e.run(k.Path, "get", "configmaps", "-n", "ns").ok(t, "settings")
	r4 := e.run(k.Path, "get", "pods", "-n", "ns").fails(t, `User "gitlab:user:bob" cannot list resource "pods"`)
	noSecret(t, bobRealPAT, r1, r2, r3, r4)
}

// workstationWithToken is a workstation whose $GITLAB_TOKEN is token, with
// an exec context for agent 1234 written by update-kubeconfig (and its
// result, to check for secrets).
func (c *realCluster) workstationWithToken(t *testing.T, k kubectl, token string) (*env, result) {
	t.Helper()
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = c.CAFile
	e.vars["GITLAB_TOKEN"] = token
	host := strings.TrimPrefix(c.GitLab.URL, "https://")
	r := e.run(k.Path, "gitlab", "update-kubeconfig", "--gitlab-url", c.GitLab.URL, "--agent", "1234",
		"--certificate-authority", c.CAFile, "--use-context", host+":agent-1234").ok(t)
	return e, r
}
