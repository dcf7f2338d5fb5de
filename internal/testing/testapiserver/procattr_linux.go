package testapiserver

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the child if the test binary dies
// without running its cleanups (for example on a `go test -timeout` panic).
// Pdeathsig fires when the thread that forked the child exits; the Go runtime
// keeps its threads alive unless a goroutine exits while locked to one, which
// this package never does.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
