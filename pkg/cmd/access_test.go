package cmd

import (
	"path/filepath"
	"testing"
)

func corpusFile(path string) string {
	return filepath.Join("../../testdata/access/corpus", path)
}

// access explain exits as kubectl auth can-i does: 0 in, 1 denied, 2 bad
// input, a file that KAS rejects included.
func TestAccessExplainExitCodes(t *testing.T) {
	h := newHarness(t)
	envs := corpusFile("gitlabhq/ci_cd_workflow/restrict-environments.yaml")
	h.run("access", "explain", envs, "--project", "path/to/project-2", "--environment", "staging").
		expect(t, ExitOK, "result:       ALLOWED: projects[1] path/to/project-2 authorizes the job in environment staging")
	h.run("access", "explain", envs, "--project", "path/to/project-2", "--environment", "review").
		expectErr(t, ExitFailed, "error: denied: environment review matches none of staging, review/*")
	h.run("access", "explain", corpusFile("gitlabhq/ci_cd_workflow/most-specific-wins-project-typo.yaml"), "--project", "example/my-project").
		expectErr(t, ExitBadInput, "so it grants nothing", "fix what kubectl gitlab access lint")
	h.run("access", "explain", envs, "--project", "app").expectErr(t, ExitBadInput, "has no namespace")

	users := corpusFile("gitlabhq/user_access/access-as-user.yaml")
	h.run("access", "explain", users, "--user", "alice", "--member", "group-2=maintainer", "--id", "group-2=2", "--id", "group-2/project-2=2").
		expect(t, ExitOK, "gitlab:user:alice", "gitlab:group_role:2:maintainer")
	h.run("access", "explain", users, "--user", "alice", "--role", "developer", "--tier", "free").
		expectErr(t, ExitFailed, "needs GitLab Premium")
	h.run("access", "explain", users, "--user", "alice", "--member", "group-2").expectErr(t, ExitBadInput, "is not PATH=ROLE")
	h.run("access", "explain", users, "--user", "alice", "--role", "developer", "--id", "group-2=x").expectErr(t, ExitBadInput, "is not PATH=ID")
	h.run("access", "explain", users, "--user", "alice", "--role", "developer", "--gitlab-version", "16.4").expectErr(t, ExitBadInput, "older than 16.5")
	h.run("access", "explain", users, "--user", "alice", "--role", "developer", "--tier", "gold").expectErr(t, ExitBadInput, "not one of free, premium, ultimate")
}

func TestAccessLintVersionAndTier(t *testing.T) {
	h := newHarness(t)
	branches := corpusFile("gitlabhq/ci_cd_workflow/restrict-protected-branches.yaml")
	h.run("access", "lint", branches).expect(t, ExitOK, "ok, no problems found")
	h.run("access", "lint", "--gitlab-version", "17.2", branches).expect(t, ExitOK, "exists since GitLab 17.3", "0 errors, 2 warnings")
	h.run("access", "lint", "--gitlab-version", "x", branches).expectErr(t, ExitBadInput, "is not major.minor")
	h.run("access", "lint", "--tier", "free", corpusFile("gitlabhq/ci_cd_workflow/impersonate-ci-job.yaml")).expect(t, ExitOK, "needs GitLab Premium")
	h.run("access", "lint", corpusFile("gitlabhq/repository/cilium-hubble-relay.yaml")).
		expectErr(t, ExitFailed, "KAS rejects the file, and the agent keeps its previous configuration")
}

func TestAccessRBACForUsers(t *testing.T) {
	h := newHarness(t)
	h.run("access", "rbac", "--for-project-id", "123", "--role", "maintainer").expect(t, ExitOK, "name: gitlab:project_role:123:maintainer", "kind: Group")
	h.run("access", "rbac", "--user", "alice", "--namespace", "shop", "--clusterrole", "edit").expect(t, ExitOK, "kind: RoleBinding", "name: gitlab:user:alice", "kind: User")
	h.run("access", "rbac", "--role", "maintainer").expectErr(t, ExitBadInput, "give the project ID or the group ID too")
}
