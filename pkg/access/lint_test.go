package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestLintRules(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		opts LintOptions
		// want are `line:col severity code`, in order.
		want []string
		// wantText are substrings of the text output.
		wantText []string
	}{
		{name: "empty file", yaml: ""},
		{name: "other agent features are ignored", yaml: `
gitops:
  manifest_projects: [{id: a/b}]
user_access:
  access_as: {agent: {}}
  projects: [{id: a/b}]
observability: {logging: {level: debug}}
remote_development: {enabled: true}
container_scanning: {cadence: '0 2 * * *'}
flux: {webhook_receiver_url: http://x}
ci_access:
  projects: [{id: a/b}]
`},
		{name: "misspelt ci_access", yaml: "ci-access:\n  projects: [{id: a/b}]\n",
			want: []string{"1:1 error unknown-key"}, wantText: []string{"did you mean `ci_access`?"}},
		{name: "top-level projects", yaml: "projects:\n  - id: a/b\n",
			want: []string{"1:1 warning misplaced-key"}, wantText: []string{"under `ci_access`"}},
		{name: "unknown keys with did-you-mean at every level", yaml: `
ci_access:
  projects:
    - id: a/b
      enviroments: [prod]
      protected_branch_only: true
      default-namespace: x
      access_as:
        ci-job: {}
        impersonation: {username: u}
  group:
    - id: a
`, want: []string{
			"4:7 error unknown-key", "5:7 error unknown-key", "6:7 error unknown-key", "7:7 error empty-access-as",
			"8:9 error unknown-key", "9:9 error unknown-key", "10:3 error unknown-key"},
			wantText: []string{
				"did you mean `environments`?", "did you mean `protected_branches_only`?", "did you mean `default_namespace`?",
				"did you mean `ci_job`?", "did you mean `impersonate`?", "did you mean `groups`?"}},
		{name: "unknown key far from any", yaml: "ci_access:\n  wibble: 1\n",
			want: []string{"2:3 error unknown-key"}, wantText: []string{"(known: `projects`, `groups`, `instance`)"}},
		{name: "misplaced entry key", yaml: "ci_access:\n  id: a/b\n",
			want: []string{"2:3 error unknown-key"}, wantText: []string{"belongs to an item of `projects` or `groups`"}},
		{name: "ci_user is not implemented", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {ci_user: {}}\n",
			want: []string{"4:7 error empty-access-as", "4:19 error unknown-key"}, wantText: []string{"does not implement `ci_user`"}},
		{name: "username directly under access_as", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as:\n        username: u\n",
			want: []string{"4:7 error empty-access-as", "5:9 error unknown-key"}, wantText: []string{"belongs under `impersonate`"}},
		{name: "missing id", yaml: "ci_access:\n  projects:\n    - default_namespace: apps\n  groups:\n    - environments: [prod]\n",
			want: []string{"3:7 error missing-id", "5:7 error missing-id"}, wantText: []string{"ci_access.projects[0] has no `id`", "add `id: path/to/group`"}},
		{name: "id is a path, not a number", yaml: "ci_access:\n  projects:\n    - id: 1234\n",
			want: []string{"3:11 error wrong-type"}, wantText: []string{"must be a string, not the number 1234; if you mean the text, quote it: \"1234\""}},
		{name: "bad paths", yaml: `
ci_access:
  projects:
    - id: project-without-namespace
    - id: https://gitlab.com/a/b
    - id: a/b/
    - id: a//b
    - id: "a/b c"
    - id: ""
  groups:
    - id: top
`, want: []string{"3:7 error invalid-path", "4:7 error invalid-path", "5:7 error invalid-path", "6:7 error invalid-path", "7:7 error invalid-path", "8:7 error invalid-path"},
			wantText: []string{"has no namespace", "is a URL", "starts or ends with `/`", "empty segment", "paths hold only letters", "is empty"}},
		{name: "entries as plain strings", yaml: "ci_access:\n  projects:\n    - a/b\n",
			want: []string{"3:7 error wrong-type"}, wantText: []string{"write `- id: a/b`"}},
		{name: "projects not a list", yaml: "ci_access:\n  projects:\n    id: a/b\n",
			want: []string{"3:5 error wrong-type"}, wantText: []string{"must be a list of entries"}},
		{name: "ci_access not a mapping", yaml: "ci_access: [a]\n",
			want: []string{"1:12 error wrong-type"}},
		{name: "document not a mapping", yaml: "- ci_access\n",
			want: []string{"1:1 error wrong-type"}},
		{name: "wrong value types", yaml: `
ci_access:
  projects:
    - id: a/b
      environments: production
      protected_branches_only: "true"
      default_namespace: [apps]
    - id: a/c
      protected_branches_only: yes
      environments: [prod, 12, ~]
`, want: []string{"4:21 error wrong-type", "5:32 error wrong-type", "6:26 error wrong-type", "8:32 error wrong-type", "9:28 error wrong-type", "9:32 error missing-value"},
			wantText: []string{"must be a list, not the string \"production\": write `environments: [production]`",
				"must be true or false, not the string \"true\"", "YAML 1.1 (GitLab's Ruby) reads as a boolean",
				"item 1 of `environments` in ci_access.projects[1] must be a string, not the number 12"}},
		{name: "too many projects and groups", yaml: manyEntries(501, 502),
			want:     []string{"503:7 error too-many-entries", "1005:7 error too-many-entries"},
			wantText: []string{"ci_access.projects has 501 entries, and GitLab reads only the first 500: this one and the 0 after it are ignored", "ci_access.groups has 502 entries"}},
		{name: "500 is fine", yaml: manyEntries(500, 500)},
		{name: "duplicate entries compare paths case-insensitively", yaml: `
ci_access:
  projects:
    - id: a/b
    - id: a/c
    - id: A/B
  groups:
    - id: a
    - id: a
`, want: []string{"5:7 error duplicate-entry", "8:7 error duplicate-entry"},
			wantText: []string{"`A/B` is listed twice in ci_access.projects (also at line 3)"}},
		{name: "duplicate keys", yaml: "ci_access:\n  projects:\n    - id: a/b\n      id: a/c\n",
			want: []string{"4:7 error duplicate-key"}, wantText: []string{"written twice in ci_access.projects[0] (first at line 3)"}},
		{name: "environment patterns", yaml: `
ci_access:
  projects:
    - id: a/b
      environments:
        - ""
        - " production"
        - /review
        - review/*
        - "prod#1"
        - "*"
        - review/$CI_COMMIT_REF_SLUG
        - staging
`, want: []string{"5:11 error invalid-environment", "6:11 error invalid-environment", "7:11 error invalid-environment", "9:11 error invalid-environment", "11:11 warning variable-not-expanded"},
			wantText: []string{"cannot be empty", "leading or trailing spaces", "starts or ends with `/`", "contains '#'", "expands no variables"}},
		{name: "empty environments is no restriction", yaml: "ci_access:\n  projects:\n    - id: a/b\n      environments: []\n    - id: a/c\n      environments:\n",
			want: []string{"4:7 warning empty-environments", "6:7 warning empty-environments"}, wantText: []string{"which GitLab reads as no restriction"}},
		{name: "conflicting access_as", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as:\n        agent: {}\n        ci_job: {}\n        impersonate: {username: u}\n",
			want: []string{"6:9 error conflicting-access-as"}, wantText: []string{"names `agent` and `ci_job` and `impersonate`"}},
		{name: "empty access_as", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {}\n",
			want: []string{"4:7 error empty-access-as"}},
		{name: "null access_as and ci_job", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as:\n    - id: a/c\n      access_as:\n        ci_job:\n",
			want: []string{"4:7 error missing-value", "7:9 error missing-value"}, wantText: []string{"write `ci_job: {}`"}},
		{name: "agent takes no settings", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {agent: {name: x}}\n",
			want: []string{"4:27 error unknown-key"}, wantText: []string{"`agent` takes no settings"}},
		{name: "impersonate without username", yaml: `
ci_access:
  projects:
    - id: a/b
      access_as:
        impersonate:
          groups: [deployers, ""]
          uid: "1000"
          extra:
            - key: example.com/team
              val: [a]
            - key: ""
              val: []
    - id: a/c
      access_as: {impersonate: }
    - id: a/d
      access_as: {impersonate: {username: ""}}
`, want: []string{"5:9 error impersonate-without-username", "6:31 error invalid-impersonate", "11:15 error invalid-impersonate", "11:15 error invalid-impersonate", "14:19 error impersonate-without-username", "16:33 error impersonate-without-username"},
			wantText: []string{"has no `username`, which Kubernetes requires"}},
		{name: "impersonate extra as a map", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {impersonate: {username: u, uid: 1000, extra: {a: [b]}}}\n",
			want: []string{"4:51 error wrong-type", "4:64 error wrong-type"}},
		{name: "valid impersonate", yaml: "ci_access:\n  groups:\n    - id: a\n      access_as:\n        impersonate:\n          username: deployer\n          uid: \"1000\"\n          groups: [x]\n          extra: [{key: example.com/k, val: [v]}]\n"},
		{name: "instance with an id; a trailing --- is harmless", yaml: "ci_access:\n  instance:\n    id: a\n---\n",
			want: []string{"3:5 error unknown-key"}, wantText: []string{"`instance` takes no `id`"}},
		{name: "instance without value", yaml: "ci_access:\n  instance:\n",
			want: []string{"2:3 error missing-value"}, wantText: []string{"write `instance: {}`"}},
		{name: "instance with settings", yaml: "ci_access:\n  instance:\n    default_namespace: ci\n    environments: [production]\n    protected_branches_only: true\n    access_as: {ci_job: {}}\n"},
		{name: "default namespace", yaml: "ci_access:\n  projects:\n    - id: a/b\n      default_namespace: My_Apps\n    - id: a/c\n      default_namespace: apps\n",
			want: []string{"4:7 error invalid-namespace"}},
		{name: "GitLab.com offers neither protected_branches_only nor instance", opts: LintOptions{GitLabCom: true},
			yaml: "ci_access:\n  projects:\n    - id: a/b\n      protected_branches_only: true\n    - id: a/c\n      protected_branches_only: false\n  instance: {}\n",
			want: []string{"4:7 warning not-on-gitlab-com", "7:3 warning not-on-gitlab-com"}},
		{name: "self-managed allows protected_branches_only", yaml: "ci_access:\n  projects:\n    - id: a/b\n      protected_branches_only: true\n"},
		{name: "outside the agent's top-level group", opts: LintOptions{AgentProject: "acme/platform/agents"},
			yaml:     "ci_access:\n  projects:\n    - id: acme/app\n    - id: ACME/other\n    - id: other/app\n  groups:\n    - id: acme/team\n    - id: partner\n",
			want:     []string{"5:7 warning outside-top-level-group", "8:7 warning outside-top-level-group"},
			wantText: []string{"project `other/app` is outside `acme`, the top-level group of the agent project `acme/platform/agents`"}},
		{name: "instance-level authorization allows other top-level groups", opts: LintOptions{AgentProject: "acme/agents", InstanceLevelAuthorization: true},
			yaml: "ci_access:\n  projects:\n    - id: other/app\n"},
		{name: "bad agent project option", opts: LintOptions{AgentProject: "agents"}, yaml: "ci_access:\n  projects:\n    - id: other/app\n",
			want: []string{"1:0 warning invalid-path"}},
		{name: "anchors, aliases and merge keys", yaml: `
defaults: &defaults
  protected_branches_only: true
  environments: &envs [production, staging]
ci_access:
  projects:
    - <<: *defaults
      id: a/b
    - id: a/c
      environments: *envs
      enviroments: *envs
`, want: []string{"10:7 error unknown-key"}},
		{name: "bad merge", yaml: "ci_access:\n  projects:\n    - <<: [a]\n      id: a/b\n",
			want: []string{"3:12 error wrong-type"}},
		{name: "second document", yaml: "ci_access: {}\n---\nci_access: {}\n",
			want: []string{"3:1 error yaml-syntax"}},
		{name: "syntax error", yaml: "ci_access:\n  projects:\n    - id: a/b\n   bad: [\n",
			want: []string{"4:0 error yaml-syntax"}}, // yaml.v3 itself says line 1
		{name: "tab indentation", yaml: "ci_access:\n\tprojects: []\n",
			want: []string{"2:0 error yaml-syntax"}},
		{name: "unknown anchor", yaml: "ci_access:\n  projects: *nope\n",
			want: []string{"2:13 error yaml-syntax"}},
		{name: "invalid UTF-8", yaml: "ci_access:\n  projects: [\xff]\n",
			want: []string{"2:14 error yaml-syntax"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Lint("config.yaml", []byte(strings.TrimPrefix(tt.yaml, "\n")), tt.opts)
			text := textOf(t, res)
			if got := shortAll(res.Diagnostics); !equalStrings(got, tt.want) {
				t.Errorf("diagnostics\n got %q\nwant %q\n%s", got, tt.want, text)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(text, s) {
					t.Errorf("output lacks %q:\n%s", s, text)
				}
			}
			wantErr := false
			for _, w := range tt.want {
				wantErr = wantErr || strings.Contains(w, " error ")
			}
			if res.HasErrors() != wantErr || res.OK == wantErr {
				t.Errorf("HasErrors() = %v, OK = %v, want errors %v", res.HasErrors(), res.OK, wantErr)
			}
		})
	}
}

