package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testapiserver"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// The agent's own identity: the service account it runs as. It may do
// anything (as agents often may), impersonation included.
const agentServiceAccount = "system:serviceaccount:gitlab-agent:gitlab-agent"

// A second job of the same project, in environment staging, and a third
// that may not use the ci_job agent.
const (
	stagingJobToken = "glcbt-64_E2EstagingJOBsecret"
	deniedJobToken  = "glcbt-64_E2EdeniedJOBsecret"
)

// ciJobGroups are the groups KAS impersonates for job 4242 (GitLab's
// example: project 150 in groups 23 and 25, environment prod of tier
// production).
var ciJobGroups = []string{
	"gitlab:ci_job",
	"gitlab:group:23", "gitlab:group_env_tier:23:production",
	"gitlab:group:25", "gitlab:group_env_tier:25:production",
	"gitlab:project:150", "gitlab:project_env:150:prod", "gitlab:project_env_tier:150:production",
}

var ciJobExtra = map[string][]string{
	"agent.gitlab.com/id":                {"1234"},
	"agent.gitlab.com/config_project_id": {"77"},
	"agent.gitlab.com/project_id":        {"150"},
	"agent.gitlab.com/ci_pipeline_id":    {"77"},
	"agent.gitlab.com/ci_job_id":         {"4242"},
	"agent.gitlab.com/username":          {"alice"},
	"agent.gitlab.com/environment_slug":  {"prod"},
	"agent.gitlab.com/environment_tier":  {"production"},
}

// clusterRBAC is what a cluster admin set up: CI jobs (group gitlab:ci_job)
// may only read pods in namespace ns; the static identity "deployer" may
// read configmaps there; the agent may do anything.
const clusterRBAC = `
apiVersion: v1
kind: Namespace
metadata: {name: ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: ns}
spec: {containers: [{name: web, image: registry.example/web:1}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ns}
data: {mode: production}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: gitlab-agent-cluster-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: gitlab-agent, namespace: gitlab-agent}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ns}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-jobs-read-pods, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "gitlab:ci_job"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-reader, namespace: ns}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-reads-configmaps, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: deployer}]
`

// cluster is a real kube-apiserver behind testkas, which authenticates job
// tokens and forwards as the agent would: with its service account's
// credentials and the Impersonate-* headers of each agent's access_as.
type cluster struct {
	api   *testapiserver.Server
	kas   *testkas.Server
	admin string // kubeconfig of a cluster admin, straight to the API server
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	api := testapiserver.Start(t)
	agent := api.Client(agentServiceAccount, "system:serviceaccounts", "system:serviceaccounts:gitlab-agent")
	job := func(token string, id int64, env testkas.Environment, agents ...int64) testkas.Job {
		return testkas.Job{Token: token, ID: id, PipelineID: 77, ProjectID: 150, ProjectPath: "group1/group1-1/project1",
			GroupIDs: []int64{23, 25}, UserID: 5, Username: "alice", Environment: &env, AllowedAgents: agents}
	}
	kas := testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", AccessAs: testkas.AccessAs{CIJob: true}},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra"},
			{ID: 9012, Name: "static", ConfigProjectID: 79, ConfigProjectPath: "group/ops", AccessAs: testkas.AccessAs{Impersonate: &testkas.Identity{
				Username: "deployer", UID: "deployer-uid", Groups: []string{"deployers"}, Extra: map[string][]string{"team": {"ops"}}}}},
		},
		Jobs: []testkas.Job{
			job(jobToken, 4242, testkas.Environment{Slug: "prod", Tier: "production"}, 1234, 5678, 9012),
			job(stagingJobToken, 4243, testkas.Environment{Slug: "staging", Tier: "staging"}, 1234, 5678, 9012),
			job(deniedJobToken, 4244, testkas.Environment{Slug: "review-x", Tier: "development"}, 5678),
		},
		Upstream: &testkas.Upstream{URL: api.URL, Transport: agent.Transport},
	})
	c := &cluster{api: api, kas: kas, admin: api.AdminKubeconfig(t)}
	c.asAdmin(t, clusterRBAC, "apply", "-f", "-").ok(t, "rolebinding.rbac.authorization.k8s.io/ci-jobs-read-pods created")
	api.WaitForAccess(t,
		testapiserver.Access{User: agentServiceAccount, Verb: "impersonate", Resource: "users"},
		testapiserver.Access{User: "gitlab:ci_job:1", Groups: []string{"gitlab:ci_job"}, Verb: "list", Resource: "pods", Namespace: "ns"},
		testapiserver.Access{User: "deployer", Verb: "get", Resource: "configmaps", Namespace: "ns"})
	return c
}

