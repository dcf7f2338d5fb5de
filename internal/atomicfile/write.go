package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix marks our temp files, so that the next holder of the lock can
// remove those that a killed writer left behind.
const tempInfix = ".kubectl-gitlab-tmp-"

// WriteFile replaces path with data: a new temp file in the same directory
// (a name of its own, created exclusively, so nothing planted there is
// opened), synced, given the old file's owner, group and mode (perm for a
// new file), then renamed over path. A symlink at path is followed, so the
// link stays a link. The null device is left as it is and data discarded,
// as kubectl's write into /dev/null discards it; any other special file is
// refused. Call it with the file's Lock held.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	target, err := resolve(path)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	old, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return fmt.Errorf("cannot write %s: %w", path, errors.Unwrap(err))
	case isNullDevice(old):
		return nil
	case !old.Mode().IsRegular():
		return fmt.Errorf("cannot write %s: %w", path, notRegular(old))
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	mode := perm
	if old != nil {
		mode = old.Mode().Perm()
		// Renaming over a read-only file would succeed; respect the mode
		// as a plain write would.
		if err := writable(target); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+base+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, errors.Unwrap(err))
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if old != nil {
		keepOwner(tmp, old)
	}
	if err := tmp.Chmod(mode); err != nil { // after chown, which may clear bits
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("cannot replace %s: %w", path, errors.Unwrap(err))
	}
	committed = true
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// resolve follows symlinks at path, also a dangling one to a file not yet
// created, but not one that may have been planted (see mayFollow).
func resolve(path string) (string, error) {
	for range 40 {
		info, err := os.Lstat(path)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			return path, nil // not a symlink (or missing)
		}
		if err := mayFollow(path, info); err != nil {
			return "", err
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// removeWithPrefix deletes the files in dir whose names start with prefix:
// temp files and lock files that killed processes left. Callers hold the
// lock under which such files are made.
func removeWithPrefix(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
