//go:build unix

package testprocess

import (
	"errors"
	"os"
	"syscall"
)

// Lock blocks until it holds an exclusive lock on path, e.g. around a build
// into the cache that several test binaries may want at once. The kernel
// drops the lock if the holder dies, so a killed build never wedges later
// runs.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, nil
}
