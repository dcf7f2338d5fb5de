package realkas_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/realkas"
)

// TestBuild alone builds the binaries; CI runs it first with a long -timeout
// so that a cold build does not eat into other packages' timeouts.
func TestBuild(t *testing.T) {
	bins := realkas.Build(t)
	for _, path := range []string{bins.KAS, bins.Agentk, bins.FakeGitaly} {
		if info, err := os.Stat(path); err != nil || info.Mode()&0o111 == 0 {
			t.Errorf("%s: %v", path, err)
		}
	}
}

const jobToken = "glcbt-64_realkasJOBtoken"

// world: agent 1234 of project group/agents shares itself with project
// group/app (access_as ci_job) and with its Developers (access_as user).
func world() realkas.World {
	return realkas.World{
		Groups:   []realkas.Group{{ID: 23, Path: "group", Members: map[string]realkas.Role{"alice": realkas.Developer}}},
		Projects: []realkas.Project{{ID: 77, Path: "group/agents"}, {ID: 150, Path: "group/app"}},
		Users:    []realkas.User{{ID: 5, Username: "alice"}},
		Agents: []realkas.Agent{{ID: 1234, Name: "prod", ProjectID: 77, Token: "glagent-realkasAGENTtoken", Config: `
ci_access:
  projects:
  - id: group/app
    access_as:
      ci_job: {}
user_access:
  access_as:
    user: {}
  projects:
  - id: group/agents
`}},
		Jobs: []realkas.Job{{Token: jobToken, ID: 4242, PipelineID: 77, ProjectID: 150, Username: "alice",
			Environment: &realkas.Environment{Name: "production", Slug: "production", Tier: "production"}}},
		PATs: []realkas.PAT{{Token: "glpat-realkasPAT", ID: 1, Name: "laptop", Username: "alice", Scopes: []string{"k8s_proxy"}}},
	}
}

// TestStack: a CI job's and a user's requests go through the real KAS and
// agentk to the cluster, which sees the identities KAS impersonates.
func TestStack(t *testing.T) {
	s := realkas.Start(t, world())
	for _, c := range []struct {
		token, user string
		groups      []string
	}{
		{"ci:1234:" + jobToken, "gitlab:ci_job:4242", []string{"gitlab:ci_job", "gitlab:group:23", "gitlab:group_env_tier:23:production",
			"gitlab:project:150", "gitlab:project_env:150:production", "gitlab:project_env_tier:150:production", "system:authenticated"}},
		{"pat:1234:glpat-realkasPAT", "gitlab:user:alice", []string{"gitlab:user", "gitlab:project_role:77:guest", "gitlab:project_role:77:reporter",
			"gitlab:project_role:77:developer", "system:authenticated"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.K8sProxyURL+"/apis/authentication.k8s.io/v1/selfsubjectreviews",
			strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var review struct {
			Status struct {
				UserInfo struct {
					Username string   `json:"username"`
					Groups   []string `json:"groups"`
				} `json:"userInfo"`
			} `json:"status"`
		}
		if err := json.Unmarshal(body, &review); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: %s %s", c.user, resp.Status, body)
		}
		if got := review.Status.UserInfo; got.Username != c.user || !slices.Equal(got.Groups, c.groups) {
			t.Errorf("cluster saw %s in %q, want %s in %q", got.Username, got.Groups, c.user, c.groups)
		}
	}
}
