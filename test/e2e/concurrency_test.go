package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// manyAgents writes a job kubeconfig with n agent contexts.
func manyAgents(t *testing.T, dir string, n int) string {
	var b strings.Builder
	b.WriteString("---\napiVersion: v1\nkind: Config\nclusters:\n- name: gitlab\n  cluster:\n    server: https://127.0.0.1:1/k8s-proxy\nusers:\n")
	for i := range n {
		fmt.Fprintf(&b, "- name: agent:%d\n  user:\n    token: ci:%d:%s\n", 100+i, 100+i, jobToken)
	}
	b.WriteString("contexts:\n")
	for i := range n {
		fmt.Fprintf(&b, "- name: group/agents:a%d\n  context:\n    cluster: gitlab\n    user: agent:%d\n", i, 100+i)
	}
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConcurrentUseContext: 20 runs at once, each setting its own
// namespace, half of them reaching the kubeconfig through a symlink, lose
// no edit and leave a valid file, the link a link, and no lock or temp
// file.
func TestConcurrentUseContext(t *testing.T) {
	const n = 20
	e := newEnv(t)
	path := manyAgents(t, e.dir, n)
	link := filepath.Join(e.dir, "link")
	if err := os.Symlink("config", link); err != nil {
		t.Fatal(err)
	}
	kas := testkas.Start(t, testkas.Config{})
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.run(filepath.Join(pluginDir, "kubectl-gitlab"), "use-context", "a"+strconv.Itoa(i),
				"--namespace", "ns-"+strconv.Itoa(i), "--certificate-authority", kas.CAFile, "--kubeconfig", []string{path, link}[i%2])
		}()
	}
	wg.Wait()
	for _, r := range results {
		r.ok(t, "Switched")
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("the kubeconfig does not load: %v", err)
	}
	if len(cfg.Contexts) != n || len(cfg.AuthInfos) != n || len(cfg.Clusters) != 1 {
		t.Fatalf("entries lost: %d contexts, %d users, %d clusters", len(cfg.Contexts), len(cfg.AuthInfos), len(cfg.Clusters))
	}
	for i := range n {
		c := cfg.Contexts["group/agents:a"+strconv.Itoa(i)]
		if c == nil || c.Namespace != "ns-"+strconv.Itoa(i) {
			t.Errorf("the edit of run %d was lost: %+v", i, c)
		}
		if cfg.AuthInfos["agent:"+strconv.Itoa(100+i)].Token != "ci:"+strconv.Itoa(100+i)+":"+jobToken {
			t.Errorf("user %d changed", i)
		}
	}
	if !strings.HasPrefix(cfg.CurrentContext, "group/agents:a") || len(cfg.Clusters["gitlab"].CertificateAuthorityData) == 0 {
		t.Errorf("current-context %q, CA %d bytes", cfg.CurrentContext, len(cfg.Clusters["gitlab"].CertificateAuthorityData))
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link")
	}
	assertNoLeftovers(t, e.dir)
}

func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, ent := range entries {
		if strings.HasSuffix(ent.Name(), ".lock") || strings.Contains(ent.Name(), "-tmp-") {
			t.Errorf("left behind: %s", ent.Name())
		}
	}
}

// TestStaleLocksDoNotBlock: a lock file left by a killed kubectl-gitlab
// (no flock held any more), and an old empty one left by a crashed
// kubectl, are both taken over.
func TestStaleLocksDoNotBlock(t *testing.T) {
	e := newEnv(t)
	path := manyAgents(t, e.dir, 2)
	e.vars["KUBECONFIG"] = path
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")

	// A run of ours, killed while it held the lock: start a process that
	// takes the lock exactly as we do and SIGKILL it.
	holder := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	holder.Env = append(os.Environ(), "HOLD_LOCK="+path)
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "locked" {
		t.Fatalf("helper did not take the lock: %q %v", buf, err)
	}
	holder.Process.Signal(syscall.SIGKILL)
	holder.Wait()
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("the killed holder left no lock file to test with: %v", err)
	}
	e.run(plugin, "use-context", "a0").ok(t, "Switched")
	assertNoLeftovers(t, e.dir)

	// kubectl's own lock file: empty, mode 0, and old.
	if err := os.WriteFile(path+".lock", nil, 0); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(path+".lock", old, old)
	e.run(plugin, "use-context", "a1").ok(t, "Switched")
	assertNoLeftovers(t, e.dir)
}
