package kubeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
)

// lockTimeout bounds how long Update waits for another writer.
const lockTimeout = 10 * time.Second

// NotWritableError says a kubeconfig (or its directory) cannot be written.
type NotWritableError struct {
	Path string
	Err  error
}

func (e *NotWritableError) Error() string {
	return fmt.Sprintf("cannot write kubeconfig %s: %v", e.Path, e.Err)
}

func (e *NotWritableError) Unwrap() error { return e.Err }

// Update applies edit to the kubeconfig at path. Under the file's lock it
// reads what the file holds now (so concurrent runs lose nothing), applies
// the edit, and replaces the file atomically; a new file gets mode 0600.
// It reports whether the file changed. On any error the file is untouched.
func Update(path string, edit func(*Document) error) (changed bool, err error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, &NotWritableError{Path: path, Err: errors.Unwrap(err)}
		}
	}
	lock, err := atomicfile.Acquire(path, lockTimeout)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return false, &NotWritableError{Path: path, Err: err}
		}
		return false, err
	}
	defer lock.Release()

	old, err := atomicfile.ReadFile(lock.File(), MaxFileSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("cannot read kubeconfig %s: %w", path, errors.Unwrap(err))
	}
	doc, err := ParseDocument(path, old)
	if err != nil {
		return false, err
	}
	if err := edit(doc); err != nil {
		return false, err
	}
	if _, err := doc.Config(); err != nil {
		return false, fmt.Errorf("internal error: the edit would leave %s unreadable, so it is left unchanged (please report this): %w", path, err)
	}
	if bytes.Equal(doc.Bytes(), old) {
		return false, nil
	}
	if err := atomicfile.WriteFile(lock.File(), doc.Bytes(), 0o600); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return false, &NotWritableError{Path: path, Err: errors.Unwrap(err)}
		}
		return false, err
	}
	return true, nil
}
