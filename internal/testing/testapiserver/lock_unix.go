//go:build unix

package testapiserver

import (
	"errors"
	"os"
	"syscall"
)

// buildLock blocks until it holds an exclusive lock on path. The kernel drops
// the lock if the holder dies, so a killed build never wedges later runs.
func buildLock(path string) (unlock func(), err error) {
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
