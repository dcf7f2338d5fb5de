package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestKubeconfigNotWritable: a kubeconfig the user cannot write gets a
// clear error, exit code 2, and stays as it was. As root, which may write
// anything, the plugin runs as nobody.
func TestKubeconfigNotWritable(t *testing.T) {
	e := newEnv(t)
	path := manyAgents(t, e.dir, 2)
	before, _ := os.ReadFile(path)
	c := exec.Command(filepath.Join(pluginDir, "kubectl-gitlab"), "use-context", "a1", "--kubeconfig", path)
	c.Env = []string{"HOME=" + e.dir, "PATH=/usr/bin:/bin"}
	if os.Getuid() == 0 {
		for _, dir := range []string{pluginDir, e.dir, filepath.Dir(e.dir)} {
			os.Chmod(dir, 0o755)
		}
		os.Chmod(path, 0o644)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else {
		os.Chmod(path, 0o444)
		os.Chmod(e.dir, 0o555)
		defer os.Chmod(e.dir, 0o755)
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	exitErr, ok := err.(*exec.ExitError)
	if !ok || exitErr.ExitCode() != 2 {
		t.Fatalf("want exit code 2, got %v\n%s", err, stderr.String())
	}
	msg := stderr.String()
	if !strings.HasPrefix(msg, "error: cannot write kubeconfig "+path) || !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "writable") {
		t.Errorf("unclear error:\n%s", msg)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("the file changed")
	}
}
