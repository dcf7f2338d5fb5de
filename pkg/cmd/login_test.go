package cmd

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const (
	goodPAT      = "glpat-goodTokenSecret"
	noScopePAT   = "glpat-readApiOnlySecret"
	expiredPAT   = "glpat-expiredSecret"
	revokedPAT   = "glpat-revokedSecret"
	unknownPAT   = "glpat-unknownSecret"
	rotatablePAT = "glpat-rotatableSecret"
)

func patServer(t *testing.T) *testkas.Server {
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	return testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"}},
		PATs: []testkas.PAT{
			{Token: goodPAT, ID: 1, Name: "laptop", Username: "alice", Scopes: []string{"k8s_proxy", "read_api"}, ExpiresAt: "2027-01-31", Agents: []int64{1234}},
			{Token: noScopePAT, ID: 2, Name: "api", Username: "alice", Scopes: []string{"read_api"}, ExpiresAt: "2027-01-31"},
			{Token: expiredPAT, ID: 3, Name: "old", Username: "alice", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2026-01-01"},
			{Token: revokedPAT, ID: 4, Name: "leaked", Username: "alice", Scopes: []string{"k8s_proxy"}, Revoked: true},
			{Token: rotatablePAT, ID: 5, Name: "rotating", Username: "alice", Scopes: []string{"k8s_proxy", "self_rotate"}, ExpiresAt: tomorrow, Agents: []int64{1234}},
		},
	})
}

func (h *harness) allSecrets() {
	h.secrets = append(h.secrets, goodPAT, noScopePAT, expiredPAT, revokedPAT, unknownPAT, rotatablePAT)
}

