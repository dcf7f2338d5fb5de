package testkas

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The conformance tests of GitLab's OAuth side (oauth.go names the code
// each answer follows) that docs/conformance.md cites.

const (
	cliApp      = "cli-app-id"
	otherApp    = "other-app-id"
	secretApp   = "confidential-app-id"
	readOnlyApp = "read-only-app-id"
)

func oauthConfig() Config {
	cfg := gitlabConfig()
	cfg.OAuthApps = []OAuthApp{
		{ClientID: cliApp}, {ClientID: otherApp},
		{ClientID: secretApp, Confidential: true},
		{ClientID: readOnlyApp, Scopes: []string{"read_api"}},
	}
	cfg.Users = []User{{ID: 5, Username: "alice", Agents: []int64{1234}}, {ID: 6, Username: "rita", Role: "reporter"}}
	return cfg
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

// doorkeeperTexts are config/locales/en.yml's doorkeeper.errors.messages
// (doorkeeper-gem/doorkeeper); the device grant's codes have no entry and
// get server_error's.
var doorkeeperTexts = map[string]string{
	"invalid_client":         "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
	"invalid_grant":          "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
	"invalid_scope":          "The requested scope is invalid, unknown, or malformed.",
	"invalid_request":        "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
	"unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
}

// oauthBody is Doorkeeper's error body for a code.
func oauthBody(code string) string {
	text, ok := doorkeeperTexts[code]
	if !ok {
		text = "The authorization server encountered an unexpected condition which prevented it from fulfilling the request."
	}
	return `{"error":"` + code + `","error_description":"` + text + `"}`
}

const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// authorize starts a device authorization for app and returns its answer.
func authorize(t *testing.T, s *Server, app string) (deviceCode, userCode string) {
	t.Helper()
	return authorizeScope(t, s, app, "api")
}

// authorizeScope is authorize asking for scope.
func authorizeScope(t *testing.T, s *Server, app, scope string) (deviceCode, userCode string) {
	t.Helper()
	_, body := exchange{name: "authorize_device", method: "POST", url: "/oauth/authorize_device", header: formHeader,
		body: form("client_id", app, "scope", scope), status: 200}.check(t, s, s.URL)
	var d struct{ DeviceCode, UserCode string }
	var raw map[string]any
	json.Unmarshal([]byte(body), &raw)
	d.DeviceCode, _ = raw["device_code"].(string)
	d.UserCode, _ = raw["user_code"].(string)
	return d.DeviceCode, d.UserCode
}

func poll(name, app, deviceCode string, status int, exact string) exchange {
	return exchange{name: name, method: "POST", url: "/oauth/token", header: formHeader,
		body: form("grant_type", deviceGrantType, "device_code", deviceCode, "client_id", app), status: status, exact: exact}
}

func TestDeviceAuthorizationGrant(t *testing.T) {
	s := Start(t, oauthConfig())
	host := strings.TrimPrefix(s.URL, "https://")
	noStore := map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "Content-Type": "application/json; charset=utf-8"}
	for _, x := range []exchange{
		{name: "unknown client", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", "nope"), status: 401,
			headers: map[string]string{"WWW-Authenticate": `Bearer realm="Doorkeeper", error="invalid_client", error_description="` + doorkeeperTexts["invalid_client"] + `"`},
			exact:   oauthBody("invalid_client")},
		{name: "a confidential application needs its secret", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", secretApp), status: 401, exact: oauthBody("invalid_client")},
		{name: "a scope the application lacks", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", cliApp, "scope", "api sudo"), status: 400, exact: oauthBody("invalid_scope")},
		{name: "the default scope (api) the application lacks", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", readOnlyApp), status: 400, exact: oauthBody("invalid_scope")},
		{name: "GET is no route", url: "/oauth/authorize_device", status: 404},
	} {
		x.check(t, s, s.URL)
	}

	_, body := exchange{name: "authorize", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", cliApp, "scope", "api"),
		status: 200, headers: noStore}.check(t, s, s.URL)
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	code, _ := d["user_code"].(string)
	device, _ := d["device_code"].(string)
	want := `{"device_code":"` + device + `","user_code":"` + code + `","verification_uri":"https://` + host + `/oauth/device",` +
		`"verification_uri_complete":"https://` + host + `/oauth/device?user_code=` + code + `","expires_in":300,"interval":5}`
	if body != want || len(code) != 8 || strings.ToUpper(code) != code || device == "" {
		t.Errorf("authorize_device body\n%s\nwant\n%s", body, want)
	}
	if got := s.UserCodes(); len(got) != 1 || got[0] != code {
		t.Errorf("UserCodes = %v", got)
	}

	poll("first poll: pending", cliApp, device, 400, oauthBody("authorization_pending")).check(t, s, s.URL)
	poll("within the interval: slow_down", cliApp, device, 400, oauthBody("slow_down")).check(t, s, s.URL)
	s.AdvanceClock(4 * time.Second)
	poll("slow_down does not move the last poll", cliApp, device, 400, oauthBody("slow_down")).check(t, s, s.URL)
	s.AdvanceClock(time.Second)
	poll("after the interval: pending", cliApp, device, 400, oauthBody("authorization_pending")).check(t, s, s.URL)
	poll("another application's device code", otherApp, device, 400, oauthBody("invalid_grant")).check(t, s, s.URL)
	poll("no client", "", device, 401, oauthBody("invalid_client")).check(t, s, s.URL)
	if err := s.Approve("nope", ""); err == nil {
		t.Errorf("approved an unknown code")
	}
	if err := s.Approve(strings.ToLower(code), "alice"); err != nil {
		t.Fatal(err)
	}
	if len(s.UserCodes()) != 0 {
		t.Errorf("an approved code still waits")
	}
	s.AdvanceClock(5 * time.Second)
	_, body = poll("approved", cliApp, device, 200, "").check(t, s, s.URL)
	var tok map[string]any
	json.Unmarshal([]byte(body), &tok)
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	if want := `{"access_token":"` + access + `","token_type":"Bearer","expires_in":7200,"refresh_token":"` + refresh + `","scope":"api","created_at":`; !strings.HasPrefix(body, want) || access == "" || refresh == "" {
		t.Errorf("token body %s", body)
	}
	s.AdvanceClock(5 * time.Second)
	poll("the device code is used up", cliApp, device, 400, oauthBody("invalid_grant")).check(t, s, s.URL)
	exchange{name: "the access token works for its user", url: "/api/v4/user", header: bearer(access), status: 200, has: []string{`"username":"alice"`}}.check(t, s, s.URL)

	// Expiry: the first poll after 300 s is expired_token and destroys the
	// grant; later polls are invalid_grant.
	device, _ = authorize(t, s, cliApp)
	s.AdvanceClock(300 * time.Second)
	poll("expired", cliApp, device, 400, oauthBody("expired_token")).check(t, s, s.URL)
	s.AdvanceClock(5 * time.Second)
	poll("after expiry", cliApp, device, 400, oauthBody("invalid_grant")).check(t, s, s.URL)

	// The access_denied knob.
	device, code = authorize(t, s, cliApp)
	if err := s.Deny(code); err != nil {
		t.Fatal(err)
	}
	poll("denied", cliApp, device, 400, oauthBody("access_denied")).check(t, s, s.URL)
	exchange{name: "unknown grant type", method: "POST", url: "/oauth/token", header: formHeader, body: form("grant_type", "password", "client_id", cliApp),
		status: 400, exact: oauthBody("unsupported_grant_type")}.check(t, s, s.URL)

	// Older GitLab.
	off := Start(t, Config{DeviceGrant: DeviceGrantFlagOff, OAuthApps: oauthConfig().OAuthApps})
	exchange{name: "17.2, flag off: an empty 204", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", cliApp), status: 204, empty: true}.check(t, off, off.URL)
	absent := Start(t, Config{DeviceGrant: DeviceGrantAbsent, OAuthApps: oauthConfig().OAuthApps})
	exchange{name: "before 17.2: no route", method: "POST", url: "/oauth/authorize_device", header: formHeader, body: form("client_id", cliApp), status: 404,
		has: []string{"could not be found"}}.check(t, absent, absent.URL)
}

// deviceToken runs a device flow to the end for username.
func deviceToken(t *testing.T, s *Server, username string) (access, refresh string) {
	t.Helper()
	device, code := authorize(t, s, cliApp)
	if err := s.Approve(code, username); err != nil {
		t.Fatal(err)
	}
	_, body := poll("approved", cliApp, device, 200, "").check(t, s, s.URL)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal([]byte(body), &tok)
	return tok.AccessToken, tok.RefreshToken
}

func TestOAuthRefreshAndRevoke(t *testing.T) {
	s := Start(t, oauthConfig())
	access, refresh := deviceToken(t, s, "alice")
	refreshBody := func(token, app string) string {
		return form("grant_type", "refresh_token", "refresh_token", token, "client_id", app)
	}

	for _, x := range []exchange{
		{name: "no refresh token", method: "POST", url: "/oauth/token", header: formHeader, body: form("grant_type", "refresh_token", "client_id", cliApp), status: 400, exact: oauthBody("invalid_request")},
		{name: "unknown refresh token", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody("nope", cliApp), status: 400, exact: oauthBody("invalid_grant")},
		{name: "another application", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(refresh, otherApp), status: 400, exact: oauthBody("invalid_grant")},
		{name: "unknown client", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(refresh, "nope"), status: 401, exact: oauthBody("invalid_client")},
	} {
		x.check(t, s, s.URL)
	}
	_, body := exchange{name: "refresh", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(refresh, cliApp), status: 200, has: []string{`"scope":"api"`}}.check(t, s, s.URL)
	var next struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal([]byte(body), &next)
	if next.AccessToken == access || next.RefreshToken == refresh {
		t.Fatalf("refresh gave the same tokens")
	}
	// The old refresh token lasts until the new access token is used.
	exchange{name: "the old refresh token, before the new access token is used", method: "POST", url: "/oauth/token", header: formHeader,
		body: refreshBody(refresh, cliApp), status: 200}.check(t, s, s.URL)
	exchange{name: "use the new access token", url: "/api/v4/user", header: bearer(next.AccessToken), status: 200}.check(t, s, s.URL)
	exchange{name: "the old refresh token, after", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(refresh, cliApp), status: 400, exact: oauthBody("invalid_grant")}.check(t, s, s.URL)

	s.AdvanceClock(7200 * time.Second)
	exchange{name: "an access token after 2 hours", url: "/api/v4/user", header: bearer(next.AccessToken), status: 401, exact: expiredBody}.check(t, s, s.URL)

	unauthorized := `{"error":"unauthorized_client","error_description":"You are not authorized to revoke this token"}`
	for _, x := range []exchange{
		{name: "revoke without a client", method: "POST", url: "/oauth/revoke", header: formHeader, body: form("token", next.RefreshToken), status: 403, exact: unauthorized},
		{name: "revoke with an unknown client", method: "POST", url: "/oauth/revoke", header: formHeader, body: form("token", next.RefreshToken, "client_id", "nope"), status: 403, exact: unauthorized},
		{name: "revoke a token GitLab does not know", method: "POST", url: "/oauth/revoke", header: formHeader, body: form("token", "nope", "client_id", cliApp), status: 200, exact: `{}`},
		{name: "revoke the refresh token", method: "POST", url: "/oauth/revoke", header: formHeader, body: form("token", next.RefreshToken, "client_id", cliApp), status: 200, exact: `{}`},
		{name: "a revoked refresh token", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(next.RefreshToken, cliApp), status: 400, exact: oauthBody("invalid_grant")},
	} {
		x.check(t, s, s.URL)
	}
	// Revoking an access token revokes the row, its refresh token too.
	access, refresh = deviceToken(t, s, "alice")
	exchange{name: "revoke the access token", method: "POST", url: "/oauth/revoke", header: formHeader, body: form("token", access, "client_id", cliApp), status: 200, exact: `{}`}.check(t, s, s.URL)
	exchange{name: "the revoked access token", url: "/api/v4/user", header: bearer(access), status: 401, exact: revokedBody}.check(t, s, s.URL)
	exchange{name: "its refresh token", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(refresh, cliApp), status: 400, exact: oauthBody("invalid_grant")}.check(t, s, s.URL)
	for _, tok := range s.OAuthTokens() {
		if tok.AccessToken == access && !tok.Revoked {
			t.Errorf("OAuthTokens does not show the revocation")
		}
	}
}

func TestCreatePersonalAccessToken(t *testing.T) {
	cfg := oauthConfig()
	s := Start(t, cfg)
	access, _ := deviceToken(t, s, "alice")
	today := time.Now().UTC()
	tomorrow := today.AddDate(0, 0, 1).Format(time.DateOnly)
	limit := today.AddDate(0, 0, 365).Format(time.DateOnly)
	mint := "/api/v4/user/personal_access_tokens"
	for _, x := range []exchange{
		{name: "no token", method: "POST", url: mint, header: formHeader, body: form("name", "x", "scopes", "k8s_proxy"), status: 401, exact: body401},
		{name: "read_api", method: "POST", url: mint, header: privateToken(readAPIPAT), body: form("name", "x", "scopes", "k8s_proxy"), status: 403, exact: scopeBody("api read_api")},
		{name: "k8s_proxy", method: "POST", url: mint, header: privateToken(k8sProxyPAT), body: form("name", "x", "scopes", "k8s_proxy"), status: 403, exact: scopeBody("api read_api")},
		{name: "job token", method: "POST", url: mint, header: jobTokenHeader(jobTok), body: form("name", "x", "scopes", "k8s_proxy"), status: 401, exact: body401},
		{name: "nothing given", method: "POST", url: mint, header: bearer(access), status: 400, exact: `{"error":"name is missing, scopes is missing"}`},
		{name: "another scope", method: "POST", url: mint, header: bearer(access), body: form("name", "x", "scopes", "k8s_proxy,api"), status: 400, exact: `{"error":"scopes does not have a valid value"}`},
		{name: "a bad date", method: "POST", url: mint, header: bearer(access), body: form("name", "x", "scopes[]", "k8s_proxy", "expires_at", "31.12.2026"), status: 400, exact: `{"error":"expires_at is invalid"}`},
		{name: "an empty name", method: "POST", url: mint, header: bearer(access), body: form("name", "", "scopes", "k8s_proxy"), status: 422, exact: `{"message":"Name can't be blank"}`},
		{name: "past the instance's maximum", method: "POST", url: mint, header: bearer(access), body: form("name", "x", "scopes", "k8s_proxy", "expires_at", today.AddDate(0, 0, 366).Format(time.DateOnly)),
			status: 422, exact: `{"message":"Expires at must be before ` + limit + `"}`},
	} {
		x.check(t, s, s.URL)
	}
	if s.Mints() != 0 {
		t.Fatalf("refused requests minted %d tokens", s.Mints())
	}

	_, body := exchange{name: "the default expiry: tomorrow", method: "POST", url: mint, header: bearer(access), body: form("name", "laptop", "scopes", "k8s_proxy", "description", "d"),
		status: 201, has: []string{`"name":"laptop"`, `"scopes":["k8s_proxy"]`, `"user_id":5`, `"active":true`, `"expires_at":"` + tomorrow + `"`, `"token":"glpat-`}}.check(t, s, s.URL)
	var minted struct{ Token string }
	json.Unmarshal([]byte(body), &minted)
	exchange{name: "JSON body, the maximum", method: "POST", url: mint, header: http.Header{"Authorization": {"Bearer " + access}, "Content-Type": {"application/json"}},
		body: `{"name":"json","scopes":["k8s_proxy"],"expires_at":"` + limit + `"}`, status: 201, has: []string{`"expires_at":"` + limit + `"`}}.check(t, s, s.URL)
	exchange{name: "an api PAT may mint too", method: "POST", url: mint, header: privateToken(apiPAT), body: form("name", "x", "scopes[]", "k8s_proxy"), status: 201}.check(t, s, s.URL)
	if s.Mints() != 3 || s.MintedTokens()[0].Token != minted.Token || s.MintedTokens()[0].Username != "alice" {
		t.Errorf("Mints = %d, MintedTokens = %v", s.Mints(), s.MintedTokens())
	}
	// The minted token is alice's: KAS lets it reach her agent.
	exchange{name: "the minted token describes itself", url: "/api/v4/personal_access_tokens/self", header: privateToken(minted.Token), status: 200,
		has: []string{`"scopes":["k8s_proxy"]`}}.check(t, s, s.URL)
	if got := s.MintedTokens()[0].Agents; len(got) != 1 || got[0] != 1234 {
		t.Errorf("the minted token's agents: %v", got)
	}

	forbidden := Start(t, Config{OAuthApps: cfg.OAuthApps, Users: cfg.Users, PATCreationForbidden: true, PATs: cfg.PATs})
	exchange{name: "not permitted", method: "POST", url: mint, header: privateToken(apiPAT), body: form("name", "x", "scopes", "k8s_proxy"), status: 422,
		exact: `{"message":"Not permitted to create"}`}.check(t, forbidden, forbidden.URL)
}

func TestRevokePersonalAccessTokenSelf(t *testing.T) {
	s := Start(t, oauthConfig())
	access, _ := deviceToken(t, s, "alice")
	for _, x := range []exchange{
		{name: "an OAuth token is not a PAT (GET)", url: "/api/v4/personal_access_tokens/self", header: bearer(access), status: 400,
			exact: `{"message":"400 Bad request - This endpoint requires token type to be a personal access token"}`},
		{name: "an OAuth token is not a PAT (DELETE)", method: "DELETE", url: "/api/v4/personal_access_tokens/self", header: bearer(access), status: 400,
			exact: `{"message":"400 Bad request - This endpoint requires token type to be a personal access token"}`},
		{name: "a k8s_proxy token revokes itself", method: "DELETE", url: "/api/v4/personal_access_tokens/self", header: privateToken(k8sProxyPAT), status: 204, empty: true},
		{name: "then it is revoked", method: "DELETE", url: "/api/v4/personal_access_tokens/self", header: privateToken(k8sProxyPAT), status: 401, exact: revokedBody},
		{name: "an expired one cannot", method: "DELETE", url: "/api/v4/personal_access_tokens/self", header: privateToken(expiredPAT), status: 401, exact: expiredBody},
		{name: "GET /user with read_user's absence: k8s_proxy", url: "/api/v4/user", header: privateToken(rotatablePAT), status: 403, exact: scopeBody("read_user api read_api")},
		{name: "GET /user with a PAT", url: "/api/v4/user", header: privateToken(readAPIPAT), status: 200,
			exact: `{"id":5,"username":"alice","name":"alice","state":"active","locked":false,"avatar_url":null,"web_url":"` + s.URL + `/alice"}`},
	} {
		x.check(t, s, s.URL)
	}
}

// TestOAuthRefreshNarrowsForGood: Doorkeeper's RefreshTokenRequest takes
// a scope only within the refresh token's own (ScopeChecker against
// refresh_token.scopes): read_api is not within api, so login --web's
// api token cannot be narrowed at all. A token granted "api read_api"
// can, but the new row, its refresh token included, keeps only the
// narrowed scopes: the api that minting needs is gone for good. That is
// why the plugin refreshes without a scope.
func TestOAuthRefreshNarrowsForGood(t *testing.T) {
	cfg := oauthConfig()
	cfg.OAuthApps[0].Scopes = []string{"api", "read_api"}
	s := Start(t, cfg)
	refreshBody := func(token, scope string) string {
		return form("grant_type", "refresh_token", "refresh_token", token, "client_id", cliApp, "scope", scope)
	}
	_, apiOnly := deviceToken(t, s, "alice")
	exchange{name: "read_api from an api token", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(apiOnly, "read_api"), status: 400, exact: oauthBody("invalid_scope")}.check(t, s, s.URL)

	device, code := authorizeScope(t, s, cliApp, "api read_api")
	s.Approve(code, "alice")
	_, body := poll("approved", cliApp, device, 200, "").check(t, s, s.URL)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal([]byte(body), &tok)
	exchange{name: "a wider scope", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(tok.RefreshToken, "api sudo"), status: 400, exact: oauthBody("invalid_scope")}.check(t, s, s.URL)
	_, body = exchange{name: "narrowed to read_api", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(tok.RefreshToken, "read_api"), status: 200, has: []string{`"scope":"read_api"`}}.check(t, s, s.URL)
	json.Unmarshal([]byte(body), &tok)
	exchange{name: "the narrowed token reads metadata", url: "/api/v4/metadata", header: bearer(tok.AccessToken), status: 200}.check(t, s, s.URL)
	exchange{name: "but may not mint", method: "POST", url: "/api/v4/user/personal_access_tokens", header: bearer(tok.AccessToken),
		body: "name=x&scopes[]=k8s_proxy", status: 403, exact: scopeBody("api read_api")}.check(t, s, s.URL)
	exchange{name: "nor may its refresh token get api back", method: "POST", url: "/oauth/token", header: formHeader, body: refreshBody(tok.RefreshToken, "api"), status: 400, exact: oauthBody("invalid_scope")}.check(t, s, s.URL)
	if s.Refreshes() != 1 {
		t.Errorf("Refreshes() = %d, want 1", s.Refreshes())
	}
}

// TestOAuthTokenReadsTheAPI: an OAuth access token is its user on
// GraphQL, the agent list and /metadata, within its scopes
// (find_user_from_access_token; GraphQL's 401 Invalid token otherwise).
func TestOAuthTokenReadsTheAPI(t *testing.T) {
	cfg := DeployingProject("glpat-unused")
	cfg.OAuthApps = []OAuthApp{{ClientID: cliApp, Scopes: []string{"api", "read_api", "read_user"}}}
	cfg.Users = []User{{ID: 8, Username: "dora", Agents: []int64{1234, 9012, 5555}, ProjectRoles: map[int64]string{99: NoAccess}}}
	s := Start(t, cfg)
	token := func(scope string) string {
		device, code := authorizeScope(t, s, cliApp, scope)
		if err := s.Approve(code, "dora"); err != nil {
			t.Fatal(err)
		}
		_, body := poll("approved", cliApp, device, 200, "").check(t, s, s.URL)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal([]byte(body), &tok)
		return tok.AccessToken
	}
	readAPI, readUser := token("read_api"), token("read_user")
	query := `{"query":"{ currentUser { username } project(fullPath: \"group/app\") { userAccessAuthorizedAgents { nodes { agent { name } } } } }"}`
	jsonHeader := func(h http.Header) http.Header { h.Set("Content-Type", "application/json"); return h }
	exchange{name: "GraphQL with read_api", method: "POST", url: "/api/graphql", header: jsonHeader(bearer(readAPI)), body: query, status: 200,
		has: []string{`"username":"dora"`, `"name":"prod"`, `"name":"hidden"`}}.check(t, s, s.URL)
	exchange{name: "GraphQL with read_user", method: "POST", url: "/api/graphql", header: jsonHeader(bearer(readUser)), body: query, status: 401,
		has: []string{"Invalid token"}}.check(t, s, s.URL)
	exchange{name: "cluster_agents with read_api", url: "/api/v4/projects/group%2Fagents/cluster_agents", header: bearer(readAPI), status: 200, has: []string{`"name":"prod"`}}.check(t, s, s.URL)
	exchange{name: "metadata with read_user", url: "/api/v4/metadata", header: bearer(readUser), status: 200, has: []string{`"externalK8sProxyUrl"`}}.check(t, s, s.URL)
}
