// Command kubectl-gitlab is the kubectl plugin "kubectl gitlab" and the
// exec credential provider for clusters reached through the GitLab agent.
package main

import (
	"os"
	"runtime/debug"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/cmd"
)

func main() {
	// A run lasts milliseconds and most allocate little: collect garbage
	// only when the heap grows large (a kubeconfig with thousands of
	// contexts), not on the default schedule.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(256 << 20)
	os.Exit(cmd.Main(os.Args[1:], cmd.SystemDeps()))
}
