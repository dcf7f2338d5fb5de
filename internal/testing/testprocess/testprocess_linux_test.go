package testprocess

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopReachesTheProcessGroup: stopping a process also stops what it
// started, and the log holds its output.
func TestStopReachesTheProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell's child is in the same process group: SIGTERM to the group
	// reaches it, a signal to the shell alone would not.
	cmd := exec.Command("sh", "-c", `sleep 300 & echo $! > `+pidFile+`; echo started; wait`)
	p, err := Start(t, "sh", filepath.Join(dir, "sh.log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(10 * time.Second); child == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the child never wrote its PID")
		}
		data, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	p.Stop()
	if p.Running() {
		t.Fatal("still running after Stop")
	}
	if alive(child) {
		t.Errorf("the child %d outlived Stop", child)
	}
	if tail := p.LogTail(5); tail != "started" {
		t.Errorf("log tail %q", tail)
	}
}

// alive reports whether pid runs: it exists and is not a zombie waiting for
// a parent that does not reap it.
func alive(pid int) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return false
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err == nil {
			if _, after, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(after, "Z") {
				return false
			}
		}
	}
	return true
}
