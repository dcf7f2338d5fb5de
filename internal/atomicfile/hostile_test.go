//go:build unix

package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nobody is the second user of the two-user tests.
const nobody = 65534

// requireRoot skips tests that need a second user or a device node, which
// only root can make.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: to act as a second user, give files away or make device nodes")
	}
}

// within runs f and fails the test if it does not return in time: the
// cases here used to block forever.
func within[T any](t *testing.T, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("still blocked after 30 s")
		panic("unreachable")
	}
}

func refused(t *testing.T, err error) *RefusedError {
	t.Helper()
	var r *RefusedError
	if !errors.As(err, &r) {
		t.Fatalf("want a RefusedError, got %v", err)
	}
	if r.Fix() == "" {
		t.Errorf("no fix in %v", err)
	}
	return r
}

func writeFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestLockRefusesPlantedFiles: a "<file>.lock" that neither kubectl nor we
// make (a symlink, to a file or to nowhere, a FIFO, a directory) is refused
// at once and left alone; what a link points to is never opened.
func TestLockRefusesPlantedFiles(t *testing.T) {
	const passwd = "root:x:0:0:root:/root:/bin/bash\n"
	cases := map[string]func(lock, victim string) error{
		"symlink to a file": func(lock, victim string) error { return os.Symlink(victim, lock) },
		"dangling symlink":  func(lock, victim string) error { return os.Symlink(victim+".missing", lock) },
		"FIFO":              func(lock, _ string) error { return syscall.Mkfifo(lock, 0o600) },
		"directory":         func(lock, _ string) error { return os.Mkdir(lock, 0o700) },
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			config, victim := filepath.Join(dir, "config"), filepath.Join(dir, "passwd")
			writeFile(t, config, "kind: Config\n", 0o600)
			writeFile(t, victim, passwd, 0o644)
			old := time.Now().Add(-time.Hour) // stale by any measure
			os.Chtimes(victim, old, old)
			if err := plant(config+".lock", victim); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(config + ".lock")
			err := within(t, func() error {
				l, err := Acquire(config, 5*time.Second)
				l.Release()
				return err
			})
			refused(t, err)
			if got := readFile(t, victim); got != passwd {
				t.Errorf("the link's target was written: %q", got)
			}
			if after, err := os.Lstat(config + ".lock"); err != nil || !os.SameFile(before, after) {
				t.Errorf("the planted lock was not left alone: %v", err)
			}
		})
	}
}

// TestTakeoverWritesNoOldLock: a stale lock is taken over by removing it
// and creating a new one, never by emptying and rewriting it in place: a
// run killed in between left an empty lock, which looks like kubectl's and
// made the next run wait KubectlStaleAfter.
func TestTakeoverWritesNoOldLock(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	stale := string(ourMarker) + "999999999\n" // a dead run's; nobody flocks it
	writeFile(t, config+".lock", stale, 0o600)
	witness := filepath.Join(dir, "witness")
	if err := os.Link(config+".lock", witness); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(config, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if got := readFile(t, witness); got != stale {
		t.Errorf("the stale lock file was rewritten in place: %q", got)
	}
	if got, want := readFile(t, config+".lock"), string(ourMarker)+strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("lock file holds %q, want %q", got, want)
	}
}

// TestLockSweepsAbandonedPreparations: the private files of runs killed
// while preparing a lock, and the temp files of runs killed while writing,
// are removed by the next holder, also when it takes over a stale lock
// rather than creating one, and when it writes nothing.
func TestLockSweepsAbandonedPreparations(t *testing.T) {
	for _, stale := range []bool{false, true} {
		t.Run("stale lock "+strconv.FormatBool(stale), func(t *testing.T) {
			dir := t.TempDir()
			config := filepath.Join(dir, "config")
			writeFile(t, config, "kind: Config\n", 0o600)
			writeFile(t, config+".lock"+newInfix+"111", "", 0o600)
			writeFile(t, config+".lock"+newInfix+"222", string(ourMarker)+"999999998\n", 0o600)
			writeFile(t, filepath.Join(dir, ".config"+tempInfix+"333"), "kind: Con", 0o600)
			if stale {
				writeFile(t, config+".lock", string(ourMarker)+"999999999\n", 0o600)
			}
			l, err := Acquire(config, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			l.Release()
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("left behind: %v", entries)
			}
		})
	}
}

// TestLinkAndTargetExcludeEachOther: writers that reach one file through a
// symlink and through its own path lose no update: both lock the resolved
// file.
func TestLinkAndTargetExcludeEachOther(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "counter"), filepath.Join(dir, "link")
	if err := os.Symlink("counter", link); err != nil {
		t.Fatal(err)
	}
	countUnderLock(t, target, []string{target, link}, 8, 25)
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