func TestLoginRefusesBadTokens(t *testing.T) {
	kas := patServer(t)
	cases := []struct {
		token string
		want  []string
	}{
		{unknownPAT, []string{"GitLab does not accept the token", "401"}},
		{noScopePAT, []string{"lacks the k8s_proxy scope (it has: read_api)", "/-/user_settings/personal_access_tokens?name=kubectl-gitlab&scopes=k8s_proxy"}},
		{expiredPAT, []string{"the token has expired"}},
		{revokedPAT, []string{"the token was revoked"}},
		{"", []string{"the token is empty"}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		h := newHarness(t).withKAS(kas)
		h.allSecrets()
		r := h.runWithStdin(c.token+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin")
		code := 1
		if c.token == "" {
			code = 2
		}
		r.expectErr(t, code, c.want...)
		first := strings.SplitN(r.stderr, "\n", 2)[0]
		if seen[first] {
			t.Errorf("two bad tokens give the same error %q", first)
		}
		seen[first] = true
		if len(h.keyring.items) != 0 {
			t.Errorf("%s: something was stored in the keyring", c.want[0])
		}
		if _, err := os.Stat(filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", "tokens.json")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a token file was written", c.want[0])
		}
	}
}

// TestLoginTokenStdinIsBounded: a pipe that is not a token line (a file,
// an endless stream) is refused after 4 KiB, not read whole.
func TestLoginTokenStdinIsBounded(t *testing.T) {
	kas := patServer(t)
	h := newHarness(t).withKAS(kas)
	h.runWithStdin(strings.Repeat("x", 1<<20), "login", "--gitlab-url", kas.URL, "--token-stdin").
		expectErr(t, 2, "longer than 4096 bytes: not a token", "pipe only the token in")
	if len(h.keyring.items) != 0 {
		t.Errorf("something was stored in the keyring")
	}
}

func TestLoginGetTokenLogout(t *testing.T) {
	kas := patServer(t)
	h := newHarness(t).withKAS(kas)
	h.allSecrets()
	h.runWithStdin(goodPAT+"\n", "login", "--gitlab-url", kas.URL+"/", "--token-stdin").
		expect(t, 0, "Logged in to "+kas.URL, `"laptop"`, "expires 2027-01-31 (in 66 days)", "kept in")
	if len(h.keyring.items) != 1 {
		t.Fatalf("keyring holds %d items", len(h.keyring.items))
	}

	st := h.run("login", "--status", "-o", "json")
	st.expect(t, 0, kas.URL, "2027-01-31")
	var views []statusView
	if err := json.Unmarshal([]byte(st.stdout), &views); err != nil || len(views) != 1 || views[0].Store != "keyring" {
		t.Fatalf("status = %s (%v)", st.stdout, err)
	}

	r := h.run("get-token", "--agent-id", "1234", "--gitlab-url", kas.URL)
	r.expect(t, 0, `"expirationTimestamp":"2027-01-31T00:00:00Z"`)
	if !strings.Contains(r.stdout, `"token":"pat:1234:`+goodPAT+`"`) {
		t.Errorf("credential = %s", r.stdout)
	}
	// Without --gitlab-url: the only stored instance.
	if r := h.run("get-token", "--agent-id", "1234"); !strings.Contains(r.stdout, "pat:1234:"+goodPAT) {
		t.Errorf("credential = %s %s", r.stdout, r.stderr)
	}

	h.run("logout", "--gitlab-url", kas.URL).expect(t, 0, `Removed the token "laptop" for `+kas.URL, "not revoked")
	if len(h.keyring.items) != 0 {
		t.Errorf("logout left the token in the keyring")
	}
	h.run("get-token", "--agent-id", "1234", "--gitlab-url", kas.URL).expectErr(t, 1, "no token for agent 1234", "kubectl gitlab login --gitlab-url "+kas.URL)
	h.run("logout", "--gitlab-url", kas.URL).expectErr(t, 1, "no token is stored")
}

func TestLoginPromptsOnATerminal(t *testing.T) {
	kas := patServer(t)
	h := newHarness(t).withKAS(kas)
	term := &fakeTerminal{secret: goodPAT}
	h.term = term
	h.run("login", "--gitlab-url", kas.URL).expect(t, 0, "Logged in")
	if len(term.prompts) != 1 || strings.Contains(term.prompts[0], goodPAT) {
		t.Errorf("prompts = %q", term.prompts)
	}
	h2 := newHarness(t).withKAS(kas)
	h2.run("login", "--gitlab-url", kas.URL).expectErr(t, 2, "no terminal", "--token-stdin")
}

func TestGetTokenRefusesExpiredStoredToken(t *testing.T) {
	kas := patServer(t)
	h := newHarness(t).withKAS(kas)
	h.allSecrets()
	h.runWithStdin(goodPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin").expect(t, 0)
	h.now = time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	h.run("get-token", "--agent-id", "1234").expectErr(t, 1, "expired on 2027-01-31", "kubectl gitlab login --gitlab-url "+kas.URL)
}

func TestLoginFallsBackToFileWithoutKeyring(t *testing.T) {
	kas := patServer(t)
	h := newHarness(t).withKAS(kas)
	h.allSecrets()
	h.keyring.down = errors.New("no D-Bus session bus")
	r := h.runWithStdin(goodPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin")
	r.expect(t, 0, "tokens.json")
	if n := strings.Count(r.stderr, "notice:"); n != 1 {
		t.Errorf("want one notice, got:\n%s", r.stderr)
	}
	file := filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", "tokens.json")
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", info, err)
	}
	// get-token reads it and prints no notice (kubectl would show it
	// every time); the token's read_api scope is warned about once.
	g := h.run("get-token", "--agent-id", "1234")
	g.expect(t, 0, "pat:1234:"+goodPAT)
	if strings.Contains(g.stderr, "notice") || !strings.Contains(g.stderr, "beyond k8s_proxy (read_api)") {
		t.Errorf("get-token wrote to stderr: %q", g.stderr)
	}
	if g := h.run("get-token", "--agent-id", "1234"); g.stderr != "" {
		t.Errorf("get-token wrote to stderr again: %q", g.stderr)
	}
	h.run("login", "--gitlab-url", kas.URL, "--token-store", "keyring", "--token-stdin").expectErr(t, 2, "no token on stdin")
	h.runWithStdin(goodPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin", "--token-store", "keyring").expectErr(t, 1, "cannot keep the token", "keep the token in a file with --token-store=file")
	os.Chmod(file, 0o644)
	h.run("get-token", "--agent-id", "1234", "--token-store", "file").expectErr(t, 1, "chmod 600")
}

// TestRotation: a token that may rotate itself and expires tomorrow is
// rotated by get-token, once, and the new token is used and kept.
func TestRotation(t *testing.T) {
	kas := patServer(t)
	h := newHarness(t).withKAS(kas)
	h.allSecrets()
	h.now = time.Now()
	h.runWithStdin(rotatablePAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin").expect(t, 0)
	r := h.run("get-token", "--agent-id", "1234")
	r.expect(t, 0, "pat:1234:"+rotatablePAT+"-r1")
	if kas.Rotations() != 1 {
		t.Fatalf("%d rotations", kas.Rotations())
	}
	h.secrets = append(h.secrets, rotatablePAT+"-r1")
	h.run("get-token", "--agent-id", "1234").expect(t, 0, "pat:1234:"+rotatablePAT+"-r1")
	if kas.Rotations() != 1 {
		t.Errorf("rotated again: %d", kas.Rotations())
	}
}
