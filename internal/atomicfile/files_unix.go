//go:build unix

package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Open flags: a FIFO opens at once instead of waiting for a writer, and a
// lock file is never opened through a symbolic link.
const (
	nonBlock = syscall.O_NONBLOCK
	noFollow = syscall.O_NOFOLLOW
)

// isNullDevice tells the null device, under any name (a bind mount, a node
// made with mknod): a character device with /dev/null's device number.
func isNullDevice(info fs.FileInfo) bool {
	if info.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	if err != nil || null.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	a, ok1 := info.Sys().(*syscall.Stat_t)
	b, ok2 := null.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Rdev == b.Rdev
}

// keepOwner gives the new file f the owner and group of the file it
// replaces, so that root editing a user's kubeconfig leaves it theirs.
// Other users may give a file only to themselves, but may keep a group
// they belong to; what cannot be kept stays as created, as with any editor
// that saves by rename.
func keepOwner(f *os.File, old fs.FileInfo) {
	want, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	info, err := f.Stat()
	if err != nil {
		return
	}
	if have, ok := info.Sys().(*syscall.Stat_t); ok && have.Uid == want.Uid && have.Gid == want.Gid {
		return
	}
	if f.Chown(int(want.Uid), int(want.Gid)) != nil {
		f.Chown(-1, int(want.Gid))
	}
}

// mayFollow applies Linux's fs.protected_symlinks rule (fs/namei.c,
// may_follow_link) whatever that sysctl says, since resolve reads links
// itself and the kernel never sees a follow: in a sticky world-writable
// directory such as /tmp, a link is followed only when it belongs to us or
// to the directory's owner. Anyone else's link there may be planted to make
// us replace the file it points to.
func mayFollow(link string, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return nil
	}
	dir, err := os.Stat(filepath.Dir(link))
	if err != nil {
		return err
	}
	if dir.Mode()&fs.ModeSticky == 0 || dir.Mode().Perm()&0o002 == 0 {
		return nil
	}
	if d, ok := dir.Sys().(*syscall.Stat_t); ok && d.Uid == st.Uid {
		return nil
	}
	return &RefusedError{
		Reason: fmt.Sprintf("%s is a symbolic link that uid %d made in %s, a directory anyone may write, so it is not followed (as Linux's fs.protected_symlinks does not follow it)", link, st.Uid, filepath.Dir(link)),
		fix:    "pass the path of the file itself, or replace the link with one of your own",
	}
}
