//go:build !unix

package testprocess

import "os/exec"

func setProcAttr(*exec.Cmd) {}

// terminate kills: there is no SIGTERM here.
func terminate(cmd *exec.Cmd) { cmd.Process.Kill() }

func kill(cmd *exec.Cmd) { cmd.Process.Kill() }
