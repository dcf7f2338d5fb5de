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

// releaseAndRemove removes path, then closes (and so unlocks) f.
func releaseAndRemove(f *os.File, path string) error {
	err := os.Remove(path)
	f.Close()
	return err
}

// staleRemovalRaced: on Unix a file is removed even while others have it
// open, so a failed removal is a real error (another user's file in a
// sticky directory).
func staleRemovalRaced(error) bool { return false }

// writable reports whether the caller may write path, as open(2) would
// decide (root may write anything).
func writable(path string) error { return unix.Access(path, unix.W_OK) }
