package atomicfile

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLockExcludesGoroutines: goroutines of one process (one PID) exclude
// each other too; every read-modify-write of a counter lands.
func TestLockExcludesGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	countUnderLock(t, path, []string{path}, 16, 25)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// countUnderLock has workers goroutines add 1 to the counter file rounds
// times each, under the lock, worker i reaching it by paths[i%len(paths)];
// a lost update fails t.
func countUnderLock(t *testing.T, counter string, paths []string, workers, rounds int) {
	t.Helper()
	if err := os.WriteFile(counter, []byte("0"), 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range workers {
		path := paths[i%len(paths)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, err := Acquire(path, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				data, _ := os.ReadFile(path)
				n, _ := strconv.Atoi(string(data))
				if err := WriteFile(path, []byte(strconv.Itoa(n+1)), 0o600); err != nil {
					t.Error(err)
				}
				l.Release()
			}
		}()
	}
	wg.Wait()
	if data, _ := os.ReadFile(counter); string(data) != strconv.Itoa(workers*rounds) {
		t.Errorf("counter = %s, want %d: updates were lost", data, workers*rounds)
	}
}

// TestTakeoverRemovesAbandonedPreparedLocks: a run killed while preparing
// its lock file leaves "<file>.lock.new-…"; when the next holder gets the
// lock by taking over one that a killed run held, it removes that file too,
// as it does when it creates the lock.
func TestTakeoverRemovesAbandonedPreparedLocks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	dead := append(append([]byte{}, ourMarker...), "999999999\n"...) // no flock: its holder died
	if err := os.WriteFile(path+".lock", dead, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".lock"+newInfix+"123", dead, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
