package access

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func parseOK(t *testing.T, name, yaml string) *Config {
	t.Helper()
	cfg := Parse(name, []byte(yaml))
	if cfg.HasErrors() {
		t.Fatalf("config has errors: %v", cfg.Problems)
	}
	return cfg
}

func explain(t *testing.T, cfg *Config, opts ExplainOptions) *Explanation {
	t.Helper()
	ex, err := Explain(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// verdict is what a test checks of an explanation: the entry that applies
// (`projects[1]`, `groups[0]`, `instance`, `implicit`, or "" for none), the
// result, and the identity mode.
type verdict struct {
	entry  string
	denial Denial // "" when allowed
	mode   AccessMode
}

func verdictOf(ex *Explanation) verdict {
	var v verdict
	if ex.Entry != nil {
		switch ex.Entry.Kind {
		case KindProject, KindGroup:
			v.entry = string(ex.Entry.Kind) + "s[" + strings.TrimSpace(string(rune('0'+ex.Entry.Index))) + "]"
		default:
			v.entry = string(ex.Entry.Kind)
		}
	}
	v.denial = ex.Denial
	if ex.Identity != nil {
		v.mode = ex.Identity.AccessAs
	}
	if ex.Allowed != (ex.Denial == "") {
		v.denial = "inconsistent"
	}
	return v
}

func TestExplainPageExamples(t *testing.T) {
	fixedPrecedence := strings.Replace(string(readCorpus(t, "gitlabhq/ci_cd_workflow/most-specific-wins-project-typo.yaml")), "  project:\n", "  projects:\n", 1)
	tests := []struct {
		name string
		file string // a docs example, or
		yaml string // inline YAML
		opts ExplainOptions
		want verdict
		// wantReason is a substring of Reason.
		wantReason string
	}{
		// "If a project has multiple configurations, only the most specific
		// configuration is used": the project entry without
		// protected_branches_only supersedes its group's entry that has it.
		{name: "project entry supersedes group entry", yaml: fixedPrecedence,
			opts: ExplainOptions{Project: "example/my-project", Environment: "dev"},
			want: verdict{"projects[0]", "", AccessAgent}},
		{name: "other projects of the group need a protected branch", yaml: fixedPrecedence,
			opts: ExplainOptions{Project: "example/other", Environment: "dev"},
			want: verdict{"groups[0]", DeniedUnprotectedBranch, ""}, wantReason: "protected_branches_only: true"},
		{name: "other projects of the group on a protected branch", yaml: fixedPrecedence,
			opts: ExplainOptions{Project: "example/other", Environment: "dev", ProtectedBranch: true},
			want: verdict{"groups[0]", "", AccessAgent}},
		// With the page's typo, KAS rejects the file: it grants nothing.
		{name: "the page's typo: KAS rejects the file", file: "most-specific-wins-project-typo.yaml",
			opts: ExplainOptions{Project: "example/my-project", Environment: "dev"},
			want: verdict{"groups[0]", DeniedConfigRejected, ""}, wantReason: "KAS rejects this file (1 error; run `kubectl gitlab access lint`), so GitLab keeps the agent's previous configuration"},

		{name: "review/* matches review/feature-1", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/project-2", Environment: "review/feature-1"},
			want: verdict{"projects[1]", "", AccessAgent}},
		{name: "review/* does not match review", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/project-2", Environment: "review"},
			want: verdict{"projects[1]", DeniedEnvironment, ""}, wantReason: "environment review matches none of staging, review/*"},
		{name: "staging matches", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/project-2", Environment: "staging"},
			want: verdict{"projects[1]", "", AccessAgent}},
		{name: "a job without environment", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/project-2"},
			want: verdict{"projects[1]", DeniedEnvironment, ""}, wantReason: "the job has no environment"},
		{name: "project-1 has no restriction", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/project-1", Environment: "anything"},
			want: verdict{"projects[0]", "", AccessAgent}},
		{name: "group-1 production", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/group-1/sub/app", Environment: "production"},
			want: verdict{"groups[0]", "", AccessAgent}},
		{name: "group-1 staging", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/group-1/app", Environment: "staging"},
			want: verdict{"groups[0]", DeniedEnvironment, ""}},
		{name: "not authorized at all", file: "restrict-environments.yaml",
			opts: ExplainOptions{Project: "path/to/project-3"},
			want: verdict{"", DeniedNotAuthorized, ""}, wantReason: "neither the project nor any of its groups (path, path/to) nor the instance"},

		{name: "instance authorizes every project", file: "authorize-instance.yaml",
			opts: ExplainOptions{Project: "anyone/anything", AgentProject: "platform/agents"},
			want: verdict{"instance", "", AccessAgent}},

		{name: "protected branch restriction: refused", file: "restrict-protected-branches.yaml",
			opts: ExplainOptions{Project: "path/to/project-1"},
			want: verdict{"projects[0]", DeniedUnprotectedBranch, ""}},
		{name: "protected branch restriction: admitted", file: "restrict-protected-branches.yaml",
			opts: ExplainOptions{Project: "path/to/project-1", ProtectedBranch: true},
			want: verdict{"projects[0]", "", AccessAgent}},
		{name: "protected and environment: both needed", file: "restrict-protected-branches.yaml",
			opts: ExplainOptions{Project: "path/to/group-1/app", ProtectedBranch: true, Environment: "staging"},
			want: verdict{"groups[0]", DeniedEnvironment, ""}},
		{name: "protected and environment: both refused", file: "restrict-protected-branches.yaml",
			opts: ExplainOptions{Project: "path/to/group-1/app", Environment: "staging"},
			want: verdict{"groups[0]", DeniedEnvironment, ""}, wantReason: "; and groups[0] path/to/group-1 has protected_branches_only"},

		{name: "ci_job impersonation", file: "impersonate-ci-job.yaml",
			opts: ExplainOptions{Project: "path/to/project"},
			want: verdict{"projects[0]", "", AccessCIJob}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.yaml)
			if tt.file != "" {
				data = readCorpus(t, "gitlabhq/ci_cd_workflow/"+tt.file)
			}
			ex := explain(t, Parse("config.yaml", data), tt.opts)
			if got := verdictOf(ex); got != tt.want {
				t.Errorf("got %+v, want %+v\n%s", got, tt.want, textOfExplanation(t, ex))
			}
			if !strings.Contains(ex.Reason, tt.wantReason) {
				t.Errorf("reason %q lacks %q", ex.Reason, tt.wantReason)
			}
		})
	}
}

