package access

import "testing"

func TestLintRules(t *testing.T) {
	runLintCases(t, []lintCase{
		{name: "empty file", yaml: ""},
		{name: "every section, valid", yaml: `
gitops:
  manifest_projects: [{id: a/b, paths: [{glob: '/**/*.yaml'}], reconcile_timeout: 3600s, ref: {tag: v1}}]
user_access:
  access_as: {agent: {}}
  projects: [{id: a/b}]
observability: {logging: {level: debug, grpc_level: warn}, google_profiler: {enabled: true}}
remote_development: {enabled: true, dns_zone: w.example.dev, partial_sync_interval: 10s}
container_scanning: {cadence: '0 2 * * *', vulnerability_report: {namespaces: [default]}}
flux: {webhook_receiver_url: http://x}
ci_access:
  projects: [{id: a/b}]
`},
		{name: "misspelt ci_access", yaml: "ci-access:\n  projects: [{id: a/b}]\n", rejected: true,
			want: []string{"1:1 error unknown-key"}, wantText: []string{"did you mean `ci_access`?"}},
		{name: "top-level projects", yaml: "projects:\n  - id: a/b\n", rejected: true,
			want: []string{"1:1 error unknown-key"}, wantText: []string{"belongs under `ci_access` (or `user_access`)"}},
		{name: "a top-level key that only holds an anchor", yaml: `
.base: &base
  protected_branches_only: true
ci_access:
  projects:
    - <<: *base
      id: a/b
`, rejected: true, want: []string{"1:1 error unknown-key"}, wantText: []string{"a key that only holds the YAML anchor &base is a field all the same"}},
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
`, rejected: true, want: []string{
			"4:7 error unknown-key", "5:7 error unknown-key", "6:7 error unknown-key", "7:7 error empty-access-as",
			"8:9 error unknown-key", "9:9 error unknown-key", "10:3 error unknown-key"},
			wantText: []string{
				"did you mean `environments`?", "did you mean `protected_branches_only`?", "did you mean `default_namespace`?",
				"did you mean `ci_job`?", "did you mean `impersonate`?", "did you mean `groups`?"}},
		{name: "unknown key far from any", yaml: "ci_access:\n  wibble: 1\n", rejected: true,
			want: []string{"2:3 error unknown-key"}, wantText: []string{"(known: `projects`, `groups`, `instance`)"}},
		{name: "misplaced entry key", yaml: "ci_access:\n  id: a/b\n", rejected: true,
			want: []string{"2:3 error unknown-key"}, wantText: []string{"belongs to an item of `projects` or `groups`"}},
		{name: "ci_user is not implemented", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {ci_user: {}}\n", rejected: true,
			want: []string{"4:7 error empty-access-as", "4:19 error removed-key"}, wantText: []string{"GitLab never implemented `ci_user`"}},
		{name: "username directly under access_as", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as:\n        username: u\n", rejected: true,
			want: []string{"4:7 error empty-access-as", "5:9 error unknown-key"}, wantText: []string{"belongs under `impersonate`"}},
		{name: "missing id", yaml: "ci_access:\n  projects:\n    - default_namespace: apps\n  groups:\n    - environments: [prod]\n", rejected: true,
			want: []string{"3:7 error missing-value", "5:7 error missing-value"}, wantText: []string{"`ci_access.projects[0]` has no `id`, which KAS requires: add `id: path/to/project`", "add `id: path/to/group`"}},
		{name: "id is a path, not a number", yaml: "ci_access:\n  projects:\n    - id: 1234\n", rejected: true,
			want: []string{"3:11 error wrong-type"}, wantText: []string{"must be a string, not the number 1234; if you mean the text, quote it: \"1234\""}},
		{name: "bad paths: KAS takes them, GitLab matches nothing", yaml: `
ci_access:
  projects:
    - id: project-without-namespace
    - id: https://gitlab.com/a/b
    - id: a/b/
    - id: a//b
    - id: "a/b c"
  groups:
    - id: top
`, want: []string{"3:7 error invalid-path", "4:7 error invalid-path", "5:7 error invalid-path", "6:7 error invalid-path", "7:7 error invalid-path"},
			wantText: []string{"has no namespace", "is a URL", "starts or ends with `/`", "empty segment", "paths hold only letters"}},
		{name: "an empty id", yaml: "ci_access:\n  projects:\n    - id: \"\"\n", rejected: true,
			want: []string{"3:11 error empty-value"}},
		{name: "entries as plain strings", yaml: "ci_access:\n  projects:\n    - a/b\n", rejected: true,
			want: []string{"3:7 error wrong-type"}, wantText: []string{"write `- id: a/b`"}},
		{name: "projects not a list", yaml: "ci_access:\n  projects:\n    id: a/b\n", rejected: true,
			want: []string{"3:5 error wrong-type"}, wantText: []string{"`ci_access.projects` must be a list, not a mapping"}},
		{name: "ci_access not a mapping", yaml: "ci_access: [a]\n", rejected: true,
			want: []string{"1:12 error wrong-type"}},
		{name: "document not a mapping", yaml: "- ci_access\n", rejected: true,
			want: []string{"1:1 error wrong-type"}},
		{name: "YAML 1.1 scalars, as KAS reads them", yaml: `
ci_access:
  projects:
    - id: a/b
      default_namespace: no
      protected_branches_only: yes
    - id: a/c
      environments: [on, "off", 12, ~]
      protected_branches_only: "true"
    - id: a/d
      default_namespace: 0x1F
`, rejected: true, want: []string{"4:26 error wrong-type", "7:22 error wrong-type", "7:33 error wrong-type", "7:37 error missing-value", "8:32 error wrong-type", "10:26 error wrong-type"},
			wantText: []string{
				"`ci_access.projects[0].default_namespace` must be a string, not the boolean false (YAML 1.1, which KAS reads, takes an unquoted `no` for false); if you mean the text, quote it: \"no\"",
				"`ci_access.projects[1].environments[0]` must be a string, not the boolean true (YAML 1.1, which KAS reads, takes an unquoted `on` for true)",
				"must be true or false, not the string \"true\"",
				"not the number 31 (YAML 1.1, which KAS reads, takes an unquoted `0x1F` for 31)"}},
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
		{name: "duplicate keys: KAS takes the last", yaml: "ci_access:\n  projects:\n    - id: a/b\n      id: a/c\n",
			want: []string{"4:7 warning duplicate-key"}, wantText: []string{"`id` is written twice in one mapping (first at line 3); KAS uses the last one"}},
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
`, rejected: true, want: []string{"5:11 error empty-value", "6:11 error invalid-environment", "7:11 error invalid-environment", "9:11 error invalid-environment", "11:11 warning variable-not-expanded"},
			wantText: []string{"item 0 of `ci_access.projects[0].environments` is an empty string", "leading or trailing spaces", "starts or ends with `/`", "contains '#'", "expands no variables"}},
		{name: "empty environments is no restriction", yaml: "ci_access:\n  projects:\n    - id: a/b\n      environments: []\n    - id: a/c\n      environments:\n",
			want: []string{"4:7 warning empty-environments", "6:7 warning empty-environments"}, wantText: []string{"which GitLab reads as no restriction"}},
		{name: "conflicting access_as", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as:\n        agent: {}\n        ci_job: {}\n        impersonate: {username: u}\n", rejected: true,
			want: []string{"6:9 error conflicting-access-as", "7:9 error conflicting-access-as"}, wantText: []string{"names both `agent` and `ci_job`"}},
		{name: "empty access_as", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {}\n", rejected: true,
			want: []string{"4:7 error empty-access-as"}},
		{name: "access_as with no value is the agent; a mode with no value is no mode", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as:\n    - id: a/c\n      access_as:\n        ci_job:\n", rejected: true,
			want: []string{"6:7 error empty-access-as"}, wantText: []string{"a key with no value counts as not written"}},
		{name: "agent takes no settings", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {agent: {name: x}}\n", rejected: true,
			want: []string{"4:27 error unknown-key"}, wantText: []string{"which takes no settings: write `agent: {}`"}},
		{name: "impersonate without username, empty groups and extras", yaml: `
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
`, rejected: true, want: []string{"5:9 error missing-value", "6:31 error empty-value", "11:20 error empty-value", "12:20 error missing-value", "14:7 error empty-access-as", "16:43 error empty-value"},
			wantText: []string{"has no `username`, which KAS requires (Kubernetes impersonates no one without it)"}},
		{name: "impersonate extra as a map, uid a number", yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {impersonate: {username: u, uid: 1000, extra: {a: [b]}}}\n", rejected: true,
			want: []string{"4:51 error wrong-type", "4:64 error wrong-type"}},
		{name: "valid impersonate", yaml: "ci_access:\n  groups:\n    - id: a\n      access_as:\n        impersonate:\n          username: deployer\n          uid: \"1000\"\n          groups: [x]\n          extra: [{key: example.com/k, val: [v]}]\n"},
		{name: "instance with an id; a trailing --- is harmless", yaml: "ci_access:\n  instance:\n    id: a\n---\n", rejected: true,
			want: []string{"3:5 error unknown-key"}, wantText: []string{"`instance` takes no `id`"}},
		{name: "instance without value", yaml: "ci_access:\n  instance:\n",
			want: []string{"2:3 warning missing-value"}, wantText: []string{"write `instance: {}`"}},
		{name: "instance with settings", yaml: "ci_access:\n  instance:\n    default_namespace: ci\n    environments: [production]\n    protected_branches_only: true\n    access_as: {ci_job: {}}\n    resource_management: {enabled: true}\n"},
		{name: "default namespace", yaml: "ci_access:\n  projects:\n    - id: a/b\n      default_namespace: My_Apps\n    - id: a/c\n      default_namespace: apps\n",
			want: []string{"4:7 error invalid-namespace"}},
		{name: "GitLab.com offers neither protected_branches_only nor instance", opts: LintOptions{GitLabCom: true},
			yaml: "ci_access:\n  projects:\n    - id: a/b\n      protected_branches_only: true\n    - id: a/c\n      protected_branches_only: false\n  instance: {}\n",
			want: []string{"4:7 warning not-on-gitlab-com", "7:3 warning not-on-gitlab-com"}},
		{name: "outside the agent's top-level group", opts: LintOptions{AgentProject: "acme/platform/agents"},
			yaml:     "ci_access:\n  projects:\n    - id: acme/app\n    - id: ACME/other\n    - id: other/app\n  groups:\n    - id: acme/team\n    - id: partner\nuser_access:\n  access_as: {agent: {}}\n  groups: [{id: partner}]\n",
			want:     []string{"5:7 warning outside-top-level-group", "8:7 warning outside-top-level-group", "11:13 warning outside-top-level-group"},
			wantText: []string{"project `other/app` is outside `acme`, the top-level group of the agent project `acme/platform/agents`", "18.4 and later for user_access"}},
		{name: "instance-level authorization allows other top-level groups", opts: LintOptions{AgentProject: "acme/agents", InstanceLevelAuthorization: true},
			yaml: "ci_access:\n  projects:\n    - id: other/app\n"},
		{name: "bad agent project option", opts: LintOptions{AgentProject: "agents"}, yaml: "ci_access:\n  projects:\n    - id: other/app\n",
			want: []string{"1:0 warning invalid-path"}},
		{name: "anchors, aliases and merge keys in their places", yaml: `
ci_access:
  projects:
    - &defaults
      id: a/a
      protected_branches_only: true
      environments: &envs [production, staging]
    - <<: *defaults
      id: a/b
    - id: a/c
      environments: *envs
      enviroments: *envs
`, rejected: true, want: []string{"11:7 error unknown-key"}},
		{name: "bad merge", yaml: "ci_access:\n  projects:\n    - <<: [a]\n      id: a/b\n", rejected: true,
			want: []string{"3:12 error yaml-value"}, wantText: []string{"`<<` merges mappings only"}},
		{name: "second document: KAS reads the first", yaml: "ci_access: {}\n---\nci_access: {}\n",
			want: []string{"3:1 warning second-document"}},
		{name: "syntax error", yaml: "ci_access:\n  projects:\n    - id: a/b\n   bad: [\n", rejected: true,
			want: []string{"4:0 error yaml-syntax"}},
		{name: "tab indentation", yaml: "ci_access:\n\tprojects: []\n", rejected: true,
			want: []string{"2:0 error yaml-syntax"}},
		{name: "unknown anchor", yaml: "ci_access:\n  projects: *nope\n", rejected: true,
			want: []string{"2:13 error yaml-syntax"}},
		{name: "invalid UTF-8", yaml: "ci_access:\n  projects: [\xff]\n", rejected: true,
			want: []string{"2:14 error yaml-syntax"}},
		{name: "YAML 1.2 is not read", yaml: "%YAML 1.2\n---\nci_access: {}\n", rejected: true,
			want: []string{"1:0 error yaml-syntax"}},
		{name: "numbers JSON cannot hold", yaml: "ci_access:\n  projects:\n    - id: .inf\n", rejected: true,
			want: []string{"3:11 error yaml-value"}, wantText: []string{"which JSON cannot hold"}},
		{name: "a key JSON cannot hold", yaml: "ci_access:\n  ~: x\n", rejected: true,
			want: []string{"2:3 error yaml-value"}},
		{name: "removed and reserved fields", yaml: `
cilium:
  hubble_relay_address: x
starboard: {}
gitops:
  charts: []
  manifest_projects:
    - id: a/b
      resource_inclusions: []
`, rejected: true, want: []string{"1:1 error removed-key", "3:1 error removed-key", "5:3 error removed-key", "8:7 error removed-key"},
			wantText: []string{"GitLab 15.0 removed the Cilium integration", "GitLab 14.0 removed `resource_inclusions`"}},
		{name: "values of other sections", yaml: `
observability:
  logging:
    level: warning
    grpc_level: 2
gitops:
  manifest_projects:
    - dry_run_strategy: dry
      reconcile_timeout: 1h
      prune_timeout: 3600
      ref: {}
      paths: [{glob: ""}]
remote_development:
  partial_sync_interval: 0s
  full_sync_interval: -1s
container_scanning: {}
`, rejected: true, want: []string{"3:12 error invalid-value", "7:25 error invalid-value", "8:26 error invalid-value", "9:22 error wrong-type", "10:7 error missing-value", "11:22 error empty-value", "13:26 error invalid-value", "14:23 error invalid-value", "15:1 error missing-value"},
			wantText: []string{"is \"warning\", which is not one of `info`, `debug`, `warn`, `error`", "not \"1h\"", "`gitops.manifest_projects[0].ref` names none of `tag`, `branch`, `commit`", "no `cadence`"}},
		{name: "user_access", yaml: `
user_access:
  access_as: {agent: {}, user: {}}
  projects:
    - id: a/b
    - {}
  group: []
`, rejected: true, want: []string{"2:26 error conflicting-access-as", "5:7 error missing-value", "6:3 error unknown-key"}},
		{name: "user_access without access_as, before 18.3", opts: LintOptions{GitLabVersion: Version{18, 2}},
			yaml: "user_access:\n  projects: [{id: a/b}]\n", want: []string{"1:1 error user-access-without-access-as"},
			wantText: []string{"GitLab 18.2 refuses every user then"}},
		{name: "user_access without access_as, 18.3 and later", yaml: "user_access:\n  projects: [{id: a/b}]\n"},
		{name: "Premium features on Free", opts: LintOptions{Tier: TierFree},
			yaml: "ci_access:\n  projects:\n    - id: a/b\n      access_as: {ci_job: {}}\n    - id: a/c\n      access_as: {agent: {}}\nuser_access:\n  access_as: {user: {}}\n  groups: [{id: a}]\n",
			want: []string{"4:19 warning needs-premium", "8:15 warning needs-premium"}, wantText: []string{"GitLab drops this entry"}},
		{name: "fields newer than the GitLab version", opts: LintOptions{GitLabVersion: Version{17, 2}},
			yaml:     "ci_access:\n  projects:\n    - id: a/b\n      protected_branches_only: true\n      resource_management: {enabled: true}\n  instance: {}\ncontainer_scanning: {cadence: x, scanner_timeout: 10s, resource_requirements: {limits: {ephemeral_storage: 1Gi}}}\n",
			want:     []string{"4:7 warning needs-newer-gitlab", "5:7 warning needs-newer-gitlab", "6:3 warning needs-newer-gitlab", "7:34 warning needs-newer-gitlab"},
			wantText: []string{"`ci_access.projects[0].protected_branches_only` exists since GitLab 17.3 (doc/user/clusters/agent/ci_cd_workflow.md), and GitLab 17.2 does not know it"}},
		{name: "a field of a release after 16.5 that the docs do not name", opts: LintOptions{GitLabVersion: OldestVersion},
			yaml: "container_scanning: {cadence: x, resource_requirements: {limits: {ephemeral_storage: 1Gi}}}\n",
			want: []string{"1:67 warning needs-newer-gitlab"}, wantText: []string{"after 16.5 (GitLab's documentation does not say which)"}},
	})
}

// A file larger than KAS reads is rejected whatever it holds.
func TestLintFileTooBig(t *testing.T) {
	data := []byte("ci_access: {}\n# " + string(make([]byte, MaxFileSize)) + "\n")
	for i := range data[16 : len(data)-1] {
		data[16+i] = 'x'
	}
	res := Lint("config.yaml", data, LintOptions{})
	if got := shortAll(res.Diagnostics); !equalStrings(got, []string{"1:0 error file-too-big"}) || !res.Rejected {
		t.Errorf("diagnostics = %q", got)
	}
}
