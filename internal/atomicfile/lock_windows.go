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
func releaseAndRemove(f *os.File, path string) {
	f.Close()
	os.Remove(path)
}

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