func TestExplainPrecedenceDetails(t *testing.T) {
	fixed := strings.Replace(string(readCorpus(t, "gitlabhq/ci_cd_workflow/most-specific-wins-project-typo.yaml")), "  project:\n", "  projects:\n", 1)
	ex := explain(t, parseOK(t, "config.yaml", fixed), ExplainOptions{Project: "example/my-project", Environment: "dev"})
	if len(ex.Candidates) != 2 || ex.Candidates[0].Status != StatusApplies || ex.Candidates[1].Status != StatusSuperseded {
		t.Fatalf("candidates = %+v", ex.Candidates)
	}
	if c := ex.Candidates[1]; c.Kind != KindGroup || c.ID != "example" || c.Line != 9 || c.Column != 7 {
		t.Errorf("superseded = %+v", c)
	}

	// With the typo the verdict is the rejection, and what the file would
	// do once fixed is a note.
	typo := explain(t, Parse("config.yaml", readCorpus(t, "gitlabhq/ci_cd_workflow/most-specific-wins-project-typo.yaml")),
		ExplainOptions{Project: "example/my-project", Environment: "dev"})
	if len(typo.ConfigErrors) != 1 || typo.ConfigErrors[0].Line != 3 || !typo.Rejected || typo.Allowed || typo.Identity != nil {
		t.Errorf("config errors = %v, rejected %v", typo.ConfigErrors, typo.Rejected)
	}
	text := textOfExplanation(t, typo)
	textHasAll(t, text,
		"config error: config.yaml:3:3: error: unknown key `project`",
		"result:       REJECTED: KAS rejects this file",
		"Once the file is fixed, it would deny it: groups[0] example has protected_branches_only: true",
	)
}

