// Package access checks, offline, who may use a GitLab agent for Kubernetes
// from CI/CD and as whom.
//
// GitLab decides this from the `ci_access` section of the agent's
// `.gitlab/agents/<name>/config.yaml` and, once inside the cluster, from RBAC
// on the impersonated identity. A mistake there shows up only as a 403 (or a
// missing kubeconfig context) in somebody's pipeline, so this package reads
// the file the way GitLab does and says what it means:
//
//   - [Parse] reads the file strictly into a [Config] that keeps the line and
//     column of every node, and [Lint] checks GitLab's rules on it, reporting
//     [Diagnostic]s like a compiler (`file:line:col: error: message`).
//   - [Explain] answers, for one CI job, which entry applies (the most
//     specific one wins), whether the job gets the agent at all, in which
//     default namespace, and as which Kubernetes identity.
//   - [NewBinding] writes the RoleBinding or ClusterRoleBinding that grants the
//     groups KAS impersonates for `access_as: {ci_job: {}}`.
//
// Every entry point takes an options struct and returns a result value with
// WriteText/WriteJSON/WriteYAML methods, so the kubectl commands stay thin.
// The package imports only the standard library and yaml.v3: it is linked
// into the plugin binary, whose start-up time matters.
package access
