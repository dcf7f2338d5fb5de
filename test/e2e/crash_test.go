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

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
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

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// states are the kubeconfig contents a kill may leave: each is checked to
// load with client-go once, when recorded.
type states map[string]bool

func (s states) record(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientcmd.Load(data); err != nil {
		t.Fatalf("a clean run left a kubeconfig that does not load: %v", err)
	}
	s[string(data)] = true
}

// assertOneOf: after a kill the kubeconfig is exactly one of the states.
func (s states) assertOneOf(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s[string(data)] {
		t.Fatalf("after a kill the kubeconfig is neither the old nor the new content (%d bytes)", len(data))
	}
}

// Each case of TestCrashSafety aims for killsPerCase kills inside a run,
// in at most attemptsPerKill times as many attempts: a loaded machine
// makes the test slower, not flaky.
const (
	killsPerCase    = 115
	attemptsPerKill = 4
)

// TestCrashSafety SIGKILLs use-context and update-kubeconfig at random
// moments, at least 200 times: the kubeconfig always is exactly the old or
// the new content (which client-go loads), no kill leaves an empty lock
// (which would block the next run), and after a clean run no temp, lock or
// half-made lock file (.lock.new-*) stays behind.
func TestCrashSafety(t *testing.T) {
	kills := 0
	// killLoop kills runs at random moments until the case has its kills,
	// checking after each kill. Delays are drawn from [0, aim): aim starts
	// at 1.5 times the median clean run and follows the machine's load,
	// shorter after a run that ended before its kill, longer after a kill
	// that landed, so that about two kills in three land, spread over the
	// whole run, however the load changes.
	killLoop := func(t *testing.T, e *env, path string, known states, runtime time.Duration, prepare func(i int), args func(i int) []string) {
		t.Helper()
		aim := runtime + runtime/2
		caseKills, i := 0, 0
		for ; caseKills < killsPerCase && i < killsPerCase*attemptsPerKill; i++ {
			prepare(i)
			if killAt(t, e, time.Duration(rand.Int64N(int64(aim))), args(i)...) {
				caseKills++
				aim += aim / 20
			} else {
				aim = max(aim-aim/10, time.Millisecond)
			}
			known.assertOneOf(t, path)
			assertNoEmptyLock(t, path)
		}
		t.Logf("%s: %d kills inside a run in %d attempts (median clean run %s, aim at the end %s)", args(0)[0], caseKills, i, runtime, aim)
		kills += caseKills
	}

	t.Run("use-context", func(t *testing.T) {
		e := newEnv(t)
		path := manyAgents(t, e.dir, 2000) // ~300 KB: writes take a while
		e.vars["KUBECONFIG"] = path
		known := states{}
		known.record(t, path)
		targets := []string{"a7", "a1999"}
		var runtimes []time.Duration
		for i := range 6 {
			runtimes = append(runtimes, timeRun(t, e, "use-context", targets[i%2]))
			known.record(t, path)
		}
		if len(known) != 3 {
			t.Fatalf("%d distinct states, want 3", len(known))
		}
		killLoop(t, e, path, known, median(runtimes), func(int) {}, func(i int) []string { return []string{"use-context", targets[i%2]} })
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
		restore := func(int) {
			if err := os.WriteFile(path, pristine, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		known := states{}
		known.record(t, path)
		var runtimes []time.Duration
		for i := range 5 {
			restore(i)
			runtimes = append(runtimes, timeRun(t, e, "update-kubeconfig"))
		}
		known.record(t, path)
		updated, _ := os.ReadFile(path)
		killLoop(t, e, path, known, median(runtimes), restore, func(int) []string { return []string{"update-kubeconfig"} })
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

// assertNoEmptyLock: a kill never leaves an empty lock file, which looks
// like kubectl's and would make the next run wait KubectlStaleAfter.
func assertNoEmptyLock(t *testing.T, path string) {
	t.Helper()
	if info, err := os.Lstat(path + ".lock"); err == nil && info.Size() == 0 {
		t.Fatalf("a kill left an empty lock file, which the next run takes for kubectl's and waits %s for", atomicfile.KubectlStaleAfter)
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
