package access

import "sync"

// The agent configuration schema, as KAS reads it.
//
// KAS (gitlab-agent, internal/module/agent_configuration/server/server.go,
// parseYAMLToConfiguration and fetchConfiguration) turns config.yaml into
// JSON with sigs.k8s.io/yaml (yaml.v2, YAML 1.1), decodes that with
// protojson.Unmarshal into agentcfg.ConfigurationFile (strict: an unknown
// field anywhere is an error), then calls ValidateAll(), the
// protoc-gen-validate rules of pkg/agentcfg/agentcfg.proto. Any error, and
// the file is rejected as a whole: KAS sends nothing to GitLab and agentk
// keeps the configuration it has.
//
// The messages below restate pkg/agentcfg/agentcfg.proto of gitlab-agent at
// commit 8daa08cc (KAS 16.5; public as pluralsh/kubernetes-agent). Every
// json_name there equals the field name, so protojson accepts exactly these
// names. Fields GitLab added after 16.5 carry `since` and, in `doc`, the
// page of GitLab's documentation (gitlabhq/gitlabhq) that introduces them;
// for those, only the type is known, not validation rules.

// fieldType is how protojson reads a field's JSON value.
type fieldType int

const (
	tString    fieldType = iota // a JSON string
	tBool                       // true or false
	tEnum                       // a value name, or an int32 number (proto3 enums are open)
	tDuration                   // google.protobuf.Duration: a string such as "3600s"
	tInt64                      // a number, or a string holding one
	tUint64                     // a non-negative number, or a string holding one
	tMessage                    // a JSON object
	tStringMap                  // map<string, string>: an object of strings
)

// field is one field of a message.
type field struct {
	name string
	typ  fieldType
	list bool // repeated
	msg  *message
	enum []string // value names, by number

	// oneof names the oneof the field belongs to. presence marks proto3
	// `optional` fields, which validate only when set.
	oneof    string
	presence bool

	// protoc-gen-validate rules.
	minBytes    bool     // string.min_bytes = 1 (for a list: on every item)
	in          []string // string.in
	minItems    int      // repeated.min_items
	durationGT0 bool     // duration.gt = {}

	// since is the first GitLab release with the field; zero means KAS
	// 16.5 already has it. sinceUnsure says the documentation does not give
	// the release, only that it came after 16.5.
	since       Version
	sinceUnsure bool
	doc         string
}

// message is a protobuf message of the schema.
type message struct {
	name   string
	fields []*field
	// requiredOneofs are oneofs with (validate.required) = true.
	requiredOneofs []string
	// gone are names KAS once read here and now rejects, with the story.
	gone map[string]string
}

func (m *message) field(name string) *field {
	for _, f := range m.fields {
		if f.name == name {
			return f
		}
	}
	return nil
}

func (m *message) names() []string {
	out := make([]string, len(m.fields))
	for i, f := range m.fields {
		out[i] = f.name
	}
	return out
}

// oneofMembers lists the fields of a oneof.
func (m *message) oneofMembers(oneof string) []string {
	var out []string
	for _, f := range m.fields {
		if f.oneof == oneof {
			out = append(out, f.name)
		}
	}
	return out
}

func str(name string) *field                  { return &field{name: name, typ: tString} }
func boolean(name string) *field              { return &field{name: name, typ: tBool} }
func msgField(name string, m *message) *field { return &field{name: name, typ: tMessage, msg: m} }

func list(f *field) *field { f.list = true; return f }

func nonEmpty(f *field) *field { f.minBytes = true; return f }

func since(major, minor int, doc string, f *field) *field {
	f.since, f.doc = Version{major, minor}, doc
	return f
}

// sinceAfter165 marks a field that GitLab's documentation shows without a
// release; it came after KAS 16.5.
func sinceAfter165(doc string, f *field) *field {
	f.since, f.sinceUnsure, f.doc = Version{16, 6}, true, doc
	return f
}

func oneofField(oneof string, f *field) *field { f.oneof = oneof; return f }

// Documentation pages of gitlabhq/gitlabhq that introduce later fields.
const (
	docCICD       = "doc/user/clusters/agent/ci_cd_workflow.md"
	docManaged    = "doc/user/clusters/agent/managed_kubernetes_resources.md"
	docVulns      = "doc/user/clusters/agent/vulnerabilities.md"
	docWorkspaces = "doc/user/workspace/settings.md"
)

// schema returns the ConfigurationFile message, built on first use so that
// the plugin's start-up (get-token runs before every kubectl command) does
// not pay for it.
func schema() *message {
	schemaOnce.Do(func() { schemaRoot = newSchema() })
	return schemaRoot
}

var (
	schemaOnce sync.Once
	schemaRoot *message
)

