//go:build windows

package atomicfile

import (
	"io/fs"
	"os"
	"strings"
)

// Windows has no FIFOs to block on in a path, and making symbolic links
// takes a privilege: the open flags add nothing.
const (
	nonBlock = 0
	noFollow = 0
)

// isNullDevice tells NUL, which os.Stat reports as a character device
// (as it does the console, CON).
func isNullDevice(info fs.FileInfo) bool {
	return info.Mode()&fs.ModeCharDevice != 0 && strings.EqualFold(info.Name(), os.DevNull)
}

// keepOwner: a file replaced by rename keeps the directory's inherited ACL.
func keepOwner(*os.File, fs.FileInfo) {}

// mayFollow: Windows has no sticky shared directories.
func mayFollow(string, fs.FileInfo) error { return nil }
