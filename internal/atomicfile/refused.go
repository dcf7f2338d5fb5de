package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
)

// RefusedError says a file was left alone because of what it is: a special
// file where a regular one belongs, a file over its size limit, a link that
// may have been planted, or a directory that others may write. Nothing was
// read from it or written to it. It is bad input: Fix says what to change.
type RefusedError struct {
	Reason string
	fix    string
}

func (e *RefusedError) Error() string { return e.Reason }

// Fix says what to change (fixable.Error).
func (e *RefusedError) Fix() string { return e.fix }

// notRegular refuses a special file where a regular file belongs.
func notRegular(info fs.FileInfo) *RefusedError {
	return &RefusedError{
		Reason: "is " + describe(info.Mode()) + ", not a regular file",
		fix:    "use a regular file; kubectl-gitlab reads no pipe or device but " + os.DevNull + ", which stands for an empty file",
	}
}

// describe names the kind of a file that is not a regular file.
func describe(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

// tooLarge refuses a file over limit bytes.
func tooLarge(limit int64) *RefusedError {
	return &RefusedError{
		Reason: "is larger than " + formatSize(limit) + ", more than such a file ever holds",
		fix:    "check that the path names the right file",
	}
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
