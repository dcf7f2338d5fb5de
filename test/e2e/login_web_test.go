package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const webClientID = "e2e-kubectl-gitlab-app"

// webKAS is a GitLab with an OAuth application for login --web and alice,
// who may use agent workstationA; it asks for polls a second apart.
func webKAS(t *testing.T) *testkas.Server {
	return testkas.Start(t, testkas.Config{
		Agents:             []testkas.Agent{{ID: workstationA, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"}},
		OAuthApps:          []testkas.OAuthApp{{ClientID: webClientID}},
		Users:              []testkas.User{{ID: 5, Username: "alice", Agents: []int64{workstationA}}},
		DevicePollInterval: time.Second,
		Pods:               map[string][]string{"default": {"hello-0"}},
	})
}

// webLogin is a running kubectl-gitlab command that waits for an
// approval in the browser (login --web, or a command with --web).
type webLogin struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	code           string // the user code, once testkas has it
	done           chan error
}

// startLoginWeb starts login --web against kas and waits until the
// device code waits for a person (bounded).
func (e *env) startLoginWeb(t *testing.T, kas *testkas.Server, args ...string) *webLogin {
	t.Helper()
	return e.startApproval(t, kas, append([]string{"login", "--web", "--gitlab-url", kas.URL, "--client-id", webClientID}, args...)...)
}

// startApproval starts kubectl-gitlab with args and waits until its
// device code waits for a person (bounded).
func (e *env) startApproval(t *testing.T, kas *testkas.Server, args ...string) *webLogin {
	t.Helper()
	w := &webLogin{name: "kubectl-gitlab " + strings.Join(args, " "), done: make(chan error, 1)}
	w.cmd = exec.Command(filepath.Join(pluginDir, "kubectl-gitlab"), args...)
	w.cmd.Env = e.list()
	w.cmd.Dir = e.dir
	w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- w.cmd.Wait() }()
	t.Cleanup(func() { w.cmd.Process.Kill(); <-w.done; w.done <- nil })
	for range 600 {
		if codes := kas.UserCodes(); len(codes) == 1 {
			w.code = codes[0]
			return w
		}
		select {
		case err := <-w.done:
			w.done <- err
			t.Fatalf("%s ended before showing a code (%v):\n%s%s", w.name, err, w.stdout.String(), w.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no device code after 30 s:\n%s", w.stderr.String())
	return nil
}

// wait waits (bounded) for login --web to end.
func (w *webLogin) wait(t *testing.T) result {
	t.Helper()
	var err error
	select {
	case err = <-w.done:
		w.done <- err
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not end:\n%s", w.name, w.stderr.String())
	}
	r := result{cmd: w.name, stdout: w.stdout.String(), stderr: w.stderr.String()}
	if x, ok := err.(*exec.ExitError); ok {
		r.code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// loginWeb is login --web with username approving the code in the
// browser (through testkas, the person's side of GitLab).
func (e *env) loginWeb(t *testing.T, kas *testkas.Server, username string, args ...string) result {
	t.Helper()
	return e.approved(t, kas, username, e.startLoginWeb(t, kas, args...))
}

// approved is username approving w's code in the browser, and w's end.
func (e *env) approved(t *testing.T, kas *testkas.Server, username string, w *webLogin) result {
	t.Helper()
	if err := kas.Approve(w.code, username); err != nil {
		t.Fatal(err)
	}
	r := w.wait(t)
	if !strings.Contains(r.stderr, "enter the code "+w.code) {
		t.Errorf("%s did not show the code:\n%s", w.name, r.stderr)
	}
	return r
}

// webSecrets are every token testkas minted or issued.
func webSecrets(kas *testkas.Server) []string {
	var secrets []string
	for _, p := range kas.MintedTokens() {
		secrets = append(secrets, p.Token)
	}
	for _, o := range kas.OAuthTokens() {
		secrets = append(secrets, o.AccessToken, o.RefreshToken)
	}
	return secrets
}

// kubectlTimes runs kubectl get pods n times at once; each lists
// hello-0.
func (e *env) kubectlTimes(t *testing.T, k kubectl, n int) []result {
	return e.kubectlTimesListing(t, k, n, "hello-0")
}

// kubectlTimesListing runs kubectl get pods n times at once; each lists
// pod.
func (e *env) kubectlTimesListing(t *testing.T, k kubectl, n int, pod string) []result {
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.run(k.Path, "get", "pods")
		}()
	}
	wg.Wait()
	for _, r := range results {
		r.ok(t, pod)
	}
	return results
}

// TestLoginWebWithoutKeyring: on a machine without a keyring login --web
// keeps the minted k8s_proxy token in the 0600 file (and says so), plain
// kubectl works through it, twenty kubectl commands at once mint nothing,
// and logout revokes it; a refresh token is refused there, and what that
// login made is revoked.
func TestLoginWebWithoutKeyring(t *testing.T) {
	k := kubectls(t)[0]
	kas := webKAS(t)
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")

	refused := e.loginWeb(t, kas, "alice", "--keep-refresh-token")
	refused.fails(t, "cannot keep the refresh token", "only in the OS keyring")
	if refused.code != 1 || kas.Mints() != 1 || !kas.MintedTokens()[0].Revoked || !kas.OAuthTokens()[0].Revoked {
		t.Fatalf("exit %d; left alive: %+v %+v", refused.code, kas.MintedTokens(), kas.OAuthTokens())
	}

	r := e.loginWeb(t, kas, "alice")
	r.ok(t, "Logged in to "+kas.URL+" as alice.", "with only the k8s_proxy scope", "tokens.json")
	if !strings.Contains(r.stderr, "notice: no OS keyring") {
		t.Errorf("no notice of the file:\n%s", r.stderr)
	}
	minted := kas.MintedTokens()[1]
	e.run(k.Path, "gitlab", "update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").ok(t, "agent 1234")
	e.run(k.Path, "get", "pods").ok(t, "hello-0")
	if !kas.SawBearer("pat:1234:" + minted.Token) {
		t.Fatalf("KAS did not see the minted token")
	}
	e.kubectlTimes(t, k, 20)
	if kas.Mints() != 2 {
		t.Errorf("%d mints after twenty kubectl commands, want none", kas.Mints()-2)
	}
	out := e.run(plugin, "logout")
	out.ok(t, "Revoked the token")
	if !kas.MintedTokens()[1].Revoked {
		t.Errorf("logout did not revoke the token on GitLab")
	}
	e.run(k.Path, "get", "pods").fails(t)
	for _, s := range webSecrets(kas) {
		if found := filesContaining(e.dir, s); len(found) != 0 {
			t.Errorf("a token is left in %v", found)
		}
		noSecret(t, s, refused, r, out)
	}
}

// TestLoginWebCtrlC: SIGINT while waiting for the approval ends login
// --web with exit code 1, nothing minted and nothing kept.
func TestLoginWebCtrlC(t *testing.T) {
	kas := webKAS(t)
	e := newEnv(t)
	e.noBus()
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	w := e.startLoginWeb(t, kas)
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := w.wait(t)
	r.fails(t, "login cancelled; nothing was kept")
	if r.code != 1 || kas.Mints() != 0 || len(kas.OAuthTokens()) != 0 {
		t.Errorf("exit %d, %d mints, %d OAuth tokens", r.code, kas.Mints(), len(kas.OAuthTokens()))
	}
	if entries, _ := os.ReadDir(filepath.Join(e.vars["HOME"], ".config", "kubectl-gitlab")); len(entries) != 0 {
		t.Errorf("files under the config dir: %v", entries)
	}
}

// TestLoginWebOpensTheBrowser: with a display, login --web runs the
// browser on the URL with the code filled in; over SSH it does not.
func TestLoginWebOpensTheBrowser(t *testing.T) {
	kas := webKAS(t)
	for _, over := range []string{"display", "ssh"} {
		t.Run(over, func(t *testing.T) {
			e := newEnv(t)
			e.noBus()
			e.vars["SSL_CERT_FILE"] = kas.CAFile
			bin := filepath.Join(e.dir, "bin")
			os.MkdirAll(bin, 0o755)
			opened := filepath.Join(e.dir, "opened")
			os.WriteFile(filepath.Join(bin, "xdg-open"), []byte("#!/bin/sh\necho \"$@\" >> "+opened+"\n"), 0o755)
			e.vars["PATH"] = bin + string(os.PathListSeparator) + e.vars["PATH"]
			e.vars["DISPLAY"] = ":0"
			if over == "ssh" {
				e.vars["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22"
			}
			r := e.loginWeb(t, kas, "alice")
			r.ok(t, "Logged in")
			data, _ := os.ReadFile(opened)
			got := strings.TrimSpace(string(data))
			switch {
			case over == "display" && (!strings.HasPrefix(got, kas.URL+"/oauth/device?user_code=") || !strings.Contains(r.stderr, "Opened it in your browser.")):
				t.Errorf("xdg-open got %q\n%s", got, r.stderr)
			case over == "ssh" && (got != "" || strings.Contains(r.stderr, "browser")):
				t.Errorf("over SSH, xdg-open got %q\n%s", got, r.stderr)
			}
		})
	}
}
