// Package access reads a GitLab agent's configuration file,
// `.gitlab/agents/<name>/config.yaml`, the way KAS and GitLab do, and says,
// offline, who may use the agent and as whom.
//
// KAS reads the whole file at once: YAML 1.1 (yaml.v2 through
// sigs.k8s.io/yaml, so an unquoted `no` is false), then protojson into its
// schema, strictly (an unknown key anywhere is an error), then the schema's
// validation rules. Any error and KAS rejects the file: it sends nothing to
// GitLab, and the agent keeps its previous configuration, its ci_access and
// user_access included. GitLab then applies its own rules to what it gets
// (500 entries, full paths, the agent project's top-level group, the tier).
// So:
//
//   - [Parse] reads the file into a [Config] that keeps the line and column
//     of every node, and reports in Config.Problems, as [Diagnostic]s with
//     Rejects set, everything that makes KAS reject it. [Lint] adds what
//     GitLab ignores or refuses even when KAS accepts the file, and fields
//     newer than a given GitLab release ([Version]).
//   - [Explain] answers, for one CI job (ci_access) or one GitLab user
//     (user_access), which entry applies, whether they get in (not at all
//     when the file is rejected; on GitLab Free without the entries that
//     need Premium), and as which Kubernetes identity.
//   - [NewBinding] writes the RoleBinding or ClusterRoleBinding for the
//     identities KAS impersonates: CI jobs' groups, GitLab users and their
//     role groups.
//
// The schema restates KAS 16.5's pkg/agentcfg/agentcfg.proto and the fields
// GitLab's documentation adds later (schema.go); test/kasoracle holds this
// package to KAS's own parser on every field, the corpus of documented
// examples, and fuzzed documents.
//
// Every entry point takes an options struct and returns a result value with
// WriteText/WriteJSON/WriteYAML methods, so the kubectl commands stay thin.
// The package imports only the standard library and yaml.v3, and builds its
// schema on first use: it is linked into the plugin binary, whose start-up
// time matters.
package access
