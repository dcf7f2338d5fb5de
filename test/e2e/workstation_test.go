package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const (
	userPAT      = "glpat-e2eWorkstationSecret"
	rotatingPAT  = "glpat-e2eRotatingSecret"
	workstationA = 1234
)

func workstationKAS(t *testing.T) *testkas.Server {
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	return testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{{ID: workstationA, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"}},
		PATs: []testkas.PAT{
			{Token: userPAT, ID: 1, Name: "laptop", Username: "alice", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2027-06-30", Agents: []int64{workstationA}},
			{Token: rotatingPAT, ID: 2, Name: "rotating", Username: "alice", Scopes: []string{"k8s_proxy", "self_rotate"}, ExpiresAt: tomorrow, Agents: []int64{workstationA}},
		},
		Pods: map[string][]string{"default": {"hello-0"}},
	})
}

// noBus is an environment with no D-Bus session: the socket it names is gone.
func (e *env) noBus() {
	e.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + filepath.Join(e.dir, "no-such-bus")
}

// login runs kubectl-gitlab login with the token on stdin.
func (e *env) login(t *testing.T, url, token string, args ...string) result {
	t.Helper()
	c := exec.Command(filepath.Join(pluginDir, "kubectl-gitlab"), append([]string{"login", "--gitlab-url", url, "--token-stdin"}, args...)...)
	c.Env = e.list()
	c.Stdin = strings.NewReader(token + "\n")
	var out, errOut strings.Builder
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	r := result{cmd: "kubectl-gitlab login", stdout: out.String(), stderr: errOut.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// filesContaining lists files under dir that hold secret.
func filesContaining(dir, secret string) []string {
	var found []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(path); strings.Contains(string(data), secret) {
				found = append(found, path)
			}
		}
		return nil
	})
	return found
}

// TestWorkstationWithoutDBus: with no D-Bus session at all, auto falls back
// to a 0600 file and says so in one line; keyring mode fails clearly; a
// token file that others can read is refused.
func TestWorkstationWithoutDBus(t *testing.T) {
	kas := workstationKAS(t)
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")

	r := e.login(t, kas.URL, userPAT)
	r.ok(t, "Logged in to "+kas.URL, "tokens.json")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "notice: no OS keyring (") || !strings.Contains(lines[0], "mode 0600") {
		t.Errorf("want one notice line, got:\n%s", r.stderr)
	}
	file := filepath.Join(e.vars["HOME"], ".config", "kubectl-gitlab", "tokens.json")
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file %s: %v %v", file, info, err)
	}
	g := e.run(plugin, "get-token", "--agent-id", "1234").ok(t, "pat:1234:"+userPAT)
	if g.stderr != "" {
		t.Errorf("get-token printed to stderr (kubectl would show it on every command): %q", g.stderr)
	}

	k := e.login(t, kas.URL, userPAT, "--token-store", "keyring")
	k.fails(t, "cannot keep the token", "D-Bus", "--token-store=file")
	if k.code != 1 {
		t.Errorf("exit code %d", k.code)
	}

	os.Chmod(file, 0o644)
	e.run(plugin, "get-token", "--agent-id", "1234").fails(t, "chmod 600 "+file)
	noSecret(t, userPAT, r, k)
}

// TestWorkstationKubectlThroughPAT: after login and update-kubeconfig
// --agent, plain kubectl works through the exec entry with pat:<id>:<token>,
// and 20 kubectl commands at once rotate a self-rotating token exactly once.
func TestWorkstationKubectlThroughPAT(t *testing.T) {
	k := kubectls(t)[0]
	kas := workstationKAS(t)
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	e.login(t, kas.URL, userPAT).ok(t, "Logged in")
	e.run(k.Path, "gitlab", "update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").ok(t, "agent 1234")
	kubeconfig := filepath.Join(e.vars["HOME"], ".kube", "config")
	if found := filesContaining(e.dir, userPAT); len(found) != 1 || !strings.HasSuffix(found[0], "tokens.json") {
		t.Fatalf("the token is in %v; want only the token file", found)
	}
	if data, _ := os.ReadFile(kubeconfig); !strings.Contains(string(data), "command: kubectl-gitlab") {
		t.Fatalf("no exec entry:\n%s", data)
	}
	e.run(k.Path, "get", "pods").ok(t, "hello-0")
	if !kas.SawBearer("pat:1234:" + userPAT) {
		t.Fatalf("testkas did not see pat:1234:<token>")
	}

	// A token that may rotate itself and expires tomorrow.
	e.login(t, kas.URL, rotatingPAT).ok(t, "Logged in")
	kas.Reset()
	e.kubectlTimes(t, k, 20)
	if n := kas.Rotations(); n != 1 {
		t.Errorf("%d rotations, want exactly 1", n)
	}
	if kas.SawBearer("pat:1234:" + rotatingPAT) {
		t.Errorf("a kubectl used the old token after it was rotated")
	}
	if !kas.SawBearer("pat:1234:" + rotatingPAT + "-r1") {
		t.Errorf("the rotated token was not used")
	}
}
