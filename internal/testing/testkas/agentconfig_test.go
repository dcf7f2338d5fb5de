package testkas

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// TestAllowedAgentsFromConfig: with agents' config.yaml (Agent.Config),
// GitLab's allowed_agents is derived as GitLab derives it
// (internal/testing/ciaccess, shared with realkas's GitLab): project
// entries, the agent's own project, the nearest group; environments; only
// agents under the project's top-level group; the entry as configuration.
// A file KAS 16.5 rejects (an unknown key, e.g. GitLab 17.3's
// protected_branches_only) admits only the agent's own project, and KAS
// then refuses the job.
func TestAllowedAgentsFromConfig(t *testing.T) {
	agents := []Agent{
		{ID: 1, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Config: `
ci_access:
  projects:
  - id: Group/Sub/App
    access_as: {ci_job: {}}
    environments: ["review/*", prod]
`},
		{ID: 2, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra", Config: `
ci_access:
  groups:
  - id: group/sub
    default_namespace: apps
  projects:
  - id: group/sub/infra
`},
		{ID: 3, Name: "foreign", ConfigProjectID: 300, ConfigProjectPath: "other/agents", Config: "ci_access:\n  projects:\n  - id: group/sub/app\n"},
		{ID: 4, Name: "newer", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Config: "ci_access:\n  groups:\n  - id: group\n    protected_branches_only: false\n"},
		{ID: 5, Name: "typo", ConfigProjectID: 77, ConfigProjectPath: "group/agents", Config: "ci_access:\n  project:\n  - id: group/sub/app\n"},
	}
	job := func(token string, id int64, path string, env *Environment) Job {
		return Job{Token: token, ID: id, PipelineID: 7, ProjectID: 150, ProjectPath: path, UserID: 5, Username: "alice", Environment: env}
	}
	s := Start(t, Config{Agents: agents, Jobs: []Job{
		job("glcbt-64_review", 1, "group/sub/app", &Environment{Name: "review/feature-1", Slug: "review-feature-1", Tier: "development"}),
		job("glcbt-64_production", 2, "group/sub/app", &Environment{Name: "production", Slug: "production", Tier: "production"}),
		job("glcbt-64_infra", 3, "group/sub/infra", nil),
		job("glcbt-64_agents", 4, "group/agents", nil),
		job("glcbt-64_other", 5, "other/agents", nil),
	}})
	type allowed struct {
		ID            int64           `json:"id"`
		Configuration json.RawMessage `json:"configuration"`
	}
	for _, c := range []struct {
		token   string
		ids     []int64
		configs []string
	}{
		// Agent 1's project entry (its environments match), then agent
		// 2's group entry; agent 3 is under another top-level group.
		{"glcbt-64_review", []int64{1, 2}, []string{`{"access_as":{"ci_job":{}},"environments":["review/*","prod"]}`, `{"default_namespace":"apps"}`}},
		{"glcbt-64_production", []int64{2}, nil},
		// A project entry wins over its group's default_namespace.
		{"glcbt-64_infra", []int64{2}, []string{`{}`}},
		// The agents' own project: implicitly, {} — also for the files KAS
		// rejects (4: a 17.3 key; 5: an unknown key), which grant nothing else.
		{"glcbt-64_agents", []int64{1, 4, 5}, []string{`{}`, `{}`, `{}`}},
		{"glcbt-64_other", []int64{3}, []string{`{}`}},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v4/job/allowed_agents", nil)
		req.Header.Set("Job-Token", c.token)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			AllowedAgents []allowed `json:"allowed_agents"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		var configs []string
		for _, a := range body.AllowedAgents {
			ids = append(ids, a.ID)
			configs = append(configs, string(a.Configuration))
		}
		if !slices.Equal(ids, c.ids) || (c.configs != nil && !slices.Equal(configs, c.configs)) {
			t.Errorf("%s: agents %v with %v, want %v with %v", c.token, ids, configs, c.ids, c.configs)
		}
	}

	// Through testkas's KAS: the derived authorization decides, and the
	// entry's access_as is the identity.
	for _, c := range []struct {
		bearer string
		status int
	}{
		{"ci:1:glcbt-64_review", 200},
		{"ci:1:glcbt-64_production", 403},
		{"ci:4:glcbt-64_infra", 403}, // the rejected file's group entry grants nothing
		{"ci:4:glcbt-64_agents", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.K8sProxyURL+"version", nil)
		req.Header.Set("Authorization", "Bearer "+c.bearer)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.bearer, resp.StatusCode, c.status)
		}
	}
}