func newSchema() *message {
	logLevels := []string{"info", "debug", "warn", "error"}

	emptyMessage := func(name string) *message { return &message{name: name} }

	pathCF := &message{name: "PathCF", fields: []*field{nonEmpty(str("glob"))}}
	gitRefCF := &message{name: "GitRefCF", requiredOneofs: []string{"ref"}, fields: []*field{
		oneofField("ref", nonEmpty(str("tag"))),
		oneofField("ref", nonEmpty(str("branch"))),
		oneofField("ref", nonEmpty(str("commit"))),
	}}
	manifestProjectCF := &message{name: "ManifestProjectCF", fields: []*field{
		{name: "id", typ: tString, minBytes: true, presence: true},
		str("default_namespace"),
		list(msgField("paths", pathCF)),
		{name: "reconcile_timeout", typ: tDuration},
		{name: "dry_run_strategy", typ: tString, in: []string{"", "none", "client", "server"}},
		oneofField("prune_oneof", boolean("prune")),
		{name: "prune_timeout", typ: tDuration},
		{name: "prune_propagation_policy", typ: tString, in: []string{"", "orphan", "background", "foreground"}},
		{name: "inventory_policy", typ: tString, in: []string{"", "must_match", "adopt_if_no_inventory", "adopt_all"}},
		msgField("ref", gitRefCF),
	}, gone: map[string]string{
		"resource_inclusions": "GitLab 14.0 removed `resource_inclusions` and `resource_exclusions` from `gitops.manifest_projects`",
		"resource_exclusions": "GitLab 14.0 removed `resource_inclusions` and `resource_exclusions` from `gitops.manifest_projects`",
	}}
	gitopsCF := &message{name: "GitopsCF", fields: []*field{
		list(msgField("manifest_projects", manifestProjectCF)),
	}, gone: map[string]string{
		"charts": "KAS no longer reads `gitops.charts` (the field is reserved); deploy Helm charts with Flux",
	}}

	observabilityCF := &message{name: "ObservabilityCF", fields: []*field{
		msgField("logging", &message{name: "LoggingCF", fields: []*field{
			{name: "level", typ: tEnum, enum: logLevels},
			{name: "grpc_level", typ: tEnum, enum: logLevels, presence: true},
		}}),
		msgField("google_profiler", &message{name: "GoogleProfilerCF", fields: []*field{
			boolean("enabled"), str("project_id"), str("credentials_file"), boolean("debug_logging"),
		}}),
	}}

	extraKeyValCF := &message{name: "ExtraKeyValCF", fields: []*field{
		nonEmpty(str("key")),
		{name: "val", typ: tString, list: true, minItems: 1, minBytes: true},
	}}
	ciAccessAsImpersonateCF := &message{name: "CiAccessAsImpersonateCF", fields: []*field{
		nonEmpty(str("username")),
		nonEmpty(list(str("groups"))),
		str("uid"),
		list(msgField("extra", extraKeyValCF)),
	}}
	ciAccessAsCF := &message{name: "CiAccessAsCF", requiredOneofs: []string{"as"}, fields: []*field{
		oneofField("as", msgField("agent", emptyMessage("CiAccessAsAgentCF"))),
		oneofField("as", msgField("impersonate", ciAccessAsImpersonateCF)),
		oneofField("as", msgField("ci_job", emptyMessage("CiAccessAsCiJobCF"))),
	}, gone: map[string]string{
		"ci_user": "GitLab never implemented `ci_user` (it is commented out of KAS's schema); use `ci_job: {}` to act as the CI job",
	}}
	resourceManagementCF := &message{name: "ResourceManagementCF", fields: []*field{boolean("enabled")}}

	// ciAccessEntryFields are the fields of a projects or groups entry, and,
	// but for id, of instance.
	ciAccessEntryFields := func(withID bool) []*field {
		fs := []*field{
			str("default_namespace"),
			msgField("access_as", ciAccessAsCF),
			nonEmpty(list(str("environments"))),
			since(17, 3, docCICD, boolean("protected_branches_only")),
			since(17, 9, docManaged, msgField("resource_management", resourceManagementCF)),
		}
		if withID {
			fs = append([]*field{nonEmpty(str("id"))}, fs...)
		}
		return fs
	}
	ciAccessProjectCF := &message{name: "CiAccessProjectCF", fields: ciAccessEntryFields(true)}
	ciAccessGroupCF := &message{name: "CiAccessGroupCF", fields: ciAccessEntryFields(true)}
	ciAccessInstanceCF := &message{name: "CiAccessInstanceCF", fields: ciAccessEntryFields(false)}
	ciAccessCF := &message{name: "CiAccessCF", fields: []*field{
		list(msgField("projects", ciAccessProjectCF)),
		list(msgField("groups", ciAccessGroupCF)),
		since(17, 11, docCICD, msgField("instance", ciAccessInstanceCF)),
	}}

	userAccessCF := &message{name: "UserAccessCF", fields: []*field{
		msgField("access_as", &message{name: "UserAccessAsCF", requiredOneofs: []string{"as"}, fields: []*field{
			oneofField("as", msgField("agent", emptyMessage("UserAccessAsAgentCF"))),
			oneofField("as", msgField("user", emptyMessage("UserAccessAsUserCF"))),
		}}),
		list(msgField("projects", &message{name: "UserAccessProjectCF", fields: []*field{nonEmpty(str("id"))}})),
		list(msgField("groups", &message{name: "UserAccessGroupCF", fields: []*field{nonEmpty(str("id"))}})),
	}}

	resourceCF := &message{name: "Resource", fields: []*field{
		str("cpu"), str("memory"),
		sinceAfter165(docVulns, str("ephemeral_storage")),
	}}
	containerScanningCF := &message{name: "ContainerScanningCF", fields: []*field{
		msgField("vulnerability_report", &message{name: "VulnerabilityReport", fields: []*field{
			list(str("namespaces")),
			list(msgField("filters", &message{name: "ContainerScanningFilter", fields: []*field{
				list(str("namespaces")), list(str("resources")), list(str("containers")), list(str("kinds")),
			}})),
			since(17, 9, docVulns, list(str("resource_types"))),
		}}),
		nonEmpty(str("cadence")),
		msgField("resource_requirements", &message{name: "ResourceRequirements", fields: []*field{
			msgField("limits", resourceCF), msgField("requests", resourceCF),
		}}),
		since(17, 4, docVulns, msgField("trivy_k8s_wrapper_image", &message{name: "TrivyK8SWrapperImage", fields: []*field{
			str("repository"), str("tag"),
		}})),
		since(17, 7, docVulns, &field{name: "scanner_timeout", typ: tDuration}),
		since(17, 7, docVulns, &field{name: "report_max_size", typ: tUint64}),
		since(17, 9, docVulns, boolean("delete_report_artifact")),
	}}

	workspaceResources := &message{name: "WorkspaceResources", fields: []*field{
		msgField("requests", &message{name: "WorkspaceResourceValues", fields: []*field{str("cpu"), str("memory")}}),
		msgField("limits", &message{name: "WorkspaceResourceValues", fields: []*field{str("cpu"), str("memory")}}),
	}}
	remoteDevelopmentCF := &message{name: "RemoteDevelopmentCF", fields: []*field{
		boolean("enabled"),
		str("dns_zone"),
		{name: "partial_sync_interval", typ: tDuration, durationGT0: true},
		{name: "full_sync_interval", typ: tDuration, durationGT0: true},
		msgField("gitlab_workspaces_proxy", &message{name: "GitLabWorkspacesProxy", fields: []*field{str("namespace")}}),
		msgField("network_policy", &message{name: "WorkspaceNetworkPolicy", fields: []*field{
			{name: "enabled", typ: tBool, presence: true},
			since(16, 7, docWorkspaces, list(msgField("egress", &message{name: "NetworkPolicyEgress", fields: []*field{
				str("allow"), list(str("except")),
			}}))),
		}}),
		since(16, 8, docWorkspaces, msgField("default_resources_per_workspace_container", workspaceResources)),
		since(16, 8, docWorkspaces, msgField("max_resources_per_workspace", workspaceResources)),
		since(16, 9, docWorkspaces, &field{name: "workspaces_quota", typ: tInt64}),
		since(16, 9, docWorkspaces, &field{name: "workspaces_per_user_quota", typ: tInt64}),
		since(17, 4, docWorkspaces, boolean("use_kubernetes_user_namespaces")),
		since(17, 4, docWorkspaces, str("default_runtime_class")),
		since(17, 4, docWorkspaces, boolean("allow_privilege_escalation")),
		since(17, 4, docWorkspaces, &field{name: "annotations", typ: tStringMap}),
		since(17, 4, docWorkspaces, &field{name: "labels", typ: tStringMap}),
		since(17, 6, docWorkspaces, list(msgField("image_pull_secrets", &message{name: "ImagePullSecret", fields: []*field{
			str("name"), str("namespace"),
		}}))),
		since(17, 6, docWorkspaces, &field{name: "max_active_hours_before_stop", typ: tInt64}),
		since(17, 6, docWorkspaces, &field{name: "max_stopped_hours_before_termination", typ: tInt64}),
	}}

	// configurationFile is the whole file: agentcfg.ConfigurationFile.
	configurationFile := &message{name: "ConfigurationFile", fields: []*field{
		msgField("gitops", gitopsCF),
		msgField("observability", observabilityCF),
		msgField("ci_access", ciAccessCF),
		msgField("container_scanning", containerScanningCF),
		msgField("user_access", userAccessCF),
		msgField("remote_development", remoteDevelopmentCF),
		msgField("flux", &message{name: "FluxCF", fields: []*field{str("webhook_receiver_url")}}),
	}, gone: map[string]string{
		"cilium":    "GitLab 15.0 removed the Cilium integration, and KAS no longer reads `cilium` (field 3 is reserved)",
		"starboard": "GitLab 16.0 removed `starboard`; operational container scanning is configured under `container_scanning`",
	}}

	return configurationFile
}
