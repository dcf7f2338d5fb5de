package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

const (
	deployerPAT = "glpat-discoveryDeployer"
	reporterPAT = "glpat-discoveryReporter"
	proxyPAT    = "glpat-discoveryK8sProxy"
	jobToken    = "glcbt-64_discoveryJob"
)

// server is testkas.DeployingProject with group/app's own agent, a job
// of group/app, a reporter's token and a k8s_proxy-only one.
func server(t *testing.T) *testkas.Server {
	cfg := testkas.DeployingProject(deployerPAT)
	cfg.Agents = append(cfg.Agents, testkas.Agent{ID: 7, Name: "own", ConfigProjectID: 150, ConfigProjectPath: "group/app", AccessAs: testkas.AccessAs{Implicit: true}})
	cfg.Jobs = []testkas.Job{{Token: jobToken, ID: 1, ProjectID: 150, AllowedAgents: []int64{1234, 7}}}
	cfg.PATs = append(cfg.PATs,
		testkas.PAT{Token: reporterPAT, ID: 2, Username: "rita", Scopes: []string{"read_api"}, Role: "reporter"},
		testkas.PAT{Token: proxyPAT, ID: 3, Username: "dora", Scopes: []string{"k8s_proxy"}})
	return testkas.Start(t, cfg)
}

func client(t *testing.T, kas *testkas.Server, auth gitlab.Auth) *gitlab.Client {
	c, err := gitlab.NewClient(kas.URL, auth, kas.Client().Transport, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func show(agents []Agent) string {
	var rows []string
	for _, a := range agents {
		var access []string
		for _, x := range a.Access {
			access = append(access, x.String())
		}
		rows = append(rows, fmt.Sprintf("%d %s:%s [%s] ns=%s", a.ID, a.ConfigProject, a.Name, strings.Join(access, " "), a.DefaultNamespace))
	}
	return strings.Join(rows, "\n")
}

func TestForProject(t *testing.T) {
	kas := server(t)
	dora := client(t, kas, gitlab.PrivateToken(deployerPAT))
	cases := []struct {
		project string
		want    string
		notes   int
	}{
		{"group/app", "1234 group/agents:prod [ci_access:ci_job user_access:user] ns=apps\n" +
			"9012 group/agents:static [user_access:agent] ns=\n" +
			"7 group/app:own [ci_access:agent registered] ns=\n" +
			"5555 secret/agents:hidden [user_access:user] ns=", 0},
		{"group/agents", "1234 group/agents:prod [ci_access:agent registered] ns=\n" +
			"9012 group/agents:static [ci_access:agent registered] ns=", 0},
		{"77", "1234 group/agents:prod [registered] ns=\n9012 group/agents:static [registered] ns=", 1},
	}
	for _, c := range cases {
		found, err := ForProject(context.Background(), dora, c.project)
		if err != nil {
			t.Fatalf("%s: %v", c.project, err)
		}
		if got := show(found.Agents); got != c.want || len(found.Notes) != c.notes {
			t.Errorf("%s:\n%s\nwant\n%s\nnotes %q", c.project, got, c.want, found.Notes)
		}
		if c.notes == 0 && found.Username != "dora" {
			t.Errorf("%s: username %q", c.project, found.Username)
		}
	}

	for _, c := range []struct {
		name, token, project string
		problem              Problem
		says                 string
	}{
		{"a reporter", reporterPAT, "group/app", NotDeveloper, "rita is not one"},
		{"no such project", deployerPAT, "group/nope", ProjectNotFound, "no project group/nope that dora can see"},
		{"a project the user cannot see", deployerPAT, "secret/agents", ProjectNotFound, "dora"},
		{"a k8s_proxy-only token, GraphQL", proxyPAT, "group/app", TokenRefused, "read_api"},
		{"a k8s_proxy-only token, REST", proxyPAT, "77", TokenRefused, "lacks the read_api scope"},
	} {
		_, err := ForProject(context.Background(), client(t, kas, gitlab.PrivateToken(c.token)), c.project)
		var e *Error
		if !errors.As(err, &e) || e.Problem != c.problem || !strings.Contains(err.Error(), c.says) || e.Fix() == "" {
			t.Errorf("%s: %v; want %s saying %q", c.name, err, c.problem, c.says)
		}
		if err != nil && strings.Contains(err.Error(), c.token) {
			t.Errorf("%s: the token is in the error", c.name)
		}
	}
}

func TestForJob(t *testing.T) {
	kas := server(t)
	job := client(t, kas, gitlab.JobToken(jobToken))
	rendered, err := kas.JobKubeconfig(jobToken)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(path, rendered, 0o600)
	for _, c := range []struct {
		name  string
		paths kubeconfig.Paths
		want  string
	}{
		{"names from the job's kubeconfig", kubeconfig.Paths{Explicit: path}, "1234 group/agents:prod [ci_access:ci_job] ns=apps\n7 group/app:own [ci_access:agent] ns="},
		{"no kubeconfig: no names", kubeconfig.Paths{Home: t.TempDir()}, "1234 group/agents: [ci_access:ci_job] ns=apps\n7 group/app: [ci_access:agent] ns="},
	} {
		set, err := kubeconfig.Load(c.paths)
		if err != nil {
			t.Fatal(err)
		}
		found, err := ForJob(context.Background(), job, set)
		if err != nil {
			t.Fatal(err)
		}
		if got := show(found.Agents); got != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}

// fakeGitLab answers as GitLab might where testkas has no knob: an
// authorization whose agent is hidden.
type fakeGitLab struct {
	auth *gitlab.ProjectAuthorizations
}

func (f fakeGitLab) AllowedAgents(context.Context) (*gitlab.AllowedAgents, error) { return nil, nil }
func (f fakeGitLab) ProjectAuthorizedAgents(context.Context, string) (*gitlab.ProjectAuthorizations, error) {
	return f.auth, nil
}
func (f fakeGitLab) ProjectAgents(context.Context, string) ([]gitlab.Agent, error) { return nil, nil }

func TestForProjectHiddenAgents(t *testing.T) {
	found, err := ForProject(context.Background(), fakeGitLab{&gitlab.ProjectAuthorizations{Found: true, Username: "dora", AgentsHidden: 2,
		UserAccessHidden: true, CIAccess: []gitlab.AuthorizedAgent{{ID: 3, Name: "x"}}}}, "g/p")
	if err != nil || len(found.Agents) != 1 || len(found.Notes) != 1 || !strings.Contains(found.Notes[0], "2 authorization(s) of g/p name an agent that GitLab does not show dora") {
		t.Errorf("%+v, %v", found, err)
	}
}
