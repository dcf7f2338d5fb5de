package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/doctor"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

const (
	webClientID = "kubectl-gitlab-app"
	apiPAT      = "glpat-broadApiSecret"
	narrowPAT   = "glpat-narrowSecret"
)

func webKAS(t *testing.T, change ...func(*testkas.Config)) *testkas.Server {
	cfg := testkas.Config{
		Agents:    []testkas.Agent{{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"}},
		OAuthApps: []testkas.OAuthApp{{ClientID: webClientID}, {ClientID: "read-only-app", Scopes: []string{"read_api"}}},
		Users:     []testkas.User{{ID: 5, Username: "alice", Agents: []int64{1234}}},
		PATs: []testkas.PAT{
			{Token: apiPAT, ID: 1, Name: "everything", UserID: 5, Username: "alice", Scopes: []string{"api", "k8s_proxy"}, ExpiresAt: "2099-01-31", Agents: []int64{1234}},
			{Token: narrowPAT, ID: 2, Name: "narrow", UserID: 5, Username: "alice", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2099-01-31", Agents: []int64{1234}},
		},
	}
	for _, c := range change {
		c(&cfg)
	}
	return testkas.Start(t, cfg)
}

// person is who sits at the browser: testkas's device page, approving
// (or denying) the code after some of the plugin's waits. Each wait moves
// the harness's clock and testkas's by the same amount, unless skew says
// otherwise for that wait.
type person struct {
	kas     *testkas.Server
	act     int // after this many waits; 0: never
	deny    bool
	waits   []time.Duration
	skew    map[int]time.Duration
	code    string
	onWait  func(n int)
	browser []string // URLs the plugin opened
}

func (h *harness) person(kas *testkas.Server, act int) *person {
	p := &person{kas: kas, act: act}
	h.now = time.Now().UTC() // testkas dates tokens by the real clock
	h.sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.waits = append(p.waits, d)
		h.now = h.now.Add(d)
		step := d
		if s, ok := p.skew[len(p.waits)]; ok {
			step = s
		}
		kas.AdvanceClock(step)
		if len(p.waits) == p.act {
			codes := kas.UserCodes()
			if len(codes) != 1 {
				h.t.Fatalf("codes waiting: %v", codes)
			}
			p.code = codes[0]
			if p.deny {
				kas.Deny(p.code)
			} else if err := kas.Approve(p.code, "alice"); err != nil {
				h.t.Fatal(err)
			}
		}
		if p.onWait != nil {
			p.onWait(len(p.waits))
		}
		return ctx.Err()
	}
	h.browser = func(url string) error { p.browser = append(p.browser, url); return nil }
	return p
}

// loginWeb runs login --web against kas.
func (h *harness) loginWeb(kas *testkas.Server, args ...string) result {
	h.t.Helper()
	return h.run(append([]string{"login", "--web", "--gitlab-url", kas.URL, "--client-id", webClientID}, args...)...)
}

// noMintedSecret fails when a token testkas minted or issued reached the
// output, or a file other than the token store's.
func noMintedSecret(t *testing.T, kas *testkas.Server, dir string, results ...result) {
	t.Helper()
	var secrets []string
	for _, p := range kas.MintedTokens() {
		secrets = append(secrets, p.Token)
	}
	for _, o := range kas.OAuthTokens() {
		secrets = append(secrets, o.AccessToken, o.RefreshToken)
	}
	for _, r := range results {
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("a minted or OAuth token reached the output:\n%s%s", r.stdout, r.stderr)
			}
		}
	}
	assertNoSecretInFiles(t, dir, secrets...)
}

func (h *harness) storedEntry(url string) (tokenstore.Entry, bool) {
	h.t.Helper()
	raw, ok := h.keyring.items[tokenstore.ServiceName+"\x00"+url]
	if !ok {
		return tokenstore.Entry{}, false
	}
	var e tokenstore.Entry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		h.t.Fatal(err)
	}
	return e, true
}

