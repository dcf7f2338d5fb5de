// Package atomicfile writes files so that a reader sees the old bytes or the
// new ones and nothing in between, under a lock that a crashed writer cannot
// leave stuck.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Lock is held on "<file>.lock", the name kubectl uses, so kubectl and this
// plugin exclude each other. Our lock files carry a marker and our PID and
// are flock(2)ed while held: the kernel drops the flock when a process dies,
// so a lock file left by a killed run is taken over at once. kubectl's own
// lock files are empty and have no flock; one older than KubectlStaleAfter
// is taken to be left over from a crash.
type Lock struct {
	path string
	f    *os.File
}

// KubectlStaleAfter is how old an empty (kubectl-made) lock file must be
// before it is considered abandoned; kubectl holds it for milliseconds.
const KubectlStaleAfter = 5 * time.Second

var ourMarker = []byte("kubectl-gitlab lock pid ")

// ErrLockTimeout is returned when the lock stays held by a live process.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// Acquire takes the lock for file, waiting up to timeout.
func Acquire(file string, timeout time.Duration) (*Lock, error) {
	path := file + ".lock"
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		l, err := try(path)
		if err != nil {
			return nil, err
		}
		if l != nil {
			return l, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w %s after %s: another kubectl or kubectl-gitlab is writing %s; try again when it has finished (if none is running, delete the lock file)", ErrLockTimeout, path, timeout, file)
		}
		time.Sleep(wait)
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// try makes one attempt. It returns (nil, nil) when the lock is busy.
func try(path string) (*Lock, error) {
	l, err := create(path)
	if l != nil || !errors.Is(err, fs.ErrExist) {
		return l, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil // released meanwhile; try again
	case errors.Is(err, fs.ErrPermission):
		// kubectl creates its lock files with mode 0000.
		return nil, removeIfStaleKubectlLock(path)
	case err != nil:
		return nil, fmt.Errorf("cannot open lock file %s: %w", path, errors.Unwrap(err))
	}
	if err := lockFile(f, false); err != nil {
		f.Close()
		return nil, nil // a live kubectl-gitlab holds it
	}
	if !samePath(f, path) {
		f.Close() // released and removed (or replaced) meanwhile
		return nil, nil
	}
	content := make([]byte, len(ourMarker))
	n, _ := f.ReadAt(content, 0)
	ours := bytes.Equal(content[:n], ourMarker)
	if !ours {
		info, err := f.Stat()
		if err != nil || time.Since(info.ModTime()) < KubectlStaleAfter {
			f.Close() // kubectl's lock, young: wait
			return nil, nil
		}
	}
	// Ours from a dead process (its flock is gone), or a stale kubectl
	// lock: take it over, and sweep what killed runs left, as create does.
	l = &Lock{path: path, f: f}
	if err := l.mark(); err != nil {
		return nil, err
	}
	removeAbandoned(path)
	return l, nil
}

// create makes a new lock file that is flocked and marked before anyone
// can see it: it is prepared under a private name and hard-linked into
// place, which fails if the lock exists. (Created in place, a process
// killed before its marker was written would leave an empty lock that
// looks like kubectl's, and block others for KubectlStaleAfter.)
func create(path string) (*Lock, error) {
	// A name of its own per attempt: two goroutines (or a PID reused)
	// sharing one could link each other's file into place.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+newInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("cannot create lock file %s: %w", path, errors.Unwrap(err))
	}
	private := f.Name()
	l := &Lock{path: path, f: f}
	if err := lockFile(f, true); err != nil {
		f.Close()
		os.Remove(private)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := l.mark(); err != nil {
		os.Remove(private)
		return nil, err
	}
	err = os.Link(private, path)
	os.Remove(private)
	switch {
	case err == nil:
		removeAbandoned(path)
		return l, nil
	case errors.Is(err, fs.ErrExist):
		l.f.Close()
		return nil, fs.ErrExist
	case errors.Is(err, fs.ErrNotExist):
		l.f.Close()
		return nil, nil // our private file was swept away by a holder: retry
	}
	// No hard links here (some network or FUSE filesystems): create in
	// place, flocking before marking.
	l.f.Close()
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fs.ErrExist
		}
		return nil, fmt.Errorf("cannot create lock file %s: %w", path, errors.Unwrap(err))
	}
	if err := lockFile(f, true); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l = &Lock{path: path, f: f}
	return l, l.mark()
}

// newInfix names lock files being prepared; a killed process may leave
// one, which the next holder removes.
const newInfix = ".new-"

// removeAbandoned deletes the private lock files of processes that died
// before linking them. The caller holds the lock; a live process whose
// file disappears just tries again.
func removeAbandoned(path string) {
	matches, _ := filepath.Glob(path + newInfix + "*")
	for _, m := range matches {
		os.Remove(m)
	}
}

func (l *Lock) mark() error {
	if err := l.f.Truncate(0); err != nil {
		l.Release()
		return err
	}
	_, err := l.f.WriteAt(append(append([]byte{}, ourMarker...), strconv.Itoa(os.Getpid())+"\n"...), 0)
	if err != nil {
		l.Release()
	}
	return err
}

func samePath(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func removeIfStaleKubectlLock(path string) error {
	info, err := os.Stat(path)
	if err != nil || time.Since(info.ModTime()) < KubectlStaleAfter {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove stale lock file %s: %w", path, errors.Unwrap(err))
	}
	return nil
}

// Release removes the lock file and closes it. On Unix the file is removed
// while its flock is still held, so nobody can take over a file that is
// about to vanish; waiters that opened it see it gone and try again.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	releaseAndRemove(l.f, l.path)
	l.f = nil
}
