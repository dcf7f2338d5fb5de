package access

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// schemaRow is one field of the agent configuration: where it is, its type,
// its validation rule, and the release that added it.
type schemaRow struct {
	path string // dotted, as in messages: ci_access.projects.id
	typ  string // string, bool, enum, duration, int, uint, message, map, strings, messages
	rule string // "", required (min_bytes), nonempty (min_bytes when set), items (min_bytes on items), in, minitems, positive (duration > 0)
	// ctx is the file, with %s where the field is written (`name: value`);
	// it holds whatever the field's neighbours need.
	ctx   string
	valid string // a valid value; the type's default when empty
	since string // GitLab release, when later than 16.5
}

const (
	entryCtx     = "ci_access: {projects: [{id: a/b, %s}]}"
	groupCtx     = "ci_access: {groups: [{id: a, %s}]}"
	instanceCtx  = "ci_access: {instance: {%s}}"
	manifestCtx  = "gitops: {manifest_projects: [{%s}]}"
	impCtx       = "ci_access: {projects: [{id: a/b, access_as: {impersonate: {username: u, %s}}}]}"
	scanCtx      = "container_scanning: {cadence: c, %s}"
	remoteDevCtx = "remote_development: {%s}"
)

var schemaTable = []schemaRow{
	// gitops (GitopsCF, ManifestProjectCF, PathCF, GitRefCF)
	{path: "gitops", typ: "message", ctx: "{%s}"},
	{path: "gitops.manifest_projects", typ: "messages", ctx: "gitops: {%s}"},
	{path: "gitops.manifest_projects.id", typ: "string", rule: "nonempty", ctx: manifestCtx},
	{path: "gitops.manifest_projects.default_namespace", typ: "string", ctx: manifestCtx},
	{path: "gitops.manifest_projects.paths", typ: "messages", ctx: manifestCtx, valid: "[{glob: '/**'}]"},
	{path: "gitops.manifest_projects.paths.glob", typ: "string", rule: "required", ctx: "gitops: {manifest_projects: [{paths: [{%s}]}]}"},
	{path: "gitops.manifest_projects.reconcile_timeout", typ: "duration", ctx: manifestCtx},
	{path: "gitops.manifest_projects.dry_run_strategy", typ: "string", rule: "in", ctx: manifestCtx, valid: "server"},
	{path: "gitops.manifest_projects.prune", typ: "bool", ctx: manifestCtx},
	{path: "gitops.manifest_projects.prune_timeout", typ: "duration", ctx: manifestCtx},
	{path: "gitops.manifest_projects.prune_propagation_policy", typ: "string", rule: "in", ctx: manifestCtx, valid: "orphan"},
	{path: "gitops.manifest_projects.inventory_policy", typ: "string", rule: "in", ctx: manifestCtx, valid: "adopt_all"},
	{path: "gitops.manifest_projects.ref", typ: "message", rule: "oneof", ctx: manifestCtx, valid: "{branch: main}"},
	{path: "gitops.manifest_projects.ref.tag", typ: "string", rule: "required", ctx: "gitops: {manifest_projects: [{ref: {%s}}]}"},
	{path: "gitops.manifest_projects.ref.branch", typ: "string", rule: "required", ctx: "gitops: {manifest_projects: [{ref: {%s}}]}"},
	{path: "gitops.manifest_projects.ref.commit", typ: "string", rule: "required", ctx: "gitops: {manifest_projects: [{ref: {%s}}]}"},

	// observability (ObservabilityCF, LoggingCF, GoogleProfilerCF)
	{path: "observability", typ: "message", ctx: "{%s}"},
	{path: "observability.logging", typ: "message", ctx: "observability: {%s}"},
	{path: "observability.logging.level", typ: "enum", ctx: "observability: {logging: {%s}}"},
	{path: "observability.logging.grpc_level", typ: "enum", ctx: "observability: {logging: {%s}}"},
	{path: "observability.google_profiler", typ: "message", ctx: "observability: {%s}"},
	{path: "observability.google_profiler.enabled", typ: "bool", ctx: "observability: {google_profiler: {%s}}"},
	{path: "observability.google_profiler.project_id", typ: "string", ctx: "observability: {google_profiler: {%s}}"},
	{path: "observability.google_profiler.credentials_file", typ: "string", ctx: "observability: {google_profiler: {%s}}"},
	{path: "observability.google_profiler.debug_logging", typ: "bool", ctx: "observability: {google_profiler: {%s}}"},

	// ci_access (CiAccessCF and its entries; instance and later fields from
	// GitLab's documentation)
	{path: "ci_access", typ: "message", ctx: "{%s}"},
	{path: "ci_access.projects", typ: "messages", ctx: "ci_access: {%s}", valid: "[{id: a/b}]"},
	{path: "ci_access.projects.id", typ: "string", rule: "required", ctx: "ci_access: {projects: [{%s}]}", valid: "a/b"},
	{path: "ci_access.projects.default_namespace", typ: "string", ctx: entryCtx},
	{path: "ci_access.projects.access_as", typ: "message", rule: "oneof", ctx: entryCtx, valid: "{agent: {}}"},
	{path: "ci_access.projects.access_as.agent", typ: "message", ctx: "ci_access: {projects: [{id: a/b, access_as: {%s}}]}"},
	{path: "ci_access.projects.access_as.ci_job", typ: "message", ctx: "ci_access: {projects: [{id: a/b, access_as: {%s}}]}"},
	{path: "ci_access.projects.access_as.impersonate", typ: "message", ctx: "ci_access: {projects: [{id: a/b, access_as: {%s}}]}", valid: "{username: u}"},
	{path: "ci_access.projects.access_as.impersonate.username", typ: "string", rule: "required", ctx: "ci_access: {projects: [{id: a/b, access_as: {impersonate: {%s}}}]}"},
	{path: "ci_access.projects.access_as.impersonate.groups", typ: "strings", rule: "items", ctx: impCtx},
	{path: "ci_access.projects.access_as.impersonate.uid", typ: "string", ctx: impCtx},
	{path: "ci_access.projects.access_as.impersonate.extra", typ: "messages", ctx: impCtx, valid: "[{key: k, val: [v]}]"},
	{path: "ci_access.projects.access_as.impersonate.extra.key", typ: "string", rule: "required", ctx: "ci_access: {projects: [{id: a/b, access_as: {impersonate: {username: u, extra: [{val: [v], %s}]}}}]}"},
	{path: "ci_access.projects.access_as.impersonate.extra.val", typ: "strings", rule: "minitems", ctx: "ci_access: {projects: [{id: a/b, access_as: {impersonate: {username: u, extra: [{key: k, %s}]}}}]}"},
	{path: "ci_access.projects.environments", typ: "strings", rule: "items", ctx: entryCtx},
	{path: "ci_access.projects.protected_branches_only", typ: "bool", ctx: entryCtx, since: "17.3"},
	{path: "ci_access.projects.resource_management", typ: "message", ctx: entryCtx, since: "17.9"},
	{path: "ci_access.projects.resource_management.enabled", typ: "bool", ctx: "ci_access: {projects: [{id: a/b, resource_management: {%s}}]}"},
	{path: "ci_access.groups", typ: "messages", ctx: "ci_access: {%s}", valid: "[{id: a}]"},
	{path: "ci_access.groups.id", typ: "string", rule: "required", ctx: "ci_access: {groups: [{%s}]}"},
	{path: "ci_access.groups.default_namespace", typ: "string", ctx: groupCtx},
	{path: "ci_access.groups.access_as", typ: "message", rule: "oneof", ctx: groupCtx, valid: "{ci_job: {}}"},
	{path: "ci_access.groups.environments", typ: "strings", rule: "items", ctx: groupCtx},
	{path: "ci_access.groups.protected_branches_only", typ: "bool", ctx: groupCtx, since: "17.3"},
	{path: "ci_access.groups.resource_management", typ: "message", ctx: groupCtx, since: "17.9"},
	{path: "ci_access.instance", typ: "message", ctx: "ci_access: {%s}", since: "17.11"},
	{path: "ci_access.instance.default_namespace", typ: "string", ctx: instanceCtx},
	{path: "ci_access.instance.access_as", typ: "message", rule: "oneof", ctx: instanceCtx, valid: "{agent: {}}"},
	{path: "ci_access.instance.environments", typ: "strings", rule: "items", ctx: instanceCtx},
	{path: "ci_access.instance.protected_branches_only", typ: "bool", ctx: instanceCtx, since: "17.3"},
	{path: "ci_access.instance.resource_management", typ: "message", ctx: instanceCtx, since: "17.9"},

	// user_access (UserAccessCF)
	{path: "user_access", typ: "message", ctx: "{%s}"},
	{path: "user_access.access_as", typ: "message", rule: "oneof", ctx: "user_access: {%s}", valid: "{user: {}}"},
	{path: "user_access.access_as.agent", typ: "message", ctx: "user_access: {access_as: {%s}}"},
	{path: "user_access.access_as.user", typ: "message", ctx: "user_access: {access_as: {%s}}"},
	{path: "user_access.projects", typ: "messages", ctx: "user_access: {%s}", valid: "[{id: a/b}]"},
	{path: "user_access.projects.id", typ: "string", rule: "required", ctx: "user_access: {projects: [{%s}]}", valid: "a/b"},
	{path: "user_access.groups", typ: "messages", ctx: "user_access: {%s}", valid: "[{id: a}]"},
	{path: "user_access.groups.id", typ: "string", rule: "required", ctx: "user_access: {groups: [{%s}]}"},

	// container_scanning (ContainerScanningCF; later fields from
	// vulnerabilities.md)
	{path: "container_scanning", typ: "message", ctx: "{%s}", valid: "{cadence: c}"},
	{path: "container_scanning.cadence", typ: "string", rule: "required", ctx: "container_scanning: {%s}"},
	{path: "container_scanning.vulnerability_report", typ: "message", ctx: scanCtx},
	{path: "container_scanning.vulnerability_report.namespaces", typ: "strings", ctx: "container_scanning: {cadence: c, vulnerability_report: {%s}}"},
	{path: "container_scanning.vulnerability_report.filters", typ: "messages", ctx: "container_scanning: {cadence: c, vulnerability_report: {%s}}"},
	{path: "container_scanning.vulnerability_report.filters.namespaces", typ: "strings", ctx: "container_scanning: {cadence: c, vulnerability_report: {filters: [{%s}]}}"},
	{path: "container_scanning.vulnerability_report.filters.resources", typ: "strings", ctx: "container_scanning: {cadence: c, vulnerability_report: {filters: [{%s}]}}"},
	{path: "container_scanning.vulnerability_report.filters.containers", typ: "strings", ctx: "container_scanning: {cadence: c, vulnerability_report: {filters: [{%s}]}}"},
	{path: "container_scanning.vulnerability_report.filters.kinds", typ: "strings", ctx: "container_scanning: {cadence: c, vulnerability_report: {filters: [{%s}]}}"},
	{path: "container_scanning.vulnerability_report.resource_types", typ: "strings", ctx: "container_scanning: {cadence: c, vulnerability_report: {%s}}", since: "17.9"},
	{path: "container_scanning.resource_requirements", typ: "message", ctx: scanCtx},
	{path: "container_scanning.resource_requirements.limits", typ: "message", ctx: "container_scanning: {cadence: c, resource_requirements: {%s}}"},
	{path: "container_scanning.resource_requirements.limits.cpu", typ: "string", ctx: "container_scanning: {cadence: c, resource_requirements: {limits: {%s}}}"},
	{path: "container_scanning.resource_requirements.limits.memory", typ: "string", ctx: "container_scanning: {cadence: c, resource_requirements: {limits: {%s}}}"},
	{path: "container_scanning.resource_requirements.limits.ephemeral_storage", typ: "string", ctx: "container_scanning: {cadence: c, resource_requirements: {limits: {%s}}}", since: "16.6"},
	{path: "container_scanning.resource_requirements.requests", typ: "message", ctx: "container_scanning: {cadence: c, resource_requirements: {%s}}"},
	{path: "container_scanning.resource_requirements.requests.cpu", typ: "string", ctx: "container_scanning: {cadence: c, resource_requirements: {requests: {%s}}}"},
	{path: "container_scanning.resource_requirements.requests.memory", typ: "string", ctx: "container_scanning: {cadence: c, resource_requirements: {requests: {%s}}}"},
	{path: "container_scanning.resource_requirements.requests.ephemeral_storage", typ: "string", ctx: "container_scanning: {cadence: c, resource_requirements: {requests: {%s}}}", since: "16.6"},
	{path: "container_scanning.trivy_k8s_wrapper_image", typ: "message", ctx: scanCtx, since: "17.4"},
	{path: "container_scanning.trivy_k8s_wrapper_image.repository", typ: "string", ctx: "container_scanning: {cadence: c, trivy_k8s_wrapper_image: {%s}}"},
	{path: "container_scanning.trivy_k8s_wrapper_image.tag", typ: "string", ctx: "container_scanning: {cadence: c, trivy_k8s_wrapper_image: {%s}}"},
	{path: "container_scanning.scanner_timeout", typ: "duration", ctx: scanCtx, since: "17.7"},
	{path: "container_scanning.report_max_size", typ: "uint", ctx: scanCtx, since: "17.7"},
	{path: "container_scanning.delete_report_artifact", typ: "bool", ctx: scanCtx, since: "17.9"},

	// remote_development (RemoteDevelopmentCF; later fields from the
	// workspace settings page)
	{path: "remote_development", typ: "message", ctx: "{%s}"},
	{path: "remote_development.enabled", typ: "bool", ctx: remoteDevCtx},
	{path: "remote_development.dns_zone", typ: "string", ctx: remoteDevCtx},
	{path: "remote_development.partial_sync_interval", typ: "duration", rule: "positive", ctx: remoteDevCtx},
	{path: "remote_development.full_sync_interval", typ: "duration", rule: "positive", ctx: remoteDevCtx},
	{path: "remote_development.gitlab_workspaces_proxy", typ: "message", ctx: remoteDevCtx},
	{path: "remote_development.gitlab_workspaces_proxy.namespace", typ: "string", ctx: "remote_development: {gitlab_workspaces_proxy: {%s}}"},
	{path: "remote_development.network_policy", typ: "message", ctx: remoteDevCtx},
	{path: "remote_development.network_policy.enabled", typ: "bool", ctx: "remote_development: {network_policy: {%s}}"},
	{path: "remote_development.network_policy.egress", typ: "messages", ctx: "remote_development: {network_policy: {%s}}", since: "16.7"},
	{path: "remote_development.network_policy.egress.allow", typ: "string", ctx: "remote_development: {network_policy: {egress: [{%s}]}}"},
	{path: "remote_development.network_policy.egress.except", typ: "strings", ctx: "remote_development: {network_policy: {egress: [{%s}]}}"},
	{path: "remote_development.default_resources_per_workspace_container", typ: "message", ctx: remoteDevCtx, since: "16.8"},
	{path: "remote_development.default_resources_per_workspace_container.requests", typ: "message", ctx: "remote_development: {default_resources_per_workspace_container: {%s}}"},
	{path: "remote_development.default_resources_per_workspace_container.requests.cpu", typ: "string", ctx: "remote_development: {default_resources_per_workspace_container: {requests: {%s}}}"},
	{path: "remote_development.default_resources_per_workspace_container.requests.memory", typ: "string", ctx: "remote_development: {default_resources_per_workspace_container: {requests: {%s}}}"},
	{path: "remote_development.default_resources_per_workspace_container.limits", typ: "message", ctx: "remote_development: {default_resources_per_workspace_container: {%s}}"},
	{path: "remote_development.default_resources_per_workspace_container.limits.cpu", typ: "string", ctx: "remote_development: {default_resources_per_workspace_container: {limits: {%s}}}"},
	{path: "remote_development.default_resources_per_workspace_container.limits.memory", typ: "string", ctx: "remote_development: {default_resources_per_workspace_container: {limits: {%s}}}"},
	{path: "remote_development.max_resources_per_workspace", typ: "message", ctx: remoteDevCtx, since: "16.8"},
	{path: "remote_development.max_resources_per_workspace.requests", typ: "message", ctx: "remote_development: {max_resources_per_workspace: {%s}}"},
	{path: "remote_development.max_resources_per_workspace.requests.cpu", typ: "string", ctx: "remote_development: {max_resources_per_workspace: {requests: {%s}}}"},
	{path: "remote_development.max_resources_per_workspace.requests.memory", typ: "string", ctx: "remote_development: {max_resources_per_workspace: {requests: {%s}}}"},
	{path: "remote_development.max_resources_per_workspace.limits", typ: "message", ctx: "remote_development: {max_resources_per_workspace: {%s}}"},
	{path: "remote_development.max_resources_per_workspace.limits.cpu", typ: "string", ctx: "remote_development: {max_resources_per_workspace: {limits: {%s}}}"},
	{path: "remote_development.max_resources_per_workspace.limits.memory", typ: "string", ctx: "remote_development: {max_resources_per_workspace: {limits: {%s}}}"},
	{path: "remote_development.workspaces_quota", typ: "int", ctx: remoteDevCtx, since: "16.9"},
	{path: "remote_development.workspaces_per_user_quota", typ: "int", ctx: remoteDevCtx, since: "16.9"},
	{path: "remote_development.use_kubernetes_user_namespaces", typ: "bool", ctx: remoteDevCtx, since: "17.4"},
	{path: "remote_development.default_runtime_class", typ: "string", ctx: remoteDevCtx, since: "17.4"},
	{path: "remote_development.allow_privilege_escalation", typ: "bool", ctx: remoteDevCtx, since: "17.4"},
	{path: "remote_development.annotations", typ: "map", ctx: remoteDevCtx, since: "17.4"},
	{path: "remote_development.labels", typ: "map", ctx: remoteDevCtx, since: "17.4"},
	{path: "remote_development.image_pull_secrets", typ: "messages", ctx: remoteDevCtx, since: "17.6"},
	{path: "remote_development.image_pull_secrets.name", typ: "string", ctx: "remote_development: {image_pull_secrets: [{%s}]}"},
	{path: "remote_development.image_pull_secrets.namespace", typ: "string", ctx: "remote_development: {image_pull_secrets: [{%s}]}"},
	{path: "remote_development.max_active_hours_before_stop", typ: "int", ctx: remoteDevCtx, since: "17.6"},
	{path: "remote_development.max_stopped_hours_before_termination", typ: "int", ctx: remoteDevCtx, since: "17.6"},

	// flux (FluxCF)
	{path: "flux", typ: "message", ctx: "{%s}"},
	{path: "flux.webhook_receiver_url", typ: "string", ctx: "flux: {%s}"},
}