// TestLoginWeb: the device flow, then a token with only k8s_proxy and a
// stated expiry, kept in the keyring; the OAuth token revoked; get-token
// uses the token without a word; status says what was minted; logout
// revokes it on GitLab and forgets it.
func TestLoginWeb(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	p := h.person(kas, 2)
	r := h.loginWeb(kas)
	r.expect(t, 0, "Logged in to "+kas.URL+" as alice.", `"kubectl-gitlab`, "with only the k8s_proxy scope", "(in 7 days)",
		"was revoked: nothing broader is kept", "The OAuth application "+webClientID+" is remembered for "+kas.URL)
	for _, want := range []string{"open " + kas.URL + "/oauth/device", "enter the code " + p.code, "expires in 5 minutes", "Opened it in your browser."} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if len(p.browser) != 1 || p.browser[0] != kas.URL+"/oauth/device?user_code="+p.code {
		t.Errorf("browser opened %v", p.browser)
	}
	if len(p.waits) != 2 || p.waits[0] != 5*time.Second || p.waits[1] != 5*time.Second {
		t.Errorf("waits %v, want the server's interval (5s) before each poll", p.waits)
	}
	minted := kas.MintedTokens()
	if len(minted) != 1 || strings.Join(minted[0].Scopes, ",") != "k8s_proxy" || minted[0].Username != "alice" || !strings.HasPrefix(minted[0].Name, "kubectl-gitlab") {
		t.Fatalf("minted %+v", minted)
	}
	if want := tokenstore.DateOf(h.now.AddDate(0, 0, 8)).String(); minted[0].ExpiresAt > want {
		t.Errorf("expires %s, want by %s", minted[0].ExpiresAt, want)
	}
	oauth := kas.OAuthTokens()
	if len(oauth) != 1 || !oauth[0].Revoked || oauth[0].ClientID != webClientID || strings.Join(oauth[0].Scopes, " ") != "api" {
		t.Errorf("OAuth tokens %+v: want one, with api, revoked", oauth)
	}
	e, ok := h.storedEntry(kas.URL)
	if !ok || e.Token != minted[0].Token || e.Origin != tokenstore.OriginWeb || e.User != "alice" || e.ClientID != webClientID || e.RefreshToken != "" || e.ExpiresAt.String() != minted[0].ExpiresAt {
		t.Fatalf("kept %v (%v)", e, ok)
	}
	apps := mustRead(t, filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", tokenstore.OAuthAppsFileName))
	if !strings.Contains(apps, `"client_id": "`+webClientID+`"`) {
		t.Errorf("oauth-applications.json:\n%s", apps)
	}

	g := h.run("get-token", "--agent-id", "1234")
	g.expect(t, 0, `"token":"pat:1234:`+minted[0].Token+`"`, `"expirationTimestamp":"`+minted[0].ExpiresAt+`T00:00:00Z"`)
	if g.stderr != "" {
		t.Errorf("get-token warned about a narrow token: %s", g.stderr)
	}
	st := h.run("login", "--status")
	st.expect(t, 0, kas.URL, "login --web", "alice", "k8s_proxy", minted[0].ExpiresAt, "keyring")
	if strings.Contains(st.stderr, "warning") {
		t.Errorf("status warned: %s", st.stderr)
	}

	// A second login --web replaces the first token and revokes it; the
	// client ID is remembered.
	h.person(kas, 1)
	h.run("login", "--web", "--gitlab-url", kas.URL).expect(t, 0, "The token "+`"`+minted[0].Name+`"`+" of the previous login to "+kas.URL+" was revoked.")
	if !kas.MintedTokens()[0].Revoked || kas.MintedTokens()[1].Revoked {
		t.Fatalf("after the second login: %+v", kas.MintedTokens())
	}

	out := h.run("logout")
	out.expect(t, 0, "Revoked the token", "on "+kas.URL)
	if !kas.MintedTokens()[1].Revoked {
		t.Errorf("logout did not revoke the minted token on GitLab")
	}
	if _, ok := h.storedEntry(kas.URL); ok {
		t.Errorf("logout left the token in the keyring")
	}
	noMintedSecret(t, kas, h.dir, r, st, out) // g's stdout is the credential
}

// TestLoginWebPolling: slow_down adds 5 s to the interval for this and
// every later poll (RFC 8628 §3.5); the client ID comes from the
// environment; --no-browser opens none.
func TestLoginWebPolling(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	h.env[envClientID] = webClientID
	p := h.person(kas, 4)
	p.skew = map[int]time.Duration{2: time.Second} // the second poll comes 1 s after the first, as GitLab sees it
	h.run("login", "--web", "--gitlab-url", kas.URL, "--no-browser").expect(t, 0, "Logged in", "The OAuth application "+webClientID+" is remembered")
	want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}
	if len(p.waits) != len(want) {
		t.Fatalf("waits %v, want %v", p.waits, want)
	}
	for i := range want {
		if p.waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", p.waits, want)
		}
	}
	if len(p.browser) != 0 {
		t.Errorf("--no-browser opened %v", p.browser)
	}
}

