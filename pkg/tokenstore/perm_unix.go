//go:build unix

package tokenstore

import (
	"fmt"
	"os"
	"syscall"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
)

// checkPrivate refuses a token file that others may read or that another
// user owns: its tokens may already have leaked, and using it would hide that.
func checkPrivate(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fixable.Errorf(fmt.Sprintf("check the file, then chown %d %s && chmod 600 %s", os.Getuid(), path, path),
			"refusing to read %s: it belongs to uid %d, not to you (uid %d), so someone else controls your tokens", path, st.Uid, os.Getuid())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fixable.Errorf("chmod 600 "+path+" (and revoke the tokens in it if someone else may have read them)",
			"refusing to read %s: its mode is %04o, so other users can read the tokens in it", path, perm)
	}
	return nil
}
