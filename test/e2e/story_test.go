//go:build secretservice

package e2e

import (
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// storyKAS is testkas.DeployingProject (group/app deploys through agents
// of group/agents and secret/agents) with an OAuth application, and
// alice, a Developer of group/app whom its three agents admit, at the
// browser.
func storyKAS(t *testing.T) *testkas.Server {
	cfg := testkas.DeployingProject("glpat-e2eUnusedDeployer")
	cfg.OAuthApps = []testkas.OAuthApp{{ClientID: webClientID}}
	cfg.Users = []testkas.User{{ID: 8, Username: "alice", Agents: []int64{1234, 9012, 5555}, ProjectRoles: map[int64]string{99: testkas.NoAccess}}}
	cfg.DevicePollInterval = time.Second
	return testkas.Start(t, cfg)
}

const storyAgents = `AGENT-ID   NAME     CONFIG-PROJECT   ACCESS                              NAMESPACE
1234       prod     group/agents     ci_access:ci_job,user_access:user   apps
9012       static   group/agents     user_access:agent                   -
5555       hidden   secret/agents    user_access:user                    -
`

// readmeWorkstationFlow is the README's workstation flow: the commands
// of the first sh block that logs in with --web, without comments.
func readmeWorkstationFlow(t *testing.T) []string {
	for _, block := range readmeBlocks(t, "sh") {
		if !strings.Contains(block, "kubectl gitlab login --web") {
			continue
		}
		var flow []string
		for _, line := range strings.Split(block, "\n") {
			if command, _, _ := strings.Cut(line, "#"); strings.TrimSpace(command) != "" {
				flow = append(flow, strings.TrimSpace(command))
			}
		}
		return flow
	}
	t.Fatal("the README has no workstation flow")
	return nil
}

// TestSecretServiceWorkstationStory is issue 14's story, the README's
// workstation flow as written, on a clean HOME with the real Secret
// Service, through real kubectl: login --web --keep-refresh-token
// (approved through testkas), agents and update-kubeconfig --project of
// the deploying project (found with a short-lived token from the kept
// refresh token; KAS's URL from /metadata), kubectl get pods with no
// further step, twenty kubectl commands at once that mint nothing,
// use-context -, and logout, after which GitLab saw every revocation and
// no token is left in the keyring or under HOME.
func TestSecretServiceWorkstationStory(t *testing.T) {
	k := kubectls(t)[0]
	kas := storyKAS(t)
	e := secretServiceEnv(t, kas)
	var all []result
	var minted testkas.PAT
	// The README's names for this GitLab, its OAuth application and a
	// second agent.
	ours := strings.NewReplacer("https://gitlab.example.com", kas.URL, "8f3c…", webClientID, "use-context staging", "use-context hidden")
	checks := map[string]func(r result){
		"kubectl gitlab login": func(r result) {
			r.ok(t, "Logged in to "+kas.URL+" as alice.", "with only the k8s_proxy scope", "Secret Service", "The OAuth refresh token (scope api) is kept",
				"KAS (k8s-proxy) is at "+kas.K8sProxyURL)
			minted = kas.MintedTokens()[0]
		},
		"kubectl gitlab agents": func(r result) { r.ok(t, storyAgents) },
		"kubectl gitlab update-kubeconfig": func(r result) {
			r.ok(t, "group/agents:prod (agent 1234, namespace apps)", "group/agents:static (agent 9012)", "secret/agents:hidden (agent 5555)",
				"KAS: "+kas.K8sProxyURL+" (from GitLab's /api/v4/metadata)",
				`Switched to context "group/agents:prod" (agent 1234) (the first of the 3 written, in name order).`)
		},
		"kubectl get pods": func(r result) {
			r.ok(t, "web-0") // namespace apps, as a job of group/app gets it
			if !kas.SawBearer("pat:1234:" + minted.Token) {
				t.Fatalf("KAS did not see the minted token")
			}
			e.kubectlTimesListing(t, k, 20, "web-0")
			if kas.Mints() != 1 {
				t.Errorf("%d tokens minted after login, want none (discovery, update-kubeconfig, twenty kubectl commands)", kas.Mints()-1)
			}
			if kas.Refreshes() != 2 {
				t.Errorf("%d refreshes: want one for agents and one for update-kubeconfig", kas.Refreshes())
			}
		},
		"kubectl gitlab use-context hidden": func(r result) {
			r.ok(t, `Switched to context "secret/agents:hidden" (agent 5555).`)
		},
		"kubectl gitlab use-context -": func(r result) {
			r.ok(t, `Switched to context "group/agents:prod" (agent 1234).`)
			kas.Reset()
			e.run(k.Path, "get", "pods").ok(t, "web-0")
			if !kas.SawBearer("pat:1234:" + minted.Token) {
				t.Fatalf("after use-context -, kubectl did not go through agent 1234")
			}
		},
		"kubectl gitlab logout": func(r result) {
			r.ok(t, "Revoked the token", "The kept OAuth refresh token was revoked too.")
			for _, p := range kas.MintedTokens() {
				if !p.Revoked {
					t.Errorf("the minted token %q lives on after logout", p.Name)
				}
			}
			for i, o := range kas.OAuthTokens() {
				if !o.Revoked {
					t.Errorf("OAuth token %d (%s) lives on after logout", i, strings.Join(o.Scopes, " "))
				}
			}
			noTokenLeft(t, e, kas)
		},
	}
	for _, line := range readmeWorkstationFlow(t) {
		args := strings.Fields(ours.Replace(line))
		var check func(result)
		for prefix, c := range checks {
			if strings.HasPrefix(strings.Join(args, " ")+" ", prefix+" ") {
				check = c
				delete(checks, prefix)
				break
			}
		}
		if check == nil {
			t.Fatalf("the README's step %q is not checked here (or twice)", line)
		}
		var r result
		if args[1] == "gitlab" && args[2] == "login" {
			r = e.approved(t, kas, "alice", e.startApproval(t, kas, args[2:]...))
		} else {
			r = e.run(k.Path, args[1:]...)
		}
		all = append(all, r)
		check(r)
	}
	if len(checks) > 0 {
		t.Errorf("steps the README's flow lacks: %v", checks)
	}
	for _, s := range webSecrets(kas) {
		noSecret(t, s, all...)
	}
}

// TestSecretServiceWorkstationStoryWithoutRefreshToken: login --web keeps
// nothing broader than k8s_proxy, so agents --project asks for a second
// approval with --web; that approval's OAuth token is revoked when the
// command ends, and after logout nothing is left.
func TestSecretServiceWorkstationStoryWithoutRefreshToken(t *testing.T) {
	k := kubectls(t)[0]
	kas := storyKAS(t)
	e := secretServiceEnv(t, kas)

	login := e.loginWeb(t, kas, "alice")
	login.ok(t, "was revoked: nothing broader is kept")
	none := e.run(k.Path, "gitlab", "agents", "--project", "group/app")
	none.fails(t, "needs a credential that may read GitLab's API", "add --web")
	if none.code != 1 {
		t.Errorf("exit code %d, want 1", none.code)
	}

	agents := e.approved(t, kas, "alice", e.startApproval(t, kas, "agents", "--project", "group/app", "--web"))
	agents.ok(t, storyAgents)
	oauth := kas.OAuthTokens()
	if len(oauth) != 2 || !oauth[1].Revoked || !oauth[0].Revoked {
		t.Fatalf("OAuth tokens %+v: want the login's and the approval's, both revoked", oauth)
	}
	if kas.Mints() != 1 {
		t.Errorf("the approval minted a token")
	}
	e.run(k.Path, "gitlab", "update-kubeconfig", "--agent", "1234").ok(t, "KAS: "+kas.K8sProxyURL+" (from GitLab's /api/v4/metadata, as login --web recorded it)")
	e.run(k.Path, "get", "pods").ok(t, "hello-0")

	out := e.run(k.Path, "gitlab", "logout")
	out.ok(t, "Revoked the token")
	if !kas.MintedTokens()[0].Revoked {
		t.Errorf("GitLab did not see the revocation")
	}
	noTokenLeft(t, e, kas)
	for _, s := range webSecrets(kas) {
		noSecret(t, s, login, none, agents, out)
	}
}
