package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const cliApp = "cli-app"

func oauthServer(t *testing.T) *testkas.Server {
	return testkas.Start(t, testkas.Config{
		OAuthApps: []testkas.OAuthApp{{ClientID: cliApp}},
		Users:     []testkas.User{{ID: 5, Username: "alice", Agents: []int64{1234}}},
		PATs:      []testkas.PAT{{Token: "glpat-readonly", ID: 9, Username: "alice", Scopes: []string{"read_api"}}},
	})
}

// approvedToken runs the device flow against kas, the person approving
// between the first and the second poll.
func approvedToken(t *testing.T, kas *testkas.Server) *OAuthToken {
	t.Helper()
	c, _ := newTestClient(t, kas, Auth{})
	ctx := context.Background()
	d, err := c.AuthorizeDevice(ctx, cliApp, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Interval != 5 || d.ExpiresIn != 300 || !strings.HasSuffix(d.VerificationURI, "/oauth/device") || !strings.Contains(d.VerificationURIComplete, d.UserCode) {
		t.Errorf("device authorization %+v", d)
	}
	_, err = c.PollDeviceToken(ctx, cliApp, d.DeviceCode)
	if code := OAuthErrorCode(err); code != OAuthAuthorizationPending {
		t.Fatalf("first poll: %v (code %q)", err, code)
	}
	if strings.Contains(err.Error(), d.DeviceCode) {
		t.Errorf("the error shows the device code: %v", err)
	}
	_, err = c.PollDeviceToken(ctx, cliApp, d.DeviceCode)
	if code := OAuthErrorCode(err); code != OAuthSlowDown {
		t.Fatalf("second poll at once: %v", err)
	}
	if err := kas.Approve(d.UserCode, ""); err != nil {
		t.Fatal(err)
	}
	kas.AdvanceClock(5 * time.Second)
	tok, err := c.PollDeviceToken(ctx, cliApp, d.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Scope != "api" || tok.ExpiresIn != 7200 {
		t.Errorf("token %v", tok)
	}
	return tok
}

func TestDeviceFlowMintRevoke(t *testing.T) {
	kas := oauthServer(t)
	ctx := context.Background()
	tok := approvedToken(t, kas)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, *tok); strings.Contains(s, tok.AccessToken) || strings.Contains(s, tok.RefreshToken) {
			t.Errorf("%s of an OAuthToken shows a token: %s", f, s)
		}
	}

	api, _ := newTestClient(t, kas, Bearer(tok.AccessToken))
	u, err := api.CurrentUser(ctx)
	if err != nil || u.Username != "alice" || u.ID != 5 {
		t.Fatalf("CurrentUser = %+v, %v", u, err)
	}
	if r := kas.Requests(); r[len(r)-1].Authorization != "Bearer "+tok.AccessToken {
		t.Errorf("sent Authorization %q", r[len(r)-1].Authorization)
	}
	p, err := api.CreatePersonalAccessToken(ctx, NewPersonalAccessToken{Name: "kubectl-gitlab", Description: "d", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2099-01-01"})
	if err == nil {
		t.Fatalf("GitLab took an expiry beyond its maximum")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || !strings.HasPrefix(apiErr.Message, "Expires at must be before ") {
		t.Fatalf("mint error = %v", err)
	}
	expires := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	p, err = api.CreatePersonalAccessToken(ctx, NewPersonalAccessToken{Name: "kubectl-gitlab", Scopes: []string{"k8s_proxy"}, ExpiresAt: expires})
	if err != nil || p.Token == "" || *p.ExpiresAt != expires || p.Scopes[0] != "k8s_proxy" || p.CreatedAt == "" {
		t.Fatalf("minted %+v, %v", p, err)
	}
	if kas.Mints() != 1 {
		t.Errorf("%d mints", kas.Mints())
	}

	// A mint is never retried: a 503 may have come after GitLab made it.
	kas.Reset()
	kas.Fail("/api/v4/user/personal_access_tokens", 503)
	if _, err := api.CreatePersonalAccessToken(ctx, NewPersonalAccessToken{Name: "x", Scopes: []string{"k8s_proxy"}}); err == nil {
		t.Errorf("the injected 503 passed")
	}
	if n := len(kas.Requests()); n != 1 {
		t.Errorf("the mint was tried %d times", n)
	}

	self, _ := newTestClient(t, kas, PrivateToken(p.Token))
	if err := self.RevokePersonalAccessTokenSelf(ctx); err != nil {
		t.Fatal(err)
	}
	if !kas.MintedTokens()[0].Revoked {
		t.Errorf("testkas did not see the revocation")
	}
	err = self.RevokePersonalAccessTokenSelf(ctx)
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "invalid_token" {
		t.Errorf("revoking twice: %v", err)
	}

	// Refresh, then revoke the refresh token: both tokens of the row die.
	anon, _ := newTestClient(t, kas, Auth{})
	next, err := anon.RefreshOAuthToken(ctx, cliApp, tok.RefreshToken)
	if err != nil || next.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	if err := anon.RevokeOAuthToken(ctx, cliApp, next.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = anon.RefreshOAuthToken(ctx, cliApp, next.RefreshToken)
	if OAuthErrorCode(err) != OAuthInvalidGrant || strings.Contains(err.Error(), next.RefreshToken) {
		t.Errorf("refresh with a revoked token: %v", err)
	}
	// Revoking needs the client: without it GitLab refuses.
	if err := anon.RevokeOAuthToken(ctx, "", tok.AccessToken); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != "unauthorized_client" {
		t.Errorf("revoke without a client: %v", err)
	}
}

func TestDeviceFlowFailures(t *testing.T) {
	kas := oauthServer(t)
	ctx := context.Background()
	c, _ := newTestClient(t, kas, Auth{})
	if _, err := c.AuthorizeDevice(ctx, "nope", []string{"api"}); OAuthErrorCode(err) != OAuthInvalidClient {
		t.Errorf("unknown client: %v", err)
	}
	if _, err := c.AuthorizeDevice(ctx, cliApp, []string{"sudo"}); OAuthErrorCode(err) != OAuthInvalidScope {
		t.Errorf("a scope the application lacks: %v", err)
	}
	d, err := c.AuthorizeDevice(ctx, cliApp, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	kas.AdvanceClock(300 * time.Second)
	if _, err := c.PollDeviceToken(ctx, cliApp, d.DeviceCode); OAuthErrorCode(err) != OAuthExpiredToken {
		t.Errorf("expired: %v", err)
	}
	if _, err := c.PollDeviceToken(ctx, cliApp, d.DeviceCode); OAuthErrorCode(err) != OAuthInvalidGrant {
		t.Errorf("after expiry: %v", err)
	}
	// Grape's own errors have no OAuth code.
	ro, _ := newTestClient(t, kas, PrivateToken("glpat-readonly"))
	_, err = ro.CreatePersonalAccessToken(ctx, NewPersonalAccessToken{Name: "x", Scopes: []string{"k8s_proxy"}})
	if OAuthErrorCode(err) != OAuthInsufficientScope {
		t.Errorf("read_api mint: %v", err)
	}
	if _, err := ro.ProjectAgents(ctx, "nope"); OAuthErrorCode(err) != "" {
		t.Errorf("a Grape message got an OAuth code: %v", err)
	}

	for _, mode := range []string{testkas.DeviceGrantFlagOff, testkas.DeviceGrantAbsent} {
		old := testkas.Start(t, testkas.Config{DeviceGrant: mode, OAuthApps: []testkas.OAuthApp{{ClientID: cliApp}}})
		c, _ := newTestClient(t, old, Auth{})
		var apiErr *APIError
		if _, err := c.AuthorizeDevice(ctx, cliApp, []string{"api"}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
			t.Errorf("%s: %v", mode, err)
		}
	}
}