// sharedDirs makes, in a temp dir every user may enter, a sticky
// world-writable directory (like /tmp) and a private home for nobody.
func sharedDirs(t *testing.T) (shared, home string) {
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chmod(base, 0o755)
	shared, home = filepath.Join(base, "shared"), filepath.Join(base, "home")
	os.Mkdir(shared, 0o755)
	if err := os.Chmod(shared, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(home, 0o700)
	os.Chown(home, nobody, nobody)
	return shared, home
}

// TestTempFileIgnoresPlantedLinks: in a shared sticky directory another
// user (root here, nobody the victim) plants a symlink under the temp name
// the victim would use, pointing at one of the victim's own files. The
// victim's write must not go into that file.
func TestTempFileIgnoresPlantedLinks(t *testing.T) {
	requireRoot(t)
	shared, home := sharedDirs(t)
	config, notes := filepath.Join(shared, "config"), filepath.Join(home, "notes")
	for _, f := range []string{config, notes} {
		writeFile(t, f, "the victim's own "+filepath.Base(f)+"\n", 0o600)
		os.Chown(f, nobody, nobody)
	}
	victim := asNobody(t, "TestHelperVictimWrites", "ATOMICFILE_VICTIM_WRITES="+config)
	proceed, _ := victim.StdinPipe()
	var stderr bytes.Buffer
	victim.Stderr = &stderr
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill() }) // if the test stops early
	// The name the temp file used to have; the victim cannot remove a link
	// that another user made in a sticky directory.
	planted := filepath.Join(shared, ".config"+tempInfix+strconv.Itoa(victim.Process.Pid))
	if err := os.Symlink(notes, planted); err != nil {
		t.Fatal(err)
	}
	proceed.Close()
	err := within(t, victim.Wait)
	if got := readFile(t, notes); got != "the victim's own notes\n" {
		t.Errorf("the victim's notes were overwritten through the planted link: %q", got)
	}
	if err != nil {
		t.Fatalf("the victim's write failed: %v\n%s", err, stderr.String())
	}
	if info, err := os.Lstat(config); err != nil || !info.Mode().IsRegular() || readFile(t, config) != "written\n" {
		t.Errorf("config is not the regular file written: %v %v", info, err)
	}
}

// TestHelperVictimWrites is not a test: run by TestTempFileIgnoresPlantedLinks
// as nobody, it waits for stdin to close, then writes its file under lock.
func TestHelperVictimWrites(t *testing.T) {
	path := os.Getenv("ATOMICFILE_VICTIM_WRITES")
	if path == "" {
		return
	}
	io.Copy(io.Discard, os.Stdin)
	l, err := Acquire(path, 10*time.Second)
	if err == nil {
		err = WriteFile(l.File(), []byte("written\n"), 0o600)
		l.Release()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// asNobody runs one helper test of this binary as nobody, from a copy that
// nobody may execute.
func asNobody(t *testing.T, helper string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "atomicfile.test")
	writeFile(t, bin, string(data), 0o755)
	c := exec.Command(bin, "-test.run=^"+helper+"$", "-test.count=1")
	c.Env = append(os.Environ(), env...)
	c.Dir = dir
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return c
}

// TestLinkPlantedInStickyDirIsNotFollowed: a kubeconfig path in a sticky
// world-writable directory that is another user's symlink is not followed
// for writing (Linux's protected_symlinks rule, kept even with the sysctl
// off), so it cannot make us replace the file it points to.
func TestLinkPlantedInStickyDirIsNotFollowed(t *testing.T) {
	requireRoot(t)
	shared, home := sharedDirs(t)
	precious := filepath.Join(home, "precious")
	writeFile(t, precious, "keep\n", 0o600)
	link := filepath.Join(shared, "config")
	if err := os.Symlink(precious, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	refused(t, WriteFile(link, []byte("kind: Config\n"), 0o600))
	_, err := Acquire(link, time.Second)
	refused(t, err)
	if got := readFile(t, precious); got != "keep\n" {
		t.Errorf("the link's target was replaced: %q", got)
	}
	// Its owner's own link, or the directory owner's, is followed.
	os.Lchown(link, 0, 0)
	if err := WriteFile(link, []byte("kind: Config\n"), 0o600); err != nil || readFile(t, precious) != "kind: Config\n" {
		t.Errorf("root's own link was not followed: %v", err)
	}
}

// TestReplaceKeepsOwnerAndGroup: root editing another user's file leaves it
// theirs, with its mode.
func TestReplaceKeepsOwnerAndGroup(t *testing.T) {
	requireRoot(t)
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, "old\n", 0o640)
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	if st.Uid != nobody || st.Gid != nobody || info.Mode().Perm() != 0o640 {
		t.Errorf("owner %d:%d mode %04o, want %d:%d 0640", st.Uid, st.Gid, info.Mode().Perm(), nobody, nobody)
	}
}

// devices gives the null device and /dev/zero to write to: as root, nodes
// made in a temp dir (a bug must never replace the real ones); otherwise the
// real ones, which no user but root may replace.
func devices(t *testing.T) (null, zero string) {
	if os.Getuid() != 0 {
		return os.DevNull, "/dev/zero"
	}
	dir := t.TempDir()
	null, zero = filepath.Join(dir, "null"), filepath.Join(dir, "zero")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(zero, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 5))); err != nil {
		t.Fatal(err)
	}
	return null, zero
}