// typeValues are a valid and a wrong value of each type.
var typeValues = map[string][2]string{
	"string":   {"v", "[v]"},
	"bool":     {"true", "'true'"},
	"enum":     {"debug", "true"},
	"duration": {"10s", "10"},
	"int":      {"-1", "x"},
	"uint":     {"'300'", "-1"},
	"message":  {"{}", "x"},
	"map":      {"{a: b}", "[a]"},
	"strings":  {"[v]", "v"},
	"messages": {"[{}]", "{}"},
}

// ruleBreak is a value that breaks each rule, and the code that says so.
var ruleBreak = map[string][2]string{
	"required": {`""`, CodeEmptyValue},
	"nonempty": {`""`, CodeEmptyValue},
	"items":    {`[v, ""]`, CodeEmptyValue},
	"in":       {"bogus", CodeInvalidValue},
	"minitems": {"[]", CodeMissingValue},
	"positive": {"0s", CodeInvalidValue},
	"oneof":    {"{}", ""}, // empty-access-as for access_as, missing-value for ref
}

func (r schemaRow) file(field string) string { return fmt.Sprintf(r.ctx, field) + "\n" }

func (r schemaRow) name() string { return r.path[strings.LastIndexByte(r.path, '.')+1:] }

func codesOf(res *LintResult) []string {
	var out []string
	for _, d := range res.Diagnostics {
		out = append(out, string(d.Severity)+" "+d.Code)
	}
	return out
}

