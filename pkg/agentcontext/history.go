package agentcontext

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// History remembers, per kubeconfig, the context that was current before
// the last switch: what use-context - goes back to, as kubectx - does.
//
// The record of ~/.kube/config is kubectx's own file, ~/.kube/kubectx,
// in kubectx's form (the context's name and nothing else), so that
// kubectx - and kubectl gitlab use-context - go back and forth together.
// Any other kubeconfig (--kubeconfig, $KUBECONFIG, a CI job's) gets a file
// of the same form under Dir, named after the kubeconfig's path: a
// kubeconfig of one shell or job does not send another back to a context
// it never had. The kubeconfig is the file that holds current-context.
type History struct {
	Home string
	Dir  string
}

// historyLockTimeout bounds the wait for another switch's write;
// maxHistorySize bounds what is read back (a context name).
const (
	historyLockTimeout = 5 * time.Second
	maxHistorySize     = 64 << 10
)

// File is where the previous context of the kubeconfig is kept.
func (h History) File(set *kubeconfig.Set) string {
	path := set.CurrentContextFile()
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if h.Home != "" && path == filepath.Join(h.Home, ".kube", "config") {
		return filepath.Join(h.Home, ".kube", "kubectx")
	}
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(h.Dir, "previous-context", hex.EncodeToString(sum[:12]))
}

// Previous is the context that was current before the last switch; "" when
// none is remembered.
func (h History) Previous(set *kubeconfig.Set) (string, error) {
	data, err := atomicfile.ReadFile(h.File(set), maxHistorySize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cannot read the previous context: %w", err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

// Record remembers the context that was current before a switch (""
// when none was, as kubectx records it).
func (h History) Record(set *kubeconfig.Set, previous string) error {
	file := h.File(set)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("cannot remember the previous context in %s: %w", file, err)
	}
	lock, err := atomicfile.Acquire(file, historyLockTimeout)
	if err != nil {
		return fmt.Errorf("cannot remember the previous context in %s: %w", file, err)
	}
	defer lock.Release()
	if err := atomicfile.WriteFile(lock.File(), []byte(previous), 0o600); err != nil {
		return fmt.Errorf("cannot remember the previous context: %w", err)
	}
	return nil
}