// TestLoginWebFailures: each way a browser login ends without a token has
// its own message and exit code, and keeps nothing.
func TestLoginWebFailures(t *testing.T) {
	cases := []struct {
		name   string
		config func(*testkas.Config)
		act    int
		deny   bool
		args   []string
		env    map[string]string
		code   int
		want   []string
	}{
		{name: "denied", act: 1, deny: true, code: 1, want: []string{"the login was denied in the browser", "choose Authorize"}},
		{name: "expired", code: 1, want: []string{"the code expired before it was approved (GitLab keeps it 5 minutes)", "approve within 5 minutes"}},
		{name: "unknown application", args: []string{"--client-id", "nope"}, code: 2, want: []string{`GitLab does not accept the OAuth application "nope"`, "/-/user_settings/applications", "Confidential unticked, scope api"}},
		{name: "no application", args: []string{}, code: 2, want: []string{"login --web needs the ID of an OAuth application", "KUBECTL_GITLAB_CLIENT_ID"}},
		{name: "application without api", args: []string{"--client-id", "read-only-app"}, code: 2, want: []string{`the OAuth application "read-only-app" lacks the api scope`, "tick the api scope"}},
		{name: "GitLab 17.2, flag off", config: func(c *testkas.Config) { c.DeviceGrant = testkas.DeviceGrantFlagOff }, code: 1, want: []string{"this GitLab has no OAuth device authorization", "--token-stdin"}},
		{name: "GitLab before 17.2", config: func(c *testkas.Config) { c.DeviceGrant = testkas.DeviceGrantAbsent }, code: 1, want: []string{"this GitLab has no OAuth device authorization"}},
		{name: "tokens may not be created", config: func(c *testkas.Config) { c.PATCreationForbidden = true }, act: 1, code: 1, want: []string{"GitLab does not let you create personal access tokens"}},
		{name: "refresh token in a file", act: 1, args: []string{"--client-id", webClientID, "--keep-refresh-token", "--token-store", "file"}, code: 2, want: []string{"in the OS keyring only"}},
		{name: "web and stdin", args: []string{"--token-stdin"}, code: 2, want: []string{"--web and --token-stdin do not go together"}},
		{name: "expiry under a day", args: []string{"--token-expiry", "12h"}, code: 2, want: []string{"less than a day"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var change []func(*testkas.Config)
			if c.config != nil {
				change = append(change, c.config)
			}
			kas := webKAS(t, change...)
			h := newHarness(t).withKAS(kas)
			p := h.person(kas, c.act)
			p.deny = c.deny
			args := c.args
			if args == nil {
				args = []string{"--client-id", webClientID}
			}
			r := h.run(append([]string{"login", "--web", "--gitlab-url", kas.URL}, args...)...)
			r.expectErr(t, c.code, c.want...)
			if len(h.keyring.items) != 0 {
				t.Errorf("something was kept in the keyring")
			}
			if _, err := os.Stat(filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", "tokens.json")); err == nil {
				t.Errorf("a token file was written")
			}
			if _, err := os.Stat(filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", tokenstore.OAuthAppsFileName)); err == nil {
				t.Errorf("a failed login remembered its OAuth application")
			}
			for _, m := range kas.MintedTokens() {
				if !m.Revoked {
					t.Errorf("a minted token is left alive: %s", m.Name)
				}
			}
			for _, o := range kas.OAuthTokens() {
				if !o.Revoked {
					t.Errorf("an OAuth token is left alive")
				}
			}
			if len(p.waits) > 70 {
				t.Errorf("%d polls", len(p.waits))
			}
			noMintedSecret(t, kas, h.dir, r)
		})
	}
}

// cancelOnMint cancels the login's context once GitLab has answered the
// mint: Ctrl-C between minting and keeping.
type cancelOnMint struct {
	next   http.RoundTripper
	cancel func()
}

func (c cancelOnMint) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if r.URL.Path == "/api/v4/user/personal_access_tokens" {
		c.cancel()
	}
	return resp, err
}

