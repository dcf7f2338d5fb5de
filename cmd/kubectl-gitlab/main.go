// Command kubectl-gitlab is the kubectl plugin "kubectl gitlab" and the
// exec credential provider for clusters reached through the GitLab agent.
package main

import (
	"os"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.SystemDeps()))
}
