//go:build secretservice

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkeyring"
)

// TestSecretServiceLoginGetTokenLogout, against a real Secret Service
// (gnome-keyring under hack/keyring/with-secret-service.sh): login stores
// the token in the keyring and in no file, get-token reads it, logout
// removes it.
func TestSecretServiceLoginGetTokenLogout(t *testing.T) {
	testkeyring.Require(t)
	kas := workstationKAS(t)
	e := newEnv(t)
	for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
		if val := os.Getenv(v); val != "" {
			e.vars[v] = val
		}
	}
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")

	r := e.login(t, kas.URL, userPAT)
	r.ok(t, "Logged in to "+kas.URL, "Secret Service")
	if r.stderr != "" {
		t.Errorf("login fell back or warned: %s", r.stderr)
	}
	lookup := func() (string, error) {
		out, err := exec.Command("secret-tool", "lookup", "service", "kubectl-gitlab", "username", kas.URL).Output()
		return string(out), err
	}
	if got, err := lookup(); err != nil || !strings.Contains(got, userPAT) {
		t.Fatalf("secret-tool lookup: %v (found the token: %v)", err, strings.Contains(got, userPAT))
	}
	if found := filesContaining(e.vars["HOME"], userPAT); len(found) != 0 {
		t.Fatalf("the token is in files: %v", found)
	}
	e.run(plugin, "get-token", "--agent-id", "1234").ok(t, "pat:1234:"+userPAT, `"expirationTimestamp":"2027-06-30T00:00:00Z"`)
	e.run(plugin, "login", "--status").ok(t, kas.URL, "keyring", "2027-06-30")
	e.run(plugin, "logout", "--gitlab-url", kas.URL).ok(t, "Removed the token")
	if got, _ := lookup(); strings.Contains(got, userPAT) {
		t.Fatalf("the token is still in the keyring after logout")
	}
	e.run(plugin, "get-token", "--agent-id", "1234").fails(t, "kubectl gitlab login")
}

// secretServiceEnv is a clean HOME that reaches the real Secret Service
// of hack/keyring/with-secret-service.sh.
func secretServiceEnv(t *testing.T, kas *testkas.Server) *env {
	testkeyring.Require(t)
	e := newEnv(t)
	for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
		if val := os.Getenv(v); val != "" {
			e.vars[v] = val
		}
	}
	e.vars["SSL_CERT_FILE"] = kas.CAFile
	return e
}

// keyringItem is the Secret Service item kubectl-gitlab keeps for url.
func keyringItem(t *testing.T, url string) string {
	out, _ := exec.Command("secret-tool", "lookup", "service", "kubectl-gitlab", "username", url).Output()
	return string(out)
}

// noTokenLeft fails when a token testkas minted or issued is in the
// keyring or in a file under HOME.
func noTokenLeft(t *testing.T, e *env, kas *testkas.Server) {
	t.Helper()
	item := keyringItem(t, kas.URL)
	for _, s := range webSecrets(kas) {
		if strings.Contains(item, s) {
			t.Errorf("a token is left in the keyring")
		}
		if found := filesContaining(e.vars["HOME"], s); len(found) != 0 {
			t.Errorf("a token is left in %v", found)
		}
	}
}

