package testprocess

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCached: a build runs once, then the directory is reused; a failed or
// incomplete build leaves nothing that a later call would take for a hit,
// and what a killed build left is removed by the next.
func TestCached(t *testing.T) {
	t.Setenv(CacheEnv, t.TempDir())
	root, _ := CacheRoot()
	killed := filepath.Join(root, "tool-1.tmp-123", "src")
	if err := os.MkdirAll(killed, 0o755); err != nil {
		t.Fatal(err)
	}
	builds := 0
	build := func(dir string) error {
		builds++
		return os.WriteFile(filepath.Join(dir, "tool"), []byte("#!/bin/sh\n"), 0o755)
	}
	dir, err := Cached(t, "tool", "tool-1", []string{"tool"}, build)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Cached(t, "tool", "tool-1", []string{"tool"}, build)
	if err != nil || again != dir || builds != 1 {
		t.Fatalf("second call: %q, %v, %d builds; want %q, nil, 1", again, err, builds, dir)
	}

	failing := errors.New("compiler exploded")
	if _, err := Cached(t, "tool", "tool-2", []string{"tool"}, func(string) error { return failing }); !errors.Is(err, failing) {
		t.Fatalf("failed build: %v", err)
	}
	if _, err := Cached(t, "tool", "tool-3", []string{"tool", "other"}, build); err == nil || !strings.Contains(err.Error(), "left out") {
		t.Fatalf("incomplete build: %v", err)
	}
	for _, name := range []string{"tool-2", "tool-3", "tool-1.tmp-123"} {
		if _, err := os.Stat(filepath.Join(root, name)); !os.IsNotExist(err) {
			t.Errorf("%s is in the cache after a failed build: %v", name, err)
		}
	}
}