// TestLoginWebCancelled: Ctrl-C while waiting keeps nothing; Ctrl-C after
// the mint revokes the new token and the OAuth token, and keeps nothing.
func TestLoginWebCancelled(t *testing.T) {
	for _, when := range []string{"waiting", "after the mint"} {
		t.Run(when, func(t *testing.T) {
			kas := webKAS(t)
			h := newHarness(t).withKAS(kas)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h.ctx = func() (context.Context, context.CancelFunc) { return ctx, func() {} }
			p := h.person(kas, 1)
			if when == "waiting" {
				p.act = 0
				p.onWait = func(n int) {
					if n == 3 {
						cancel()
					}
				}
			} else {
				h.transport = cancelOnMint{next: h.transport, cancel: cancel}
			}
			r := h.loginWeb(kas)
			r.expectErr(t, 1, "login cancelled; nothing was kept")
			if len(h.keyring.items) != 0 {
				t.Errorf("something was kept")
			}
			if when == "waiting" && (len(p.waits) != 3 || kas.Mints() != 0) {
				t.Errorf("waits %v, mints %d", p.waits, kas.Mints())
			}
			if when == "after the mint" && (kas.Mints() != 1 || !kas.MintedTokens()[0].Revoked || !kas.OAuthTokens()[0].Revoked) {
				t.Errorf("after a cancelled mint: %+v %+v", kas.MintedTokens(), kas.OAuthTokens())
			}
		})
	}
}

// TestLoginWebKeepsRefreshTokenInKeyringOnly: with --keep-refresh-token
// the refresh token is kept (in the keyring, never a file) and the OAuth
// token is not revoked; get-token replaces the token when it is due,
// once however many run at once, and revokes the old one; logout revokes
// the token and the refresh token.
func TestLoginWebKeepsRefreshTokenInKeyringOnly(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	h.person(kas, 1)
	r := h.loginWeb(kas, "--keep-refresh-token", "--token-expiry", "3d")
	r.expect(t, 0, "The OAuth refresh token (scope api) is kept in", "only there", "logout revokes both", "(in 3 days)")
	e, _ := h.storedEntry(kas.URL)
	if e.RefreshToken == "" || kas.OAuthTokens()[0].Revoked {
		t.Fatalf("kept %v; OAuth %+v", e, kas.OAuthTokens())
	}
	h.run("login", "--status").expect(t, 0, "kept")
	first := kas.MintedTokens()[0]

	// Not due yet: no mint.
	h.run("get-token", "--agent-id", "1234").expect(t, 0, first.Token)
	if kas.Mints() != 1 {
		t.Fatalf("minted before it was due")
	}
	// Two days on, under half its life is left: twenty get-tokens at once
	// mint one token between them.
	h.now = h.now.Add(50 * time.Hour)
	var wg sync.WaitGroup
	results := make([]result, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.run("get-token", "--agent-id", "1234")
		}()
	}
	wg.Wait()
	if kas.Mints() != 2 {
		t.Fatalf("%d mints for 20 parallel get-tokens, want 1 more", kas.Mints()-1)
	}
	second := kas.MintedTokens()[1]
	for _, r := range results {
		r.expect(t, 0, "pat:1234:"+second.Token)
	}
	if !kas.MintedTokens()[0].Revoked {
		t.Errorf("the replaced token was not revoked")
	}
	e2, _ := h.storedEntry(kas.URL)
	if e2.Token != second.Token || e2.RefreshToken == "" || e2.RefreshToken == e.RefreshToken || e2.Origin != tokenstore.OriginWeb {
		t.Errorf("kept after renewal: %v", e2)
	}
	if second.ExpiresAt <= first.ExpiresAt {
		t.Errorf("the new token expires %s, the old %s", second.ExpiresAt, first.ExpiresAt)
	}

	h.run("logout").expect(t, 0, "Revoked the token", "The kept OAuth refresh token was revoked too.")
	for _, o := range kas.OAuthTokens() {
		if !o.Revoked {
			t.Errorf("an OAuth token lives on after logout")
		}
	}
	if !kas.MintedTokens()[1].Revoked || len(h.keyring.items) != 0 {
		t.Errorf("logout left the token")
	}
	noMintedSecret(t, kas, h.dir, r) // results are credentials
}