func TestExplainDeeperGroupWins(t *testing.T) {
	cfg := parseOK(t, "config.yaml", `
ci_access:
  groups:
    - id: acme
      default_namespace: shared
    - id: acme/payments
      default_namespace: payments
      access_as: {ci_job: {}}
    - id: acme/payments/eu
      environments: [production]
`)
	ex := explain(t, cfg, ExplainOptions{Project: "acme/payments/api"})
	if got := verdictOf(ex); got != (verdict{"groups[1]", "", AccessCIJob}) || ex.DefaultNamespace != "payments" {
		t.Errorf("got %+v in %q\n%s", got, ex.DefaultNamespace, textOfExplanation(t, ex))
	}
	if len(ex.Candidates) != 2 || ex.Candidates[1].ID != "acme" || ex.Candidates[1].Status != StatusSuperseded {
		t.Errorf("candidates = %+v", ex.Candidates)
	}

	// The deepest group refuses; its parents would admit, but do not count.
	ex = explain(t, cfg, ExplainOptions{Project: "acme/payments/eu/api", Environment: "staging"})
	if got := verdictOf(ex); got != (verdict{"groups[2]", DeniedEnvironment, ""}) {
		t.Errorf("got %+v", got)
	}
	if !containsNote(ex, "The less specific groups[1] acme/payments would let this job in") {
		t.Errorf("notes = %q", ex.Notes)
	}
}

func TestExplainImplicitAndScope(t *testing.T) {
	cfg := parseOK(t, "config.yaml", `
ci_access:
  projects:
    - id: acme/app
    - id: other/app
  groups:
    - id: acme
      access_as: {ci_job: {}}
`)
	// The agent's own project is always authorized, as the agent, and that
	// wins over its group's entry.
	ex := explain(t, cfg, ExplainOptions{Project: "acme/agents", AgentProject: "acme/agents"})
	if got := verdictOf(ex); got != (verdict{"implicit", "", AccessAgent}) {
		t.Errorf("agent project: %+v", got)
	}
	// Without the agent project path, the group entry is all there is.
	ex = explain(t, cfg, ExplainOptions{Project: "acme/agents"})
	if got := verdictOf(ex); got != (verdict{"groups[0]", "", AccessCIJob}) {
		t.Errorf("no agent project: %+v", got)
	}
	// Entries outside the agent's top-level group are ignored ...
	ex = explain(t, cfg, ExplainOptions{Project: "OTHER/app", AgentProject: "acme/agents"})
	if got := verdictOf(ex); got != (verdict{"", DeniedNotAuthorized, ""}) || len(ex.Candidates) != 1 || ex.Candidates[0].Status != StatusIgnored {
		t.Errorf("outside: %+v %+v", got, ex.Candidates)
	}
	// ... unless instance-level authorization is on. Paths compare
	// case-insensitively.
	ex = explain(t, cfg, ExplainOptions{Project: "OTHER/app", AgentProject: "acme/agents", InstanceLevelAuthorization: true})
	if got := verdictOf(ex); got != (verdict{"projects[1]", "", AccessAgent}) {
		t.Errorf("instance level: %+v", got)
	}
}

func TestExplainDuplicateEntryLastWins(t *testing.T) {
	cfg := Parse("config.yaml", []byte(`
ci_access:
  projects:
    - id: acme/app
      default_namespace: first
    - id: acme/APP
      default_namespace: second
`))
	ex := explain(t, cfg, ExplainOptions{Project: "acme/app"})
	if ex.DefaultNamespace != "second" || ex.Candidates[0].Status != StatusIgnored {
		t.Errorf("namespace %q, candidates %+v", ex.DefaultNamespace, ex.Candidates)
	}
}

