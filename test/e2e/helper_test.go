package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
)

// TestHelperHoldLock is not a test: run as a subprocess with HOLD_LOCK set,
// it takes the kubeconfig lock, says so, and waits to be killed.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv("HOLD_LOCK")
	if path == "" {
		return
	}
	if _, err := atomicfile.Acquire(path, time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Print("locked")
	time.Sleep(time.Minute)
	os.Exit(4)
}
