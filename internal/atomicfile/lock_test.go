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
	if err := os.WriteFile(path, []byte("0"), 0o600); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 16, 25
	var wg sync.WaitGroup
	for range workers {
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
	data, _ := os.ReadFile(path)
	if string(data) != strconv.Itoa(workers*rounds) {
		t.Errorf("counter = %s, want %d: two holders at once", data, workers*rounds)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
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
