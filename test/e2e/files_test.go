package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// notRegular is how the plugin refuses a special file where it wants a
// regular one.
const notRegular = "not a regular file"

// TestSpecialFilesAreRefused: a FIFO (with no writer, or one that never
// writes), a device such as /dev/zero, or a directory given as the
// kubeconfig, the CA bundle or an agent's config.yaml is refused at once
// with exit code 2: no hang, no read without end, and nothing written.
func TestSpecialFilesAreRefused(t *testing.T) {
	e := newEnv(t)
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")
	config := manyAgents(t, e.dir, 2)
	pristine, _ := os.ReadFile(config)
	fifo := filepath.Join(e.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fifoWithWriter := filepath.Join(e.dir, "fifo-with-writer")
	if err := syscall.Mkfifo(fifoWithWriter, 0o600); err != nil {
		t.Fatal(err)
	}
	writer, err := os.OpenFile(fifoWithWriter, os.O_RDWR, 0) // holds it open, never writes
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()

	for name, special := range map[string]string{"FIFO": fifo, "FIFO with a writer": fifoWithWriter, "device": "/dev/zero", "directory": e.dir} {
		t.Run(name, func(t *testing.T) {
			e := &env{t: t, dir: e.dir, vars: e.vars}
			e.vars["KUBECONFIG"] = special
			for _, args := range [][]string{{"get-contexts"}, {"use-context", "a1"}} {
				if r := e.run(plugin, args...).fails(t, "cannot read kubeconfig "+special, notRegular); r.code != 2 {
					t.Errorf("exit code %d, want 2", r.code)
				}
			}
			e.vars["KUBECONFIG"] = config
			if r := e.run(plugin, "use-context", "a1", "--certificate-authority", special).fails(t, special, notRegular); r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
			if data, _ := os.ReadFile(config); !bytes.Equal(data, pristine) {
				t.Errorf("the kubeconfig changed")
			}
			if r := e.run(plugin, "access", "lint", special).fails(t, "cannot read "+special, notRegular); r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
		})
	}
}

// TestNullDeviceAsKubeconfig: KUBECONFIG=/dev/null reads as an empty
// kubeconfig, and a write to it is discarded, as kubectl's is: the device
// stays a device (it used to be replaced by a regular 0666 file) and no
// lock or temp file is made next to it. As root the device is a node made
// in a temp dir, so that a bug cannot replace the machine's /dev/null.
func TestNullDeviceAsKubeconfig(t *testing.T) {
	kas := jobKAS(t)
	e := newEnv(t)
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")
	null := os.DevNull
	if os.Getuid() == 0 {
		null = filepath.Join(e.dir, "null")
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
	}
	e.vars["KUBECONFIG"] = null
	e.vars["CI_JOB_TOKEN"] = jobToken
	e.vars["CI_API_V4_URL"] = kas.URL + "/api/v4"
	e.vars["KAS_CERTIFICATE"] = kas.CAFile
	before, _ := os.ReadDir(e.dir)

	e.run(plugin, "get-contexts").ok(t)
	e.run(plugin, "use-context", "--agent-id", "1234").ok(t, "Created context group/agents:agent-1234")
	e.run(plugin, "update-kubeconfig").ok(t)

	if info, err := os.Lstat(null); err != nil || info.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a character device: %v %v", null, info, err)
	}
	if after, _ := os.ReadDir(e.dir); len(after) != len(before) {
		t.Errorf("files made: %v, before %v", after, before)
	}
}

// TestPlantedKubeconfigLock: a <kubeconfig>.lock planted as a symlink to
// another file is refused with exit code 2; the file it points to and the
// kubeconfig stay as they were.
func TestPlantedKubeconfigLock(t *testing.T) {
	e := newEnv(t)
	config := manyAgents(t, e.dir, 2)
	e.vars["KUBECONFIG"] = config
	pristine, _ := os.ReadFile(config)
	passwd := filepath.Join(e.dir, "passwd") // as it were /etc/passwd
	const content = "root:x:0:0:root:/root:/bin/bash\n"
	if err := os.WriteFile(passwd, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour) // a stale lock by any measure
	os.Chtimes(passwd, old, old)
	if err := os.Symlink(passwd, config+".lock"); err != nil {
		t.Fatal(err)
	}
	r := e.run(filepath.Join(pluginDir, "kubectl-gitlab"), "use-context", "a1").fails(t, config+".lock", "symbolic link", "remove "+config+".lock")
	if r.code != 2 {
		t.Errorf("exit code %d, want 2", r.code)
	}
	if data, _ := os.ReadFile(passwd); string(data) != content {
		t.Errorf("the lock link's target was written: %q", data)
	}
	if data, _ := os.ReadFile(config); !bytes.Equal(data, pristine) {
		t.Errorf("the kubeconfig changed")
	}
}

// TestRootKeepsTheKubeconfigOwner: root editing a kubeconfig that belongs
// to nobody leaves it nobody's, with its mode.
func TestRootKeepsTheKubeconfigOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to edit a file of another user")
	}
	e := newEnv(t)
	config := manyAgents(t, e.dir, 2)
	e.vars["KUBECONFIG"] = config
	os.Chmod(config, 0o640)
	if err := os.Chown(config, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	e.run(filepath.Join(pluginDir, "kubectl-gitlab"), "use-context", "a1").ok(t, "Switched")
	info, err := os.Stat(config)
	if err != nil {
		t.Fatal(err)
	}
	if st := info.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 || info.Mode().Perm() != 0o640 {
		t.Errorf("owner %d:%d mode %04o, want 65534:65534 0640", st.Uid, st.Gid, info.Mode().Perm())
	}
}

// TestTokenStoreDirectoryOthersMayWrite: a token file in a directory that
// other users may write is refused, by get-token too, with exit code 2 and
// the chmod that fixes it.
func TestTokenStoreDirectoryOthersMayWrite(t *testing.T) {
	kas := workstationKAS(t)
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")
	e.login(t, kas.URL, userPAT, "--token-store", "file").ok(t, "Logged in")
	dir := filepath.Join(e.vars["HOME"], ".config", "kubectl-gitlab")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	r := e.run(plugin, "get-token", "--agent-id", "1234").fails(t, dir+" is writable by other users (mode 0777)", "chmod go-w "+dir)
	if r.code != 2 {
		t.Errorf("exit code %d, want 2", r.code)
	}
	noSecret(t, userPAT, r)
	os.Chmod(dir, 0o700)
	e.run(plugin, "get-token", "--agent-id", "1234").ok(t, "pat:1234:")
}
