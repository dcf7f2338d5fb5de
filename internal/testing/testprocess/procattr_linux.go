package testprocess

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in a process group of its own, so that
// stopping it reaches anything it started, and makes the kernel kill it if
// the test binary dies without running its cleanups (for example on a `go
// test -timeout` panic). Pdeathsig fires when the thread that forked the
// child exits; the Go runtime keeps its threads alive unless a goroutine
// exits while locked to one, which this package never does.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
