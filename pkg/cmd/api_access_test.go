package cmd

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// readAPIApp is an OAuth application that may grant read_api as well as
// api (the one webClientID names may grant api only).
const readAPIApp = "read-api-app"

// discoveryWebKAS is the deploying project of testkas.DeployingProject,
// where alice (dora's powers: a Developer of group/app whom its three
// agents admit) logs in through the browser.
func discoveryWebKAS(t *testing.T, change ...func(*testkas.Config)) *testkas.Server {
	cfg := testkas.DeployingProject(deployerPAT)
	cfg.OAuthApps = []testkas.OAuthApp{{ClientID: webClientID}, {ClientID: readAPIApp, Scopes: []string{"api", "read_api"}}}
	cfg.Users = []testkas.User{{ID: 8, Username: "alice", Agents: []int64{1234, 9012, 5555}, ProjectRoles: map[int64]string{99: testkas.NoAccess}}}
	cfg.PATs = append(cfg.PATs, testkas.PAT{Token: k8sProxyPAT, ID: 3, Username: "alice", UserID: 8, Scopes: []string{"k8s_proxy"}})
	for _, c := range change {
		c(&cfg)
	}
	return testkas.Start(t, cfg)
}

const agentsTable = `AGENT-ID   NAME     CONFIG-PROJECT   ACCESS                              NAMESPACE
1234       prod     group/agents     ci_access:ci_job,user_access:user   apps
9012       static   group/agents     user_access:agent                   -
5555       hidden   secret/agents    user_access:user                    -
`

// TestDiscoveryWithTheKeptRefreshToken: after login --web
// --keep-refresh-token, agents and update-kubeconfig --project find the
// agents with a short-lived access token from the kept refresh token,
// held in memory only; the rotated refresh token is kept back in the
// keyring; nothing is minted; the KAS URL is the one login recorded from
// /metadata, or /metadata itself.
func TestDiscoveryWithTheKeptRefreshToken(t *testing.T) {
	kas := discoveryWebKAS(t)
	h := newHarness(t).withKAS(kas)
	h.person(kas, 1)
	login := h.loginWeb(kas, "--keep-refresh-token")
	login.expect(t, 0, "KAS (k8s-proxy) is at "+kas.K8sProxyURL+", as GitLab's /api/v4/metadata says")
	kept, _ := h.storedEntry(kas.URL)
	h.run("login", "--status").expect(t, 0, "KAS of "+kas.URL+": "+kas.K8sProxyURL+" (recorded by login --web")

	r := h.run("agents", "--project", "group/app")
	r.expect(t, 0, agentsTable)
	if r.stderr != "" {
		t.Errorf("agents said more than the table:\n%s", r.stderr)
	}
	after, _ := h.storedEntry(kas.URL)
	oauth := kas.OAuthTokens()
	if kas.Refreshes() != 1 || len(oauth) != 2 || after.RefreshToken != oauth[1].RefreshToken || after.RefreshToken == kept.RefreshToken || after.Token != kept.Token {
		t.Fatalf("after agents: %d refreshes, kept %v (was %v), OAuth %+v", kas.Refreshes(), after, kept, oauth)
	}
	if !oauth[0].Revoked || oauth[1].Revoked || strings.Join(oauth[1].Scopes, " ") != "api" {
		t.Errorf("the old refresh token must die when the new access token is used, the new one live on (api): %+v", oauth)
	}

	u := h.run("update-kubeconfig", "--project", "group/app")
	u.expect(t, 0, "group/agents:prod (agent 1234, namespace apps)", "KAS: "+kas.K8sProxyURL+" (from GitLab's /api/v4/metadata)")
	if kas.Mints() != 1 || kas.Refreshes() != 2 {
		t.Errorf("%d mints, %d refreshes: want the login's mint and one refresh per command", kas.Mints(), kas.Refreshes())
	}
	// No access token is written anywhere: the keyring holds the PAT and
	// the latest refresh token only.
	for _, o := range kas.OAuthTokens() {
		for _, item := range h.keyring.items {
			if strings.Contains(item, o.AccessToken) {
				t.Errorf("an OAuth access token is in the keyring")
			}
		}
	}
	noMintedSecret(t, kas, h.dir, login, r, u)

	// The environment's token comes first; GitLab refuses a k8s_proxy
	// one, and the kept refresh token takes over, saying so.
	h.env["GITLAB_TOKEN"] = k8sProxyPAT
	env := h.run("agents", "--project", "group/app")
	env.expect(t, 0, agentsTable)
	if !strings.Contains(env.stderr, "note: GitLab did not let $GITLAB_TOKEN read its API (401 Unauthorized); trying a short-lived OAuth token from the refresh token") {
		t.Errorf("stderr:\n%s", env.stderr)
	}
	// A read_api token in the environment is used as it is.
	h.env["GITLAB_TOKEN"] = deployerPAT
	before := kas.Refreshes()
	h.run("agents", "--project", "group/app").expect(t, 0, agentsTable)
	if kas.Refreshes() != before {
		t.Errorf("the kept refresh token was used although $GITLAB_TOKEN may read the API")
	}
	delete(h.env, "GITLAB_TOKEN")

	// A refresh token GitLab revoked: the error says so, and the ways.
	for _, o := range kas.OAuthTokens() {
		revokeOAuth(t, kas, o.RefreshToken)
	}
	h.run("agents", "--project", "group/app").expectErr(t, 1, "no longer accepts the kept refresh token", "login --web --keep-refresh-token")
}