// TestSecretServiceLoginWeb is the workstation story on a clean HOME with
// the real Secret Service: login --web (approved through testkas),
// update-kubeconfig --agent, plain kubectl with no further step, twenty
// kubectl commands at once that mint nothing, and logout, after which
// GitLab saw the revocation and no token is left in the keyring or under
// HOME.
func TestSecretServiceLoginWeb(t *testing.T) {
	k := kubectls(t)[0]
	kas := webKAS(t)
	e := secretServiceEnv(t, kas)

	r := e.loginWeb(t, kas, "alice")
	r.ok(t, "Logged in to "+kas.URL+" as alice.", "with only the k8s_proxy scope", "(in 7 days)", "Secret Service", "was revoked: nothing broader is kept")
	if strings.Contains(r.stderr, "notice") || strings.Contains(r.stderr, "warning") {
		t.Errorf("login fell back or warned:\n%s", r.stderr)
	}
	minted := kas.MintedTokens()
	if len(minted) != 1 || strings.Join(minted[0].Scopes, ",") != "k8s_proxy" || !kas.OAuthTokens()[0].Revoked {
		t.Fatalf("minted %+v, OAuth %+v", minted, kas.OAuthTokens())
	}
	if item := keyringItem(t, kas.URL); !strings.Contains(item, minted[0].Token) || !strings.Contains(item, `"origin":"web"`) || strings.Contains(item, "refresh_token") {
		t.Fatalf("the keyring item is not the minted token alone")
	}
	for _, s := range webSecrets(kas) {
		if found := filesContaining(e.vars["HOME"], s); len(found) != 0 {
			t.Fatalf("a token is in %v", found)
		}
	}

	e.run(k.Path, "gitlab", "update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").ok(t, "agent 1234")
	e.run(k.Path, "get", "pods").ok(t, "hello-0")
	if !kas.SawBearer("pat:1234:" + minted[0].Token) {
		t.Fatalf("KAS did not see the minted token")
	}
	e.kubectlTimes(t, k, 20)
	if kas.Mints() != 1 {
		t.Errorf("twenty kubectl commands minted %d tokens", kas.Mints()-1)
	}
	e.run(k.Path, "gitlab", "login", "--status").ok(t, "login --web", "alice", "k8s_proxy", minted[0].ExpiresAt, "keyring")

	out := e.run(k.Path, "gitlab", "logout")
	out.ok(t, "Revoked the token", "on "+kas.URL)
	if !kas.MintedTokens()[0].Revoked {
		t.Errorf("GitLab did not see the revocation")
	}
	noTokenLeft(t, e, kas)
	for _, s := range webSecrets(kas) {
		noSecret(t, s, r, out)
	}
}

// TestSecretServiceLoginWebRenews: with --keep-refresh-token the refresh
// token is in the keyring and nowhere else; once the token is about to
// expire, twenty kubectl commands at once mint exactly one new token with
// it, no browser involved, and the old one is revoked; logout revokes
// both.
func TestSecretServiceLoginWebRenews(t *testing.T) {
	k := kubectls(t)[0]
	kas := webKAS(t)
	e := secretServiceEnv(t, kas)
	e.loginWeb(t, kas, "alice", "--keep-refresh-token").ok(t, "The OAuth refresh token (scope api) is kept in", "Secret Service")
	refresh := kas.OAuthTokens()[0].RefreshToken
	item := keyringItem(t, kas.URL)
	if !strings.Contains(item, refresh) || kas.OAuthTokens()[0].Revoked {
		t.Fatalf("the refresh token is not kept, or was revoked")
	}
	if found := filesContaining(e.vars["HOME"], refresh); len(found) != 0 {
		t.Fatalf("the refresh token is in %v", found)
	}
	e.run(k.Path, "gitlab", "update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").ok(t, "agent 1234")

	// Six days on: under a day is left (as get-token reads the item).
	var entry map[string]any
	if err := json.Unmarshal([]byte(item), &entry); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	entry["expires_at"] = now.AddDate(0, 0, 1).Format(time.DateOnly)
	entry["created_at"] = now.AddDate(0, 0, -6).Format(time.RFC3339)
	aged, _ := json.Marshal(entry)
	store := exec.Command("secret-tool", "store", "--label", "kubectl-gitlab", "service", "kubectl-gitlab", "username", kas.URL)
	store.Stdin = bytes.NewReader(aged)
	if out, err := store.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v %s", err, out)
	}
	start := time.Now()
	e.kubectlTimes(t, k, 20)
	t.Logf("twenty kubectl commands took %s", time.Since(start))
	if kas.Mints() != 2 {
		t.Fatalf("%d new tokens for twenty kubectl commands, want 1", kas.Mints()-1)
	}
	fresh := kas.MintedTokens()[1]
	if !kas.SawBearer("pat:1234:"+fresh.Token) || !kas.MintedTokens()[0].Revoked {
		t.Errorf("the new token was not used, or the old one not revoked")
	}
	if item := keyringItem(t, kas.URL); !strings.Contains(item, fresh.Token) || strings.Contains(item, refresh) {
		t.Errorf("the keyring does not hold the new token and the new refresh token")
	}

	e.run(k.Path, "gitlab", "logout").ok(t, "Revoked the token", "The kept OAuth refresh token was revoked too.")
	for _, o := range kas.OAuthTokens() {
		if !o.Revoked {
			t.Errorf("an OAuth token lives on after logout")
		}
	}
	noTokenLeft(t, e, kas)
}
