package e2e

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// killAt starts the plugin and SIGKILLs it after delay (if it still runs).
func killAt(t *testing.T, e *env, delay time.Duration, args ...string) (killed bool) {
	t.Helper()
	c := exec.Command(filepath.Join(pluginDir, "kubectl-gitlab"), args...)
	c.Env = e.list()
	c.Dir = e.dir
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(delay):
	}
	c.Process.Signal(syscall.SIGKILL)
	<-done
	return true
}

// timeRun is one clean run's duration, to aim kills inside runs.
func timeRun(t *testing.T, e *env, args ...string) time.Duration {
	start := time.Now()
	e.run(filepath.Join(pluginDir, "kubectl-gitlab"), args...).ok(t)
	return time.Since(start)
}

// TestCrashSafety SIGKILLs use-context and update-kubeconfig at random
// moments, at least 200 times: the kubeconfig always parses and is exactly
// the old or the new content, the next run is never blocked by a lock, and
// no temp or lock file stays behind.
func TestCrashSafety(t *testing.T) {
	deadline := time.Now().Add(90 * time.Second)
	kills := 0

	t.Run("use-context", func(t *testing.T) {
		e := newEnv(t)
		path := manyAgents(t, e.dir, 2000) // ~300 KB: writes take a while
		e.vars["KUBECONFIG"] = path
		states := map[string]bool{}
		record := func() { data, _ := os.ReadFile(path); states[string(data)] = true }
		record()
		targets := []string{"a7", "a1999"}
		var runtime time.Duration
		for _, target := range targets {
			runtime = max(runtime, timeRun(t, e, "use-context", target))
			record()
		}
		if len(states) != 3 {
			t.Fatalf("%d distinct states, want 3", len(states))
		}
		for i := 0; i < 170 && time.Now().Before(deadline); i++ {
			delay := time.Duration(rand.Int64N(int64(runtime + runtime/2)))
			if killAt(t, e, delay, "use-context", targets[i%2]) {
				kills++
			}
			assertOneOf(t, path, states)
		}
		e.run(filepath.Join(pluginDir, "kubectl-gitlab"), "use-context", targets[0]).ok(t)
		assertNoLeftovers(t, e.dir)
		assertNoLockDebris(t, e.dir)
	})

	t.Run("update-kubeconfig", func(t *testing.T) {
		kas := jobKAS(t)
		e := newEnv(t)
		path := e.jobKubeconfig("job-agents.yaml", kas.K8sProxyURL, jobToken)
		e.vars["CI_JOB_TOKEN"] = jobToken
		e.vars["CI_API_V4_URL"] = kas.URL + "/api/v4"
		e.vars["KAS_CERTIFICATE"] = kas.CAFile
		pristine, _ := os.ReadFile(path)
		runtime := timeRun(t, e, "update-kubeconfig")
		updated, _ := os.ReadFile(path)
		states := map[string]bool{string(pristine): true, string(updated): true}
		for i := 0; kills < 230 && time.Now().Before(deadline); i++ {
			if err := os.WriteFile(path, pristine, 0o600); err != nil {
				t.Fatal(err)
			}
			delay := time.Duration(rand.Int64N(int64(runtime + runtime/2)))
			if killAt(t, e, delay, "update-kubeconfig") {
				kills++
			}
			assertOneOf(t, path, states)
		}
		e.run(filepath.Join(pluginDir, "kubectl-gitlab"), "update-kubeconfig").ok(t)
		if data, _ := os.ReadFile(path); !bytes.Equal(data, updated) {
			t.Errorf("after the kills, a clean run did not reach the updated state")
		}
		assertNoLeftovers(t, e.dir)
		assertNoLockDebris(t, e.dir)
	})

	t.Logf("%d processes killed mid-run", kills)
	if kills < 200 {
		t.Fatalf("only %d kills landed inside a run; want at least 200", kills)
	}
}

func assertOneOf(t *testing.T, path string, states map[string]bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !states[string(data)] {
		t.Fatalf("after a kill the kubeconfig is neither the old nor the new content (%d bytes)", len(data))
	}
	if _, err := clientcmd.Load(data); err != nil {
		t.Fatalf("after a kill the kubeconfig does not load: %v", err)
	}
}

func assertNoLockDebris(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, ".lock") }) {
		t.Errorf("lock debris left: %v", names)
	}
}