// asAdmin runs kubectl as a cluster admin, with stdin.
func (c *cluster) asAdmin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runStdin(t, nil, stdin, kubectls(t)[0].Path, append([]string{"--kubeconfig", c.admin}, args...)...)
}

// jobEnv is a CI job's environment: GitLab's kubeconfig against testkas
// with the token of the job, switched to the ci_job agent, its CA
// injected with use-context.
func (c *cluster) jobEnv(t *testing.T, k kubectl, token string) *env {
	t.Helper()
	e := newEnv(t)
	e.jobKubeconfig("job-agents.yaml", c.kas.K8sProxyURL, token)
	e.vars["CI_JOB_TOKEN"] = token
	e.vars["CI_API_V4_URL"] = c.kas.URL + "/api/v4"
	e.run(k.Path, "gitlab", "use-context", "group/agents:prod", "--certificate-authority", c.kas.CAFile).ok(t, "Embedded the CA bundle")
	return e
}

// runStdin runs a program with stdin, in e's environment (nil: this
// process's).
func runStdin(t *testing.T, e *env, stdin, program string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, program, args...)
	if e != nil {
		c.Env, c.Dir = e.list(), e.dir
	}
	c.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	r := result{cmd: filepath.Base(program) + " " + strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", r.cmd, err)
	}
	return r
}

// whoamiJSON is the part of kubectl gitlab whoami -o json the tests read.
type whoamiJSON struct {
	Context  string `json:"context"`
	UserInfo struct {
		Username string              `json:"username"`
		UID      string              `json:"uid,omitempty"`
		Groups   []string            `json:"groups"`
		Extra    map[string][]string `json:"extra"`
	} `json:"userInfo"`
	AccessAs struct {
		Mode string `json:"mode"`
	} `json:"accessAs"`
}

func decodeWhoami(t *testing.T, r result) whoamiJSON {
	t.Helper()
	var w whoamiJSON
	if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
		t.Fatalf("whoami -o json: %v\n%s", err, r)
	}
	return w
}

// expectWhoami runs kubectl gitlab whoami, plain (which must also say each
// of texts) and as JSON, and checks that the cluster sees user in groups
// (and system:authenticated, which kube-apiserver adds to whom it
// impersonates) with exactly extra; with kubectl 1.28 or later, that
// kubectl's own SelfSubjectReview client (kubectl auth whoami) agrees.
func expectWhoami(t *testing.T, k kubectl, run func(args ...string) result, user string, groups []string, extra map[string][]string, texts ...string) {
	t.Helper()
	r := run("gitlab", "whoami").ok(t, append([]string{user}, texts...)...)
	for _, g := range groups {
		if !strings.Contains(r.stdout, g+"\n") {
			t.Errorf("whoami lacks group %s:\n%s", g, r.stdout)
		}
	}
	w := decodeWhoami(t, run("gitlab", "whoami", "-o", "json").ok(t))
	if want := append(slices.Clone(groups), "system:authenticated"); w.UserInfo.Username != user || !slices.Equal(w.UserInfo.Groups, want) {
		t.Errorf("whoami: %s in %q; want %s in %q", w.UserInfo.Username, w.UserInfo.Groups, user, want)
	}
	if !maps.EqualFunc(w.UserInfo.Extra, extra, slices.Equal) {
		t.Errorf("extra = %q, want %q", w.UserInfo.Extra, extra)
	}
	if strings.HasPrefix(k.Version, "v1.27") {
		return // no SelfSubjectReview v1 in kubectl 1.27
	}
	var oracle struct {
		Status struct {
			UserInfo json.RawMessage `json:"userInfo"`
		} `json:"status"`
	}
	out := run("auth", "whoami", "-o", "json").ok(t)
	if err := json.Unmarshal([]byte(out.stdout), &oracle); err != nil {
		t.Fatalf("kubectl auth whoami: %v\n%s", err, out)
	}
	var theirs, ours any
	json.Unmarshal(oracle.Status.UserInfo, &theirs)
	mine, _ := json.Marshal(w.UserInfo)
	json.Unmarshal(mine, &ours)
	if mb, tb := mustJSON(ours), mustJSON(theirs); mb != tb {
		t.Errorf("kubectl gitlab whoami and kubectl auth whoami differ:\n%s\n%s", mb, tb)
	}
}

