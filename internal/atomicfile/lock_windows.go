//go:build windows

package atomicfile

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive LockFileEx lock; Windows drops it when the
// holder's handle closes or the process dies.
func lockFile(f *os.File, wait bool) error {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
}

// releaseAndRemove closes first: Windows cannot remove an open file.
func releaseAndRemove(f *os.File, path string) error {
	f.Close()
	return os.Remove(path)
}

// staleRemovalRaced: Windows cannot remove a file that another waiter has
// open; it takes the lock over, or the next attempt removes it.
func staleRemovalRaced(error) bool { return true }

func writable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o200 == 0 {
		return os.ErrPermission
	}
	return nil
}
