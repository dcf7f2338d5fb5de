//go:build !linux

package testapiserver

import "os/exec"

// killWithParent has no portable equivalent outside Linux: there the
// processes are stopped by the test's cleanup only.
func killWithParent(*exec.Cmd) {}
