// Package agentcontext is the one home of agent contexts: the kubeconfig
// contexts that reach a cluster through a GitLab agent. It answers every
// question a command asks about them:
//
//   - what a context is (Describe, Agents, AgentOf: a ci:/pat: token or an
//     exec entry that runs kubectl-gitlab get-token makes an agent context;
//     gitlab-deploy's client certificate does not);
//   - what entries are called (names.go: GitLab's rules in a job, ours on a
//     workstation);
//   - which context a command means (Resolve, with one Query for
//     use-context, current-context, whoami, doctor and
//     update-kubeconfig --use-context);
//   - what to write (ForJob and ForWorkstation plan Specs; Write, Switch
//     and Edits apply them, each file under its lock);
//   - which context was current before the last switch (History, for
//     use-context -).
//
// It reads and edits kubeconfigs through pkg/kubeconfig and knows no
// command, flag or terminal.
package agentcontext
