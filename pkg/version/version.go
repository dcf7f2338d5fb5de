// Package version holds the build's version, stamped by the Makefile with
// -ldflags "-X gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/version.Version=…".
package version

import "runtime/debug"

// Version is the release (v1.2.3), or "dev" for an unstamped build.
var Version = "dev"

// Commit is the git commit of the build, when stamped.
var Commit = ""

// String is the version as printed and sent in User-Agent.
func String() string {
	if Version != "dev" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version // go install …@v1.2.3
	}
	return Version
}