// TestSchemaFields: for every field of the schema, a valid value is read,
// a value of the wrong type and every broken rule make KAS reject the file,
// an unknown key next to it is refused, and a field of a later release is
// reported for the release before.
func TestSchemaFields(t *testing.T) {
	for _, r := range schemaTable {
		t.Run(r.path, func(t *testing.T) {
			values := typeValues[r.typ]
			valid := values[0]
			if r.valid != "" {
				valid = r.valid
			}
			lint := func(file string, opts LintOptions) *LintResult { return Lint("config.yaml", []byte(file), opts) }

			res := lint(r.file(r.name()+": "+valid), LintOptions{})
			if res.Rejected || res.HasErrors() {
				t.Errorf("valid value %s: %s", valid, textOf(t, res))
			}
			res = lint(r.file(r.name()+": "+values[1]), LintOptions{})
			wantWrong := "error " + CodeWrongType
			if !res.Rejected || !contains(codesOf(res), wantWrong) {
				t.Errorf("wrong type %s: want %s\n%s", values[1], wantWrong, textOf(t, res))
			}
			res = lint(r.file(r.name()+": "+valid+", unknown_sibling: 1"), LintOptions{})
			if got := codesOf(res); !res.Rejected || !equalStrings(got, []string{"error " + CodeUnknownKey}) {
				t.Errorf("unknown sibling: %q\n%s", got, textOf(t, res))
			}
			if b, ok := ruleBreak[r.rule]; ok {
				res = lint(r.file(r.name()+": "+b[0]), LintOptions{})
				want := b[1]
				if r.rule == "oneof" {
					want = CodeMissingValue
					if strings.HasSuffix(r.path, "access_as") {
						want = CodeEmptyAccessAs
					}
				}
				if !res.Rejected || !contains(codesOf(res), "error "+want) {
					t.Errorf("rule %s broken with %s: want %s\n%s", r.rule, b[0], want, textOf(t, res))
				}
			} else if r.rule != "" {
				t.Fatalf("unknown rule %q", r.rule)
			}
			if r.rule == "required" {
				res = lint(r.file(""), LintOptions{})
				if !res.Rejected || !contains(codesOf(res), "error "+CodeMissingValue) {
					t.Errorf("missing required field: %s", textOf(t, res))
				}
			}
			if since := effectiveSince(r.path); since != "" {
				v, err := ParseVersion(since)
				if err != nil {
					t.Fatal(err)
				}
				before := Version{v.Major, v.Minor - 1}
				if v.Minor == 0 {
					before = Version{v.Major - 1, 11}
				}
				file := r.file(r.name() + ": " + valid)
				if res := lint(file, LintOptions{GitLabVersion: v}); contains(codesOf(res), "warning "+CodeNeedsNewerGitLab) {
					t.Errorf("GitLab %s has it: %s", v, textOf(t, res))
				}
				if res := lint(file, LintOptions{GitLabVersion: before}); !contains(codesOf(res), "warning "+CodeNeedsNewerGitLab) {
					t.Errorf("GitLab %s lacks it: %s", before, textOf(t, res))
				}
			}
		})
	}
}

