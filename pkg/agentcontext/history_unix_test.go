//go:build unix

package agentcontext

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHistoryRefusesFIFO: a FIFO planted as the record is refused at once,
// not waited on.
func TestHistoryRefusesFIFO(t *testing.T) {
	home := t.TempDir()
	h := History{Home: home, Dir: filepath.Join(home, "state")}
	set := loadText(t, workstationKubeconfig)
	os.MkdirAll(filepath.Dir(h.File(set)), 0o700)
	if err := syscall.Mkfifo(h.File(set), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Previous(set); err == nil || !strings.Contains(err.Error(), "cannot read the previous context") {
		t.Errorf("a FIFO: %v", err)
	}
}
