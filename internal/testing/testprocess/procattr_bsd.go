//go:build unix && !linux

package testprocess

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in a process group of its own. There is no
// portable way to have it killed with the test binary here: the test's
// cleanup stops it.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