// effectiveSince is the latest release among a field and the fields that
// contain it: the release from which a file with it is fine.
func effectiveSince(path string) string {
	best := Version{}
	for _, r := range schemaTable {
		if r.since != "" && (r.path == path || strings.HasPrefix(path, r.path+".")) {
			if v, _ := ParseVersion(r.since); best.Less(v) {
				best = v
			}
		}
	}
	if best.IsZero() {
		return ""
	}
	return best.String()
}

// TestSchemaTableIsComplete: the table has a row for every field of the
// schema, with its type, rule and release, and no other row. A message
// used in several places (access_as under projects, groups and instance)
// has its fields' rows once, under the first.
func TestSchemaTableIsComplete(t *testing.T) {
	rows := map[string]schemaRow{}
	for _, r := range schemaTable {
		if _, dup := rows[r.path]; dup {
			t.Errorf("two rows for %s", r.path)
		}
		rows[r.path] = r
	}
	var missing []string
	visited := map[*message]bool{}
	var walk func(m *message, prefix string)
	walk = func(m *message, prefix string) {
		visited[m] = true
		for _, f := range m.fields {
			path := join(prefix, f.name)
			r, ok := rows[path]
			if !ok {
				missing = append(missing, path)
			} else if got, want := describeField(f), r.typ+"/"+r.rule+"/"+r.since; got != want {
				t.Errorf("%s: the schema says %s, the table %s", path, got, want)
			}
			delete(rows, path)
			if f.msg != nil && !visited[f.msg] {
				walk(f.msg, path)
			}
		}
	}
	walk(schema(), "")
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fields without a row: %v", missing)
	}
	// The other rows repeat a shared message's fields in another place.
	var exists func(m *message, prefix, path string) *field
	exists = func(m *message, prefix, path string) *field {
		for _, f := range m.fields {
			p := join(prefix, f.name)
			if p == path {
				return f
			}
			if f.msg != nil && strings.HasPrefix(path, p+".") {
				return exists(f.msg, p, path)
			}
		}
		return nil
	}
	for path, r := range rows {
		if f := exists(schema(), "", path); f == nil {
			t.Errorf("a row for a field the schema does not have: %s", path)
		} else if got, want := describeField(f), r.typ+"/"+r.rule+"/"+r.since; got != want {
			t.Errorf("%s: the schema says %s, the table %s", path, got, want)
		}
	}
}

// describeField is `type/rule/since` of a schema field, as the table writes
// it.
func describeField(f *field) string {
	typ := map[fieldType]string{tString: "string", tBool: "bool", tEnum: "enum", tDuration: "duration", tInt64: "int", tUint64: "uint", tMessage: "message", tStringMap: "map"}[f.typ]
	if f.list {
		typ = map[bool]string{true: "messages", false: "strings"}[f.typ == tMessage]
	}
	rule := ""
	switch {
	case f.minItems > 0:
		rule = "minitems"
	case f.list && f.minBytes:
		rule = "items"
	case f.minBytes && f.presence:
		rule = "nonempty"
	case f.minBytes:
		rule = "required"
	case len(f.in) > 0:
		rule = "in"
	case f.durationGT0:
		rule = "positive"
	case f.msg != nil && len(f.msg.requiredOneofs) > 0:
		rule = "oneof"
	}
	since := ""
	if !f.since.IsZero() {
		since = f.since.String()
	}
	return typ + "/" + rule + "/" + since
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
