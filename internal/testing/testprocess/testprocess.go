// Package testprocess runs the helper processes of end-to-end tests (a
// kube-apiserver, etcd, the GitLab agent server, Redis ...): each in its own
// process group with its output in a log file, stopped when the test ends and
// killed with the test binary if that dies first. It also finds free loopback
// ports, and keeps the cache of binaries that tests build, under a
// cross-process lock.
package testprocess

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// StopGrace is how long a process may take to exit after SIGTERM.
const StopGrace = 10 * time.Second

// Process is a child process whose output goes to a log file.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // set before exited is closed
}

// Start starts cmd with its output appended to logPath, in a process group
// of its own, and registers a cleanup on t that stops it.
func Start(t testing.TB, name, logPath string, cmd *exec.Cmd) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	// The child holds its own descriptor: ours is not needed after Start.
	defer logFile.Close()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.Stop)
	return p, nil
}

// KillWithParent makes cmd, e.g. a build a test runs and waits for, die with
// the test binary where the platform allows, even if the test times out
// before its cleanups run.
func KillWithParent(cmd *exec.Cmd) { setProcAttr(cmd) }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process ended; valid once Exited is closed.
func (p *Process) Err() error { return p.waitErr }

// Pid is the process's ID (and its group's).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop asks the process group to exit, kills it after StopGrace and waits
// for the process. Calling it again, or after the process exited, is
// harmless.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	terminate(p.cmd)
	select {
	case <-p.exited:
	case <-time.After(StopGrace):
		kill(p.cmd)
		<-p.exited
	}
}

// Kill kills the process group at once, as a crash would, and waits.
func (p *Process) Kill() {
	kill(p.cmd)
	<-p.exited
}

// LogTail returns the last lines of the process's log.
func (p *Process) LogTail(lines int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// FreePorts returns n distinct loopback ports that were free a moment ago.
// Another process may take one before the caller binds it: callers retry.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		// Closed only after all are picked, so that the n ports differ.
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