// TestNullDeviceAndOtherDevices: the null device reads as empty, takes no
// lock file next to it and discards what is written (kubectl writes into
// it); another device is refused and left a device.
func TestNullDeviceAndOtherDevices(t *testing.T) {
	null, zero := devices(t)
	l, err := Acquire(null, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(null + ".lock"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a lock file was made next to the null device: %v", err)
	}
	if err := WriteFile(l.File(), []byte("kind: Config\n"), 0o600); err != nil {
		t.Errorf("writing to the null device: %v", err)
	}
	l.Release()
	if data, err := ReadFile(null, 1<<20); err != nil || len(data) != 0 {
		t.Errorf("the null device read %q, %v", data, err)
	}

	_, err = Acquire(zero, time.Second)
	refused(t, err)
	refused(t, WriteFile(zero, []byte("kind: Config\n"), 0o600))
	for _, dev := range []string{null, zero} {
		if info, err := os.Lstat(dev); err != nil || info.Mode()&fs.ModeCharDevice == 0 {
			t.Errorf("%s is no longer a character device: %v", dev, info.Mode())
		}
		if entries, _ := os.ReadDir(filepath.Dir(dev)); dev != os.DevNull && dev != "/dev/zero" && len(entries) != 2 {
			t.Errorf("files made next to the devices: %v", entries)
		}
	}
}

// TestReadFileIsBounded: reading never blocks on a FIFO (with or without a
// writer), never reads a device without end, and stops at the limit.
func TestReadFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	writeFile(t, big, string(make([]byte, 4096)), 0o600)
	small := filepath.Join(dir, "small")
	writeFile(t, small, "kind: Config\n", 0o600)

	read := func(path string, limit int64) error {
		return within(t, func() error { _, err := ReadFile(path, limit); return err })
	}
	if r := refused(t, read(fifo, 1<<20)); r.Reason != "is a named pipe (FIFO), not a regular file" {
		t.Errorf("reason %q", r.Reason)
	}
	refused(t, read("/dev/zero", 1<<20))
	refused(t, read(dir, 1<<20))
	if r := refused(t, read(big, 4095)); r.Reason != "is larger than 4095 bytes, more than such a file ever holds" {
		t.Errorf("reason %q", r.Reason)
	}
	if data, err := ReadFile(big, 4096); err != nil || len(data) != 4096 {
		t.Errorf("a file of exactly the limit: %d bytes, %v", len(data), err)
	}
	if data, err := ReadFile(small, 1<<20); err != nil || string(data) != "kind: Config\n" {
		t.Errorf("read %q, %v", data, err)
	}

	// A writer that holds the FIFO open and never writes.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	refused(t, read(fifo, 1<<20))
	if _, err := ReadFile(filepath.Join(dir, "missing"), 1<<20); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestCheckPrivateDir: a token store directory is refused when others may
// write it or a directory above it (unless that one is sticky, as /tmp).
func TestCheckPrivateDir(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode fs.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := []string{
		mk("private", 0o700),
		mk("readable", 0o755),
		filepath.Join(mk("sticky", 0o777|fs.ModeSticky), "missing"),
		filepath.Join(base, "sticky", "kubectl-gitlab"),
	}
	mk("sticky/kubectl-gitlab", 0o700)
	if err := os.Symlink(filepath.Join(base, "private"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	ok = append(ok, filepath.Join(base, "link"))
	for _, dir := range ok {
		if err := CheckPrivateDir(dir); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
	bad := map[string]string{
		mk("open", 0o777):                        "chmod go-w " + filepath.Join(base, "open"),
		mk("group", 0o770):                       "chmod go-w " + filepath.Join(base, "group"),
		mk("sticky-itself", 0o777|fs.ModeSticky): "chmod go-w " + filepath.Join(base, "sticky-itself"),
		mk("parent/kubectl-gitlab", 0o700):       "chmod go-w " + filepath.Join(base, "parent"),
	}
	os.Chmod(filepath.Join(base, "parent"), 0o777)
	for dir, fix := range bad {
		r := refused(t, CheckPrivateDir(dir))
		if r.Fix() != fix+" (kubectl-gitlab makes its directory with mode 0700)" {
			t.Errorf("%s: fix %q, want %q", dir, r.Fix(), fix)
		}
	}
	if os.Getuid() == 0 {
		theirs := mk("theirs", 0o700)
		os.Chown(theirs, nobody, nobody)
		refused(t, CheckPrivateDir(theirs))
	}
}