// TestLoginWebRefreshTokenNeedsTheKeyring: no keyring, and a refresh token
// asked for: the login fails after the mint, revokes what it made, and
// writes no file.
func TestLoginWebRefreshTokenNeedsTheKeyring(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	h.keyring.down = errors.New("no D-Bus session bus")
	h.person(kas, 1)
	h.loginWeb(kas, "--keep-refresh-token").expectErr(t, 1, "cannot keep the refresh token", "only in the OS keyring", "without --keep-refresh-token")
	if kas.Mints() != 1 || !kas.MintedTokens()[0].Revoked || !kas.OAuthTokens()[0].Revoked {
		t.Errorf("left alive: %+v %+v", kas.MintedTokens(), kas.OAuthTokens())
	}
	if _, err := os.Stat(filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", "tokens.json")); err == nil {
		t.Errorf("a token file was written")
	}
	// Without it, the token goes to the file, with one notice.
	h.person(kas, 1)
	r := h.loginWeb(kas)
	r.expect(t, 0, "tokens.json")
	if strings.Count(r.stderr, "notice:") != 1 {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestLoginWebTakesWhatGitLabAllows: an expiry beyond the instance's
// maximum is refused by GitLab (422); login mints until the last day it
// allows, and says so.
func TestLoginWebTakesWhatGitLabAllows(t *testing.T) {
	kas := webKAS(t, func(c *testkas.Config) { c.PATMaxLifetimeDays = 3 })
	h := newHarness(t).withKAS(kas)
	h.person(kas, 1)
	limit := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	h.loginWeb(kas, "--token-expiry", "30d").expect(t, 0, "GitLab allows tokens until "+limit+" at most")
	if m := kas.MintedTokens(); len(m) != 1 || m[0].ExpiresAt != limit {
		t.Errorf("minted %+v", m)
	}
}

// TestEnvironmentTokenPrecedenceAndScopes: $KUBECTL_GITLAB_TOKEN wins over
// $GITLAB_TOKEN; get-token never asks GitLab about it, login --status does
// and warns about scopes beyond k8s_proxy; a broad stored token is warned
// about by get-token once.
func TestEnvironmentTokenPrecedenceAndScopes(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	h.secrets = append(h.secrets, apiPAT, narrowPAT)
	h.env["GITLAB_TOKEN"] = apiPAT
	h.run("get-token", "--agent-id", "1234").expect(t, 0, "pat:1234:"+apiPAT)
	h.env["KUBECTL_GITLAB_TOKEN"] = narrowPAT
	kas.Reset()
	g := h.run("get-token", "--agent-id", "1234")
	g.expect(t, 0, "pat:1234:"+narrowPAT)
	if len(kas.Requests()) != 0 || g.stderr != "" {
		t.Errorf("get-token with a token from the environment called GitLab (%d) or warned (%q)", len(kas.Requests()), g.stderr)
	}

	st := h.run("login", "--status", "--gitlab-url", kas.URL)
	st.expect(t, 0, "environment", "$KUBECTL_GITLAB_TOKEN", "narrow")
	if !strings.Contains(st.stderr, "$KUBECTL_GITLAB_TOKEN is set") || !strings.Contains(st.stderr, "$GITLAB_TOKEN is set too") || strings.Contains(st.stderr, "warning") {
		t.Errorf("status stderr:\n%s", st.stderr)
	}
	delete(h.env, "KUBECTL_GITLAB_TOKEN")
	st = h.run("login", "--status", "--gitlab-url", kas.URL, "-o", "json")
	var views []statusView
	if err := json.Unmarshal([]byte(st.stdout), &views); err != nil || len(views) != 1 || views[0].Where != "$GITLAB_TOKEN" || strings.Join(views[0].BroadScopes, ",") != "api" || !views[0].InUse {
		t.Fatalf("status: %s (%v)", st.stdout, err)
	}
	st = h.run("login", "--status", "--gitlab-url", kas.URL)
	if !strings.Contains(st.stderr, "warning: the token in $GITLAB_TOKEN has scopes beyond k8s_proxy (api)") || !strings.Contains(st.stderr, "kubectl gitlab login --web --gitlab-url "+kas.URL) ||
		!strings.Contains(st.stderr, "then unset GITLAB_TOKEN (or set KUBECTL_GITLAB_TOKEN to the narrow token: it takes precedence)") {
		t.Errorf("no warning about the broad token:\n%s", st.stderr)
	}

	// A broad token pasted and kept: login warns, get-token warns once.
	delete(h.env, "GITLAB_TOKEN")
	l := h.runWithStdin(apiPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin")
	l.expect(t, 0, "Logged in")
	if !strings.Contains(l.stderr, "this token has scopes beyond k8s_proxy (api)") {
		t.Errorf("login did not warn:\n%s", l.stderr)
	}
	first := h.run("get-token", "--agent-id", "1234")
	if !strings.Contains(first.stderr, "the token kept for "+kas.URL+" has scopes beyond k8s_proxy (api)") {
		t.Errorf("first get-token:\n%s", first.stderr)
	}
	if again := h.run("get-token", "--agent-id", "1234"); again.stderr != "" {
		t.Errorf("get-token warned twice: %s", again.stderr)
	}
	warned := mustRead(t, filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", tokenstore.WarnedFileName))
	if !strings.Contains(warned, tokenstore.Fingerprint(apiPAT)) {
		t.Errorf("warned-tokens.json:\n%s", warned)
	}
	// The pasted token is forgotten, not revoked; --revoke revokes it.
	h.run("logout").expect(t, 0, "You pasted it", "not revoked")
	h.runWithStdin(apiPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin").expect(t, 0)
	h.run("logout", "--revoke").expect(t, 0, `Revoked the token "everything"`)
	h.run("get-token", "--agent-id", "1234").expectErr(t, 1, "login --web")
}

// TestDoctorWarnsAboutBroadScopes: doctor asks GitLab for the scopes of
// the token that goes to KAS and warns when they reach beyond k8s_proxy,
// naming the variable it came from; a token minted by login --web passes.
func TestDoctorWarnsAboutBroadScopes(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	h.secrets = append(h.secrets, apiPAT, narrowPAT)
	fakeKubectl(h, "v1.33.1")
	h.env["GITLAB_TOKEN"] = apiPAT
	h.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").expect(t, 0)
	rep := doctorReport(t, h.run("doctor", "-o", "json"))
	expectCheck(t, rep, "scopes", doctor.Warn, "$GITLAB_TOKEN has scopes beyond k8s_proxy (api)", "kubectl gitlab login --web --gitlab-url "+kas.URL, "then unset GITLAB_TOKEN")
	expectCheck(t, rep, "token", doctor.Pass)

	h.env["KUBECTL_GITLAB_TOKEN"] = narrowPAT
	expectCheck(t, doctorReport(t, h.run("doctor", "-o", "json")), "scopes", doctor.Pass, "$KUBECTL_GITLAB_TOKEN has k8s_proxy")

	delete(h.env, "GITLAB_TOKEN")
	delete(h.env, "KUBECTL_GITLAB_TOKEN")
	h.person(kas, 1)
	h.loginWeb(kas).expect(t, 0)
	expectCheck(t, doctorReport(t, h.run("doctor", "-o", "json")), "scopes", doctor.Pass, "the kept token has k8s_proxy")
}

// TestLogoutWhenGitLabCannotRevoke: a revocation that fails removes
// nothing (logout can run again); --forget-only removes without revoking
// and says until when the token works.
func TestLogoutWhenGitLabCannotRevoke(t *testing.T) {
	kas := webKAS(t)
	h := newHarness(t).withKAS(kas)
	h.person(kas, 1)
	h.loginWeb(kas).expect(t, 0)
	kas.Fail("/api/v4/personal_access_tokens/self", 503, 503, 503, 503)
	h.run("logout").expectErr(t, 1, "cannot revoke the token", "so nothing was removed", "503", "kubectl gitlab logout --forget-only (it then works until "+kas.MintedTokens()[0].ExpiresAt+")")
	if _, ok := h.storedEntry(kas.URL); !ok {
		t.Fatalf("a failed logout removed the token")
	}
	h.run("logout", "--revoke", "--forget-only").expectErr(t, 2, "do not go together")
	h.run("logout", "--forget-only").expect(t, 0, "without revoking it: it works until it expires ("+kas.MintedTokens()[0].ExpiresAt+")")
	if _, ok := h.storedEntry(kas.URL); ok || kas.MintedTokens()[0].Revoked {
		t.Errorf("--forget-only: kept %v, revoked %v", ok, kas.MintedTokens()[0].Revoked)
	}
}
