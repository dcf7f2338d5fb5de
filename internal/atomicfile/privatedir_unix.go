//go:build unix

package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// CheckPrivateDir refuses a directory meant for private files (the token
// store) when another user could put files in it or swap it: dir must be
// ours and writable by no one else, and every directory above it ours or
// root's and writable by no one else unless sticky (as /tmp is, where
// others cannot rename or remove our entries). These are OpenSSH's
// StrictModes rules (auth.c, auth_secure_path), with the kernel's sticky
// exception; git's credential-cache refuses its socket directory alike. A
// missing dir passes: nothing is in it yet (check again once made).
func CheckPrivateDir(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return fmt.Errorf("cannot check %s: %w", dir, err)
	}
	uid := os.Geteuid()
	for p := real; ; p = filepath.Dir(p) {
		info, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("cannot check %s: %w", dir, err)
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		mode := info.Mode()
		switch {
		case p == real && int(st.Uid) != uid:
			return refuseDir(dir, p, p == real, fmt.Sprintf("belongs to uid %d, not to you (uid %d)", st.Uid, uid), fmt.Sprintf("chown %d %s", uid, p))
		case int(st.Uid) != uid && st.Uid != 0:
			return refuseDir(dir, p, p == real, fmt.Sprintf("belongs to uid %d, neither you (uid %d) nor root", st.Uid, uid), "keep it in a directory of your own (set XDG_CONFIG_HOME or HOME)")
		case mode.Perm()&0o022 != 0 && (p == real || mode&fs.ModeSticky == 0):
			return refuseDir(dir, p, p == real, fmt.Sprintf("is writable by other users (mode %04o)", mode.Perm()), "chmod go-w "+p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func refuseDir(dir, culprit string, itself bool, why, fix string) error {
	reason := dir + " " + why
	if !itself {
		reason = fmt.Sprintf("%s is under %s, which %s", dir, culprit, why)
	}
	return &RefusedError{
		Reason: reason + ", so others could replace or remove the files in it",
		fix:    fix + " (kubectl-gitlab makes its directory with mode 0700)",
	}
}
