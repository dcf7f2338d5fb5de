package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tempInfix marks our temp files, so that a later writer holding the lock
// can remove those that a killed writer left behind.
const tempInfix = ".kubectl-gitlab-tmp-"

// WriteFile replaces path with data: a temp file in the same directory,
// synced, given the old file's mode (perm for a new file), then renamed over
// path. A symlink at path is followed, so the link stays a link. Call it
// with the file's Lock held.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	removeLeftovers(dir, base)
	mode := perm
	if info, err := os.Stat(target); err == nil {
		mode = info.Mode().Perm()
		// Renaming over a read-only file would succeed; respect the mode
		// as a plain write would.
		if err := writable(target); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
	}
	tmp, err := os.OpenFile(filepath.Join(dir, "."+base+tempInfix+strconv.Itoa(os.Getpid())), os.O_RDWR|os.O_CREATE|os.O_TRUNC, mode)
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
	if err := tmp.Chmod(mode); err != nil { // the umask may have narrowed it
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
// created.
func resolve(path string) (string, error) {
	for range 40 {
		dest, err := os.Readlink(path)
		if err != nil {
			return path, nil // not a symlink (or missing)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// removeLeftovers deletes temp files of base that a killed writer left.
// Writers only make them while holding the lock, which the caller holds now.
func removeLeftovers(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + tempInfix
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
