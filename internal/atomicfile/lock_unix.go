//go:build unix

package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile flocks f; without wait it fails at once when f is held.
func lockFile(f *os.File, wait bool) error {
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

func releaseAndRemove(f *os.File, path string) {
	os.Remove(path)
	f.Close()
}

// writable reports whether the caller may write path, as open(2) would
// decide (root may write anything).
func writable(path string) error { return unix.Access(path, unix.W_OK) }
