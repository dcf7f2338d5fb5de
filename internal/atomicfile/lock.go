// Package atomicfile writes files so that a reader sees the old bytes or the
// new ones and nothing in between, under a lock that a crashed writer cannot
// leave stuck, and reads the files users name without hanging on a pipe or
// reading a device without end. Nothing it creates is opened through a
// planted link.
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
//
// When file is a symbolic link, the lock is held both next to the link (as
// kubectl, which does not resolve it, locks it) and next to the file it
// resolves to, so runs that reach one file by different paths exclude each
// other too. The link's lock is always taken first, and the resolved
// file's lock is never the link lock of another path, so two runs cannot
// each wait for the other.
type Lock struct {
	file string
	held []heldLock
}

type heldLock struct {
	path string
	f    *os.File
}

// KubectlStaleAfter is how old an empty (kubectl-made) lock file must be
// before it is considered abandoned; kubectl holds it for milliseconds.
const KubectlStaleAfter = 5 * time.Second

var ourMarker = []byte("kubectl-gitlab lock pid ")

// ErrLockTimeout is returned when the lock stays held by a live process.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

// errRetry says to try again at once: the lock file went away meanwhile, or
// we removed a stale one.
var errRetry = errors.New("retry")

// Acquire takes the lock for file, waiting up to timeout. The null device
// needs no lock (what is written to it is discarded) and gets none: no
// file is made next to it. Another special file is refused.
func Acquire(file string, timeout time.Duration) (*Lock, error) {
	target, err := resolve(file)
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", file, err)
	}
	l := &Lock{file: target}
	if info, err := os.Stat(target); err == nil && !info.Mode().IsRegular() {
		if isNullDevice(info) {
			return l, nil
		}
		return nil, fmt.Errorf("cannot lock %s: %w", file, notRegular(info))
	}
	deadline := time.Now().Add(timeout)
	names := []string{file}
	if target != file {
		names = append(names, target)
	}
	for _, name := range names {
		f, err := acquire(name+".lock", file, deadline, timeout)
		if err != nil {
			l.Release()
			return nil, err
		}
		l.held = append(l.held, heldLock{path: name + ".lock", f: f})
	}
	// Temp files of writers killed before their rename; swept by whoever
	// holds the lock next, whether or not it writes.
	removeWithPrefix(filepath.Dir(target), "."+filepath.Base(target)+tempInfix)
	return l, nil
}

// File is the file the lock guards, its symbolic links resolved: read and
// write this path, so that a link changed meanwhile cannot send the write
// elsewhere.
func (l *Lock) File() string { return l.file }