// TestDiscoveryNeedsACredential: after login --web without a refresh
// token nothing at hand may read GitLab's API; agents says why, with the
// three ways, exit code 1, without asking GitLab with the k8s_proxy
// token. --web approves once in the browser: read_api when the
// application may grant it, else api; that OAuth token is revoked at the
// end, and nothing new is kept.
func TestDiscoveryNeedsACredential(t *testing.T) {
	kas := discoveryWebKAS(t)
	h := newHarness(t).withKAS(kas)
	h.person(kas, 1)
	h.loginWeb(kas).expect(t, 0, "was revoked: nothing broader is kept")
	kept, _ := h.storedEntry(kas.URL)
	kas.Reset()

	none := h.run("agents", "--project", "group/app")
	none.expectErr(t, 1, "needs a credential that may read GitLab's API", "the token kept for "+kas.URL+" has the scopes k8s_proxy, not api or read_api",
		"KUBECTL_GITLAB_TOKEN=<token>", "kubectl gitlab login --web --keep-refresh-token", "add --web")
	if n := len(kas.Requests()); n != 0 {
		t.Errorf("%d requests to GitLab: the k8s_proxy token's scopes are known", n)
	}

	for _, c := range []struct {
		app, scope string
	}{{webClientID, "api"}, {readAPIApp, "read_api"}} {
		h.env[envClientID] = c.app
		p := h.person(kas, 1)
		r := h.run("agents", "--project", "group/app", "--web")
		r.expect(t, 0, agentsTable)
		oauth := kas.OAuthTokens()
		last := oauth[len(oauth)-1]
		if p.code == "" || !strings.Contains(r.stderr, "enter the code "+p.code) || last.ClientID != c.app || strings.Join(last.Scopes, " ") != c.scope || !last.Revoked {
			t.Errorf("%s: the approval's OAuth token %+v: want scope %s, revoked\n%s", c.app, last, c.scope, r.stderr)
		}
		if e, _ := h.storedEntry(kas.URL); e.Token != kept.Token || e.RefreshToken != "" {
			t.Errorf("%s: the approval changed what is kept: %v", c.app, e)
		}
		noMintedSecret(t, kas, h.dir, r)
	}
	h.person(kas, 1)
	u := h.run("update-kubeconfig", "--project", "group/app", "--web")
	u.expect(t, 0, "group/agents:prod", "KAS: "+kas.K8sProxyURL+" (from GitLab's /api/v4/metadata)")
	if kas.Mints() != 1 {
		t.Errorf("%d mints", kas.Mints())
	}
	for _, o := range kas.OAuthTokens() {
		if !o.Revoked {
			t.Errorf("an OAuth token lives on: %+v", o)
		}
	}

	// A code nobody approves: the command to run again is this one.
	h.person(kas, 0)
	h.run("agents", "--project", "group/app", "--web").expectErr(t, 1, "the code expired before it was approved", "run the command with --web again")

	// --web with no OAuth application known: bad input; in a CI job
	// --web has no place.
	job := jobServer(t, "")
	hj := newHarness(t).withKAS(job)
	hj.inJob(job)
	hj.run("agents", "--web").expectErr(t, 2, "this is a GitLab CI job")
	h2 := newHarness(t).withKAS(kas)
	h2.env["GITLAB_URL"] = kas.URL
	h2.run("agents", "--project", "group/app", "--web").expectErr(t, 2, "needs the ID of an OAuth application")
}

// TestUpdateKubeconfigUsesTheRecordedKASURL: with only login --web's
// k8s_proxy token, update-kubeconfig --agent takes the URL login
// recorded from /metadata instead of guessing; a recorded URL is checked
// again (the file could be edited); a GitLab whose metadata gives none
// records nothing, and login says so.
func TestUpdateKubeconfigUsesTheRecordedKASURL(t *testing.T) {
	kas := discoveryWebKAS(t)
	h := newHarness(t).withKAS(kas)
	h.person(kas, 1)
	h.loginWeb(kas).expect(t, 0)
	r := h.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234")
	r.expect(t, 0, "KAS: "+kas.K8sProxyURL+" (from GitLab's /api/v4/metadata, as login --web recorded it)")
	if strings.Contains(r.stderr, "guess") {
		t.Errorf("a guess although login recorded the URL:\n%s", r.stderr)
	}

	file := filepath.Join(h.dir, "home", ".config", "kubectl-gitlab", tokenstore.KASURLsFileName)
	data := mustRead(t, file)
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(data, kas.K8sProxyURL, "http://kas.example/k8s-proxy")), 0o600); err != nil {
		t.Fatal(err)
	}
	h.run("update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234").expectErr(t, 1, "the KAS URL http://kas.example/k8s-proxy from GitLab's /api/v4/metadata, as login --web recorded it is plain http")

	disabled := discoveryWebKAS(t, func(c *testkas.Config) { c.Metadata = testkas.MetadataKASDisabled })
	h3 := newHarness(t).withKAS(disabled)
	h3.person(disabled, 1)
	l := h3.loginWeb(disabled)
	l.expect(t, 0, "Logged in")
	if !strings.Contains(l.stderr, "warning: could not record where KAS is") || strings.Contains(l.stdout, "KAS (k8s-proxy) is at") {
		t.Errorf("login against a GitLab without KAS:\n%s%s", l.stdout, l.stderr)
	}
	if _, err := os.Stat(filepath.Join(h3.dir, "home", ".config", "kubectl-gitlab", tokenstore.KASURLsFileName)); err == nil {
		t.Errorf("a URL was recorded")
	}
}

// revokeOAuth revokes an OAuth token of webClientID on testkas, as a
// person would in GitLab's settings.
func revokeOAuth(t *testing.T, kas *testkas.Server, token string) {
	t.Helper()
	resp, err := kas.Client().PostForm(kas.URL+"/oauth/revoke", url.Values{"token": {token}, "client_id": {webClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