// The page's example: a job in group1/group1-1/project1 (groups 23 and 25,
// project 150) in environment prod of tier production.
func TestExplainCIJobIdentityPageExample(t *testing.T) {
	const pageGroups = "[gitlab:ci_job, gitlab:group:23, gitlab:group_env_tier:23:production, gitlab:group:25, gitlab:group_env_tier:25:production, gitlab:project:150, gitlab:project_env:150:prod, gitlab:project_env_tier:150:production]"
	cfg := parseOK(t, "config.yaml", `
ci_access:
  projects:
    - id: group1/group1-1/project1
      default_namespace: apps
      access_as:
        ci_job: {}
`)
	ex := explain(t, cfg, ExplainOptions{
		Project: "group1/group1-1/project1", ProjectID: 150, GroupIDs: []int64{23, 25},
		Environment: "prod", EnvironmentTier: "production", JobID: 1074499489,
	})
	id := ex.Identity
	if id == nil || !ex.Allowed {
		t.Fatalf("not allowed: %s", ex.Reason)
	}
	if got := "[" + strings.Join(id.Groups, ", ") + "]"; got != pageGroups {
		t.Errorf("groups\n got %s\nwant %s", got, pageGroups)
	}
	if id.Username != "gitlab:ci_job:1074499489" || !id.Exact || ex.DefaultNamespace != "apps" {
		t.Errorf("identity = %+v in %q", id, ex.DefaultNamespace)
	}
	var keys []string
	for _, x := range id.Extra {
		keys = append(keys, x.Key+"="+strings.Join(x.Values, ","))
	}
	wantExtra := []string{
		"agent.gitlab.com/id=<agent id>", "agent.gitlab.com/config_project_id=<agent project id>",
		"agent.gitlab.com/project_id=150", "agent.gitlab.com/ci_pipeline_id=<pipeline id>",
		"agent.gitlab.com/ci_job_id=1074499489", "agent.gitlab.com/username=<username>",
		"agent.gitlab.com/environment_slug=prod", "agent.gitlab.com/environment_tier=production",
	}
	if !equalStrings(keys, wantExtra) {
		t.Errorf("extra\n got %q\nwant %q", keys, wantExtra)
	}

	// Without IDs the identity shows placeholders, and says it is not exact.
	ex = explain(t, cfg, ExplainOptions{Project: "group1/group1-1/project1"})
	want := []string{"gitlab:ci_job", "gitlab:group:<id of group1>", "gitlab:group:<id of group1/group1-1>", "gitlab:project:<project id>"}
	if !equalStrings(ex.Identity.Groups, want) || ex.Identity.Exact || ex.Identity.Username != "gitlab:ci_job:<job id>" {
		t.Errorf("identity = %+v", ex.Identity)
	}
	if len(ex.Identity.Extra) != 6 {
		t.Errorf("a job without environment has no environment extras: %+v", ex.Identity.Extra)
	}

	// A project in a user namespace has no groups.
	ex = explain(t, parseOK(t, "c.yaml", "ci_access:\n  projects: [{id: alice/tool, access_as: {ci_job: {}}}]\n"),
		ExplainOptions{Project: "alice/tool", UserNamespace: true, ProjectID: 7, JobID: 9})
	if !equalStrings(ex.Identity.Groups, []string{"gitlab:ci_job", "gitlab:project:7"}) {
		t.Errorf("groups = %q", ex.Identity.Groups)
	}
}

func TestExplainStaticIdentity(t *testing.T) {
	cfg := parseOK(t, "config.yaml", `
ci_access:
  groups:
    - id: acme
      access_as:
        impersonate:
          username: deployer
          uid: "42"
          groups: [deployers]
          extra: [{key: example.com/team, val: [payments]}]
`)
	ex := explain(t, cfg, ExplainOptions{Project: "acme/app"})
	id := ex.Identity
	if id.AccessAs != AccessImpersonate || id.Username != "deployer" || id.UID != "42" || !equalStrings(id.Groups, []string{"deployers"}) ||
		len(id.Extra) != 1 || id.Extra[0].Key != "example.com/team" || id.Extra[0].Values[0] != "payments" {
		t.Errorf("identity = %+v", id)
	}
}

func TestExplainAgentIdentitySaysSo(t *testing.T) {
	ex := explain(t, Parse("c.yaml", readCorpus(t, "gitlabhq/ci_cd_workflow/authorize-projects.yaml")), ExplainOptions{Project: "path/to/project"})
	if ex.Identity.AccessAs != AccessAgent || !strings.Contains(ex.Identity.Description, "the agent's own service account") {
		t.Errorf("identity = %+v", ex.Identity)
	}
}

