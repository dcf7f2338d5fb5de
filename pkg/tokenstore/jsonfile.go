package tokenstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
)

// lockedJSONFile is a small JSON document on disk that readers read without
// a lock (writers replace it atomically) and writers read-modify-write under
// an exclusive lock on path+".lock", so concurrent writers lose nothing.
type lockedJSONFile struct {
	path string
	// private files (tokens.json) are refused when others can read them.
	private     bool
	lockTimeout time.Duration
}

// maxJSONFileSize bounds tokens.json and the keyring index: a few hundred
// bytes per GitLab instance.
const maxJSONFileSize = 4 << 20

// checkDir refuses a private file's directory when other users may write
// it (they could plant or remove files there).
func (f lockedJSONFile) checkDir() error {
	if !f.private {
		return nil
	}
	if err := atomicfile.CheckPrivateDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("refusing to use %s: %w", f.path, err)
	}
	return nil
}

// read decodes the file into v; exists is false (and v untouched) when there
// is no file.
func (f lockedJSONFile) read(v any) (exists bool, err error) {
	if err := f.checkDir(); err != nil {
		return false, err
	}
	file, err := atomicfile.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %w", f.path, err)
	}
	defer file.Close()
	if f.private {
		// Check the open file, not the path, so a swap in between cannot fool us.
		if err := checkPrivate(file, f.path); err != nil {
			return false, err
		}
	}
	data, err := atomicfile.ReadAll(file, maxJSONFileSize)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %w", f.path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		// Say where, not what: the text near the error may be a token.
		line := 1
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line += bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
		}
		return false, fixable.Errorf("repair it, or remove it and log in again",
			"cannot read %s: not the JSON that kubectl-gitlab writes (near line %d)", f.path, line)
	}
	return true, nil
}

// update locks the file, reads it into v (left as is when there is no file),
// calls change, and writes v back atomically when change reports a change.
func (f lockedJSONFile) update(v any, change func(exists bool) (changed bool, err error)) error {
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	if err := f.checkDir(); err != nil {
		return err
	}
	lock, err := atomicfile.Acquire(f.path, f.lockTimeout)
	if err != nil {
		return err
	}
	defer lock.Release()
	exists, err := f.read(v)
	if err != nil {
		return err
	}
	changed, err := change(exists)
	if err != nil || !changed {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.path, append(data, '\n'), 0o600)
}
