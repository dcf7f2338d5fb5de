//go:build unix

package testprocess

import (
	"os/exec"
	"syscall"
)

// terminate sends SIGTERM to the child's process group.
func terminate(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		cmd.Process.Signal(syscall.SIGTERM)
	}
}

// kill sends SIGKILL to the child's process group.
func kill(cmd *exec.Cmd) {
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		cmd.Process.Kill()
	}
}