func TestExplainOptionErrors(t *testing.T) {
	cfg := parseOK(t, "c.yaml", "ci_access: {}\n")
	for _, tt := range []struct {
		opts ExplainOptions
		want string
	}{
		{ExplainOptions{}, "no project given"},
		{ExplainOptions{Project: "app"}, "has no namespace"},
		{ExplainOptions{Project: "a/b", Environment: "review/*"}, "contains '*'"},
		{ExplainOptions{Project: "a/b", EnvironmentTier: "production"}, "without an environment name"},
		{ExplainOptions{Project: "a/b", Environment: "prod", EnvironmentTier: "prod"}, "not one of GitLab's tiers"},
		{ExplainOptions{Project: "a/b/c", GroupIDs: []int64{1}}, "1 group IDs for 2 groups (a, a/b)"},
		{ExplainOptions{Project: "a/b", JobID: -1}, "negative"},
	} {
		_, err := Explain(cfg, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.want)
		}
	}
}

func TestExplainRendering(t *testing.T) {
	cfg := parseOK(t, "config.yaml", "ci_access:\n  projects:\n    - id: group1/group1-1/project1\n      default_namespace: apps\n      access_as: {ci_job: {}}\n  groups:\n    - id: group1\n")
	ex := explain(t, cfg, ExplainOptions{
		Project: "group1/group1-1/project1", ProjectID: 150, GroupIDs: []int64{23, 25},
		Environment: "review/feature-1", EnvironmentTier: "development", JobID: 4242,
	})
	text := textOfExplanation(t, ex)
	textHasAll(t, text,
		"project:      group1/group1-1/project1\n",
		"gitlab:       18.4, premium or ultimate (assumed)\n",
		"environment:  review/feature-1 (slug review-feature-1-1q251u, tier development)\n",
		"entry:        projects[0] group1/group1-1/project1 at config.yaml:3:7\n",
		"superseded:   groups[0] group1 at config.yaml:7:7: group group1 of the job's project (depth 1); superseded by the more specific entry\n",
		"result:       ALLOWED: projects[0] group1/group1-1/project1 authorizes the job\n",
		"namespace:    apps\n",
		"  user:       gitlab:ci_job:4242\n",
		"  groups:     gitlab:ci_job\n              gitlab:group:23\n",
		"gitlab:project_env:150:review-feature-1-1q251u\n",
		"The environment slug review-feature-1-1q251u is derived",
	)

	var b bytes.Buffer
	if err := ex.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Allowed  bool
		Entry    Candidate
		Identity Identity
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Allowed || got.Entry.Kind != KindProject || got.Entry.Line != 3 || got.Identity.Username != "gitlab:ci_job:4242" || len(got.Identity.Groups) != 8 {
		t.Errorf("JSON = %s", b.String())
	}
}

func containsNote(ex *Explanation, s string) bool {
	for _, n := range ex.Notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// textHasAll fails for each string the text lacks.
func textHasAll(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func textOfExplanation(t *testing.T, ex *Explanation) string {
	t.Helper()
	var b bytes.Buffer
	if err := ex.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestExplainNilConfigAndValidate(t *testing.T) {
	ex := explain(t, nil, ExplainOptions{Project: "a/b"})
	if ex.Denial != DeniedNotAuthorized {
		t.Errorf("nil config: %+v", ex)
	}
	if err := (LintOptions{AgentProject: "agents"}).Validate(); err == nil || !strings.Contains(err.Error(), "has no namespace") {
		t.Errorf("LintOptions.Validate: %v", err)
	}
	if err := (&ExplainOptions{Project: "a/b"}).Validate(); err != nil {
		t.Errorf("ExplainOptions.Validate: %v", err)
	}
}

func TestExplainOnlyFirst500Entries(t *testing.T) {
	yaml := strings.Replace(manyEntries(501, 0), "  groups:\n", "    - id: top/p500\n", 1) // p500 twice, both beyond 500
	cfg := Parse("config.yaml", []byte(yaml))
	ex := explain(t, cfg, ExplainOptions{Project: "top/p500"})
	if ex.Denial != DeniedNotAuthorized || len(ex.Candidates) != 2 || ex.Candidates[0].Status != StatusIgnored {
		t.Errorf("got %+v", ex)
	}
	ex = explain(t, cfg, ExplainOptions{Project: "top/p499"})
	if !ex.Allowed {
		t.Errorf("entry 499 is read: %+v", ex)
	}
}