// TestClusterCIJobImpersonation: through every real kubectl and a real
// kube-apiserver behind testkas, a job whose agent impersonates it
// (access_as: ci_job) may read pods in ns and nothing more, and whoami
// shows the job's user, groups and extras exactly as GitLab documents them.
// Then access_as: agent (the agent's service account) and impersonate (a
// static identity, through an exec context).
func TestClusterCIJobImpersonation(t *testing.T) {
	c := startCluster(t)
	for i, k := range kubectls(t) {
		t.Run(k.Version, func(t *testing.T) {
			e := c.jobEnv(t, k, jobToken)
			var all []result
			run := e.recording(k.Path, &all)
			defer func() { noSecret(t, jobToken, all...) }()

			run("get", "pods", "-n", "ns").ok(t, "web-0")
			run("create", "configmap", "x", "-n", "ns", "--from-literal=a=b").fails(t,
				`configmaps is forbidden: User "gitlab:ci_job:4242" cannot create resource "configmaps"`)
			run("get", "pods", "-n", "other").fails(t, `pods is forbidden: User "gitlab:ci_job:4242" cannot list resource "pods"`)

			expectWhoami(t, k, run, "gitlab:ci_job:4242", ciJobGroups, ciJobExtra, "Access as ci_job (access_as: {ci_job: {}})")
			if i > 0 {
				return // the other access_as once, with the first kubectl
			}

			// --as through an agent that impersonates already: agentk refuses
			// nested impersonation and KAS answers 502 (kubectl shows the
			// message only at -v=8).
			run("get", "pods", "-n", "ns", "--as", "someone", "-v=8").fails(t, "502 Bad Gateway",
				"nested impersonation is not supported - agent is already configured to impersonate an identity")

			// access_as: agent (the default): the agent's service account,
			// which --as impersonates in turn.
			run("gitlab", "use-context", "group/sub/infra:staging").ok(t)
			run("gitlab", "whoami").ok(t, agentServiceAccount, "system:serviceaccounts:gitlab-agent", "Access as agent (access_as: {agent: {}}, the default)")
			run("create", "configmap", "by-agent", "-n", "other", "--from-literal=a=b").ok(t, "configmap/by-agent created")
			run("get", "pods", "-n", "ns", "--as", "gitlab:ci_job:1", "--as-group", "gitlab:ci_job").ok(t, "web-0")
			run("get", "pods", "-n", "other", "--as", "gitlab:ci_job:1", "--as-group", "gitlab:ci_job").fails(t, `User "gitlab:ci_job:1" cannot list resource "pods"`)

			// access_as: impersonate: a static identity, through an exec
			// context that use-context creates for an agent of the job.
			e.vars["KAS_CERTIFICATE"] = c.kas.CAFile
			run("gitlab", "use-context", "--agent-id", "9012").ok(t, "Created context group/ops:agent-9012")
			w := decodeWhoami(t, run("gitlab", "whoami", "-o", "json").ok(t))
			if w.UserInfo.Username != "deployer" || w.UserInfo.UID != "deployer-uid" || !slices.Equal(w.UserInfo.Groups, []string{"deployers", "system:authenticated"}) ||
				!slices.Equal(w.UserInfo.Extra["team"], []string{"ops"}) || w.AccessAs.Mode != "impersonate" {
				t.Errorf("static identity: %+v", w)
			}
			run("gitlab", "whoami").ok(t, "deployer", "Access as impersonate")
			run("get", "configmaps", "-n", "ns").ok(t, "settings")
			run("get", "pods", "-n", "ns").fails(t, `User "deployer" cannot list resource "pods"`)
			if !c.kas.SawBearer("ci:9012:" + jobToken) {
				t.Errorf("the exec entry's credential did not reach KAS")
			}

			// Not an agent context: a client certificate straight to the API
			// server, as a certificate-based gitlab-deploy context has.
			r := run("gitlab", "whoami", "--kubeconfig", c.admin)
			r.ok(t, "kubectl-gitlab-e2e-admin", "system:masters")
			if !strings.Contains(r.stderr, `"testapiserver" is not an agent context`) || strings.Contains(r.stdout, "Access as") {
				t.Errorf("whoami on a non-agent context:\n%s", r)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestClusterAccessRBAC: what kubectl gitlab access rbac prints applies to
// a real API server and gives the impersonated jobs exactly the rights it
// means: the jobs of project 150 in environment prod may edit configmaps in
// ns, and nothing else; a job of the same project in staging may not.
func TestClusterAccessRBAC(t *testing.T) {
	c := startCluster(t)
	k := kubectls(t)[0]
	prod := c.jobEnv(t, k, jobToken)
	staging := c.jobEnv(t, k, stagingJobToken)
	var all []result
	run := func(e *env, args ...string) result {
		r := e.run(k.Path, args...)
		all = append(all, r)
		return r
	}
	defer func() {
		noSecret(t, jobToken, all...)
		noSecret(t, stagingJobToken, all...)
	}()

	c.asAdmin(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: configmap-editor}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, create, update, delete]}]
`, "apply", "-f", "-").ok(t, "clusterrole.rbac.authorization.k8s.io/configmap-editor created")
	run(prod, "create", "configmap", "x", "-n", "ns", "--from-literal=a=b").fails(t, "forbidden")

	binding := run(prod, "gitlab", "access", "rbac", "--for-project-id", "150", "--environment", "prod",
		"--clusterrole", "configmap-editor", "--namespace", "ns").ok(t, "kind: RoleBinding", "gitlab:project_env:150:prod")
	c.asAdmin(t, binding.stdout, "apply", "-f", "-").ok(t, "rolebinding.rbac.authorization.k8s.io/")
	c.api.WaitForAccess(t, testapiserver.Access{User: "gitlab:ci_job:4242", Groups: []string{"gitlab:project_env:150:prod"}, Verb: "create", Resource: "configmaps", Namespace: "ns"})

	// Allowed: the role's verbs on configmaps in ns.
	run(prod, "create", "configmap", "x", "-n", "ns", "--from-literal=a=b").ok(t, "configmap/x created")
	run(prod, "get", "configmap", "x", "-n", "ns").ok(t, "x")
	run(prod, "delete", "configmap", "x", "-n", "ns").ok(t, `configmap "x" deleted`)
	// Forbidden: elsewhere, other resources, other verbs.
	run(prod, "create", "configmap", "y", "-n", "other", "--from-literal=a=b").fails(t, `cannot create resource "configmaps" in API group "" in the namespace "other"`)
	run(prod, "create", "secret", "generic", "s", "-n", "ns", "--from-literal=a=b").fails(t, `cannot create resource "secrets"`)
	run(prod, "auth", "can-i", "patch", "configmaps", "-n", "ns").fails(t)
	run(prod, "auth", "can-i", "deletecollection", "configmaps", "-n", "ns").fails(t)
	run(prod, "auth", "can-i", "update", "configmaps", "-n", "ns").ok(t, "yes")
	// Another environment of the same project gets nothing of it.
	run(staging, "gitlab", "whoami").ok(t, "gitlab:ci_job:4243", "gitlab:project_env:150:staging")
	run(staging, "create", "configmap", "z", "-n", "ns", "--from-literal=a=b").fails(t, `User "gitlab:ci_job:4243" cannot create resource "configmaps"`)
	run(staging, "get", "pods", "-n", "ns").ok(t, "web-0")

	// The default binding (GitLab's ci-job-view example) applies cleanly.
	def := run(prod, "gitlab", "access", "rbac").ok(t, "kind: ClusterRoleBinding", "name: ci-job-view")
	c.asAdmin(t, def.stdout, "apply", "-f", "-").ok(t, "clusterrolebinding.rbac.authorization.k8s.io/ci-job-view created")
	c.asAdmin(t, "", "get", "clusterrolebinding", "ci-job-view", "-o", "jsonpath={.roleRef.name} {.subjects[0].kind} {.subjects[0].name}").ok(t, "view Group gitlab:ci_job")
}

// writeFile writes a file for a test.
func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}
