//go:build secretservice

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