// manyEntries writes a ci_access with n projects and m groups, one line
// each: project i is on line 3+i, group i on line n+4+i.
func manyEntries(n, m int) string {
	var b strings.Builder
	b.WriteString("ci_access:\n  projects:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - id: top/p%d\n", i)
	}
	b.WriteString("  groups:\n")
	for i := 0; i < m; i++ {
		fmt.Fprintf(&b, "    - id: top/g%d\n", i)
	}
	return b.String()
}

func TestLintJSON(t *testing.T) {
	res := Lint("config.yaml", []byte("ci_access:\n  project: []\n"), LintOptions{})
	var b bytes.Buffer
	if err := res.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		File        string
		Errors      int
		Warnings    int
		OK          bool
		Diagnostics []Diagnostic
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := Diagnostic{File: "config.yaml", Line: 2, Column: 3, Severity: SeverityError, Code: CodeUnknownKey,
		Message: "unknown key `project` in ci_access; did you mean `projects`? GitLab ignores unknown keys, so nothing under it is authorized", Suggestion: "projects"}
	if got.File != "config.yaml" || got.Errors != 1 || got.Warnings != 0 || got.OK || len(got.Diagnostics) != 1 || got.Diagnostics[0] != want {
		t.Errorf("JSON = %s", b.String())
	}

	// A clean file has an empty list, not null, for consumers that iterate.
	b.Reset()
	if err := Lint("ok.yaml", []byte("ci_access: {instance: {}}\n"), LintOptions{}).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"diagnostics": []`) || !strings.Contains(b.String(), `"ok": true`) {
		t.Errorf("JSON = %s", b.String())
	}
}

func TestDiagnosticString(t *testing.T) {
	d := Diagnostic{File: "f.yaml", Line: 3, Column: 5, Severity: SeverityWarning, Message: "m"}
	if got := d.String(); got != "f.yaml:3:5: warning: m" {
		t.Errorf("got %q", got)
	}
	d.Column = 0
	if got := d.String(); got != "f.yaml:3: warning: m" {
		t.Errorf("got %q", got)
	}
}

func TestClosestKey(t *testing.T) {
	known := []string{"id", "default_namespace", "environments", "protected_branches_only", "access_as"}
	for in, want := range map[string]string{
		"project":        "",
		"ID":             "id",
		"enviroment":     "environments",
		"environment":    "environments",
		"Access-As":      "access_as",
		"accessas":       "access_as",
		"namespace":      "",
		"protected":      "",
		"default_ns":     "",
		"protected_only": "",
	} {
		if got := closestKey(in, known); got != want {
			t.Errorf("closestKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := closestKey("project", ciAccessKeys()); got != "projects" {
		t.Errorf("closestKey(project) = %q", got)
	}
	if got := closestKey("user_access", []string{"ci_access"}); got != "" {
		t.Errorf("user_access is not a typo of ci_access, got %q", got)
	}
}