// acquire takes one lock file, waiting until deadline.
func acquire(path, file string, deadline time.Time, timeout time.Duration) (*os.File, error) {
	wait := time.Millisecond
	for {
		f, err := try(path)
		switch {
		case f != nil:
			// Private files of runs killed while preparing a lock (see
			// create); swept by whoever holds the lock next.
			removeWithPrefix(filepath.Dir(path), filepath.Base(path)+newInfix)
			return f, nil
		case errors.Is(err, errRetry) && time.Now().Before(deadline):
			continue
		case err != nil && !errors.Is(err, errRetry):
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w %s after %s: another kubectl or kubectl-gitlab is writing %s; try again when it has finished (if none is running, delete the lock file)", ErrLockTimeout, path, timeout, file)
		}
		time.Sleep(wait)
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// try makes one attempt. It returns (nil, nil) when the lock is busy, and
// errRetry when it may be free now.
func try(path string) (*os.File, error) {
	f, err := create(path)
	if f != nil || !errors.Is(err, fs.ErrExist) {
		return f, err
	}
	// The lock file exists: look at it without following a link or
	// waiting on a FIFO, and without opening it for writing.
	f, err = os.OpenFile(path, os.O_RDONLY|noFollow|nonBlock, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errRetry // released meanwhile
	case errors.Is(err, fs.ErrPermission):
		// kubectl creates its lock files with mode 0000.
		return nil, removeIfStaleKubectlLock(path)
	case err != nil:
		if info, lerr := os.Lstat(path); lerr == nil && !info.Mode().IsRegular() {
			return nil, plantedLock(path, info)
		}
		return nil, fmt.Errorf("cannot open lock file %s: %w", path, errors.Unwrap(err))
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = plantedLock(path, info)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := lockFile(f, false); err != nil {
		f.Close()
		return nil, nil // a live kubectl-gitlab holds it
	}
	if !samePath(f, path) {
		f.Close() // released and removed (or replaced) meanwhile
		return nil, errRetry
	}
	content := make([]byte, len(ourMarker))
	n, _ := f.ReadAt(content, 0)
	if !bytes.Equal(content[:n], ourMarker) && time.Since(info.ModTime()) < KubectlStaleAfter {
		f.Close() // kubectl's lock, young: wait
		return nil, nil
	}
	// Ours from a dead process (its flock is gone), or a stale kubectl
	// lock. Remove it while holding its flock, so nobody else takes it
	// meanwhile, and create a lock of our own: taking the file over in
	// place would write into a file we did not make, and a run killed
	// between emptying and marking it would leave an empty lock, which
	// looks like kubectl's and blocks others for KubectlStaleAfter.
	if err := releaseAndRemove(f, path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		if staleRemovalRaced(err) {
			return nil, nil // busy for now
		}
		return nil, fmt.Errorf("cannot remove stale lock file %s: %w", path, errors.Unwrap(err))
	}
	return nil, errRetry
}

// plantedLock refuses a lock path that neither kubectl nor we would have
// made: kubectl creates its lock with O_CREAT|O_EXCL, a regular file.
func plantedLock(path string, info fs.FileInfo) error {
	return fmt.Errorf("cannot use lock file %s: %w", path, &RefusedError{
		Reason: "it is " + describe(info.Mode()) + ", which neither kubectl nor kubectl-gitlab makes, so it is left alone",
		fix:    "remove " + path + " (and find out who made it)",
	})
}

// create makes a new lock file that is flocked and marked before anyone
// can see it: it is prepared under a private name and hard-linked into
// place, which fails if the lock exists. (Created in place, a process
// killed before its marker was written would leave an empty lock that
// looks like kubectl's, and block others for KubectlStaleAfter.)
func create(path string) (*os.File, error) {
	// A name of its own per attempt: two goroutines (or a PID reused)
	// sharing one could link each other's file into place. CreateTemp
	// creates exclusively: nothing planted under the name is opened.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+newInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("cannot create lock file %s: %w", path, errors.Unwrap(err))
	}
	private := f.Name()
	if err := lockFile(f, true); err != nil {
		f.Close()
		os.Remove(private)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := mark(f); err != nil {
		f.Close()
		os.Remove(private)
		return nil, err
	}
	err = os.Link(private, path)
	os.Remove(private)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, fs.ErrExist):
		f.Close()
		return nil, fs.ErrExist
	case errors.Is(err, fs.ErrNotExist):
		f.Close()
		return nil, errRetry // our private file was swept away by a holder
	}
	// No hard links here (some network or FUSE filesystems): create in
	// place, flocking before marking.
	f.Close()
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fs.ErrExist
		}
		return nil, fmt.Errorf("cannot create lock file %s: %w", path, errors.Unwrap(err))
	}
	if err := lockFile(f, true); err != nil {
		releaseAndRemove(f, path)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := mark(f); err != nil {
		releaseAndRemove(f, path)
		return nil, err
	}
	return f, nil
}

// newInfix names lock files being prepared; a killed process may leave
// one, which the next holder removes.
const newInfix = ".new-"

// mark writes our marker and PID into a lock file we just created.
func mark(f *os.File) error {
	_, err := f.WriteAt(append(append([]byte{}, ourMarker...), strconv.Itoa(os.Getpid())+"\n"...), 0)
	return err
}

func samePath(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Lstat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// removeIfStaleKubectlLock removes a lock file we may not open (kubectl's,
// mode 0000) once it is old enough; (nil) says it is busy.
func removeIfStaleKubectlLock(path string) error {
	info, err := os.Lstat(path)
	switch {
	case err != nil:
		return errRetry
	case !info.Mode().IsRegular():
		return plantedLock(path, info)
	case time.Since(info.ModTime()) < KubectlStaleAfter:
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove stale lock file %s: %w", path, errors.Unwrap(err))
	}
	return errRetry
}

// Release removes the lock files and closes them. On Unix a file is removed
// while its flock is still held, so nobody can take over a file that is
// about to vanish; waiters that opened it see it gone and try again.
func (l *Lock) Release() {
	if l == nil {
		return
	}
	for i := len(l.held) - 1; i >= 0; i-- {
		releaseAndRemove(l.held[i].f, l.held[i].path)
	}
	l.held = nil
}
