package testkas

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// GitLab's OAuth 2.0 provider as login --web meets it, and the token
// endpoints around it. Sources (gitlabhq/gitlabhq unless named):
//   - the device authorization grant: the gem
//     exop-group/doorkeeper-device_authorization_grant
//     (lib/doorkeeper/device_authorization_grant/oauth/device_authorization_request.rb,
//     device_authorization_response.rb, device_code_request.rb, errors.rb,
//     orm/active_record/device_grant_mixin.rb, oauth/helpers/user_code.rb),
//     mounted by config/routes.rb and configured by
//     config/initializers/doorkeeper_device_authorization_grant.rb
//     (17.2 behind oauth2_device_grant_flow, on since 17.3, GA in 17.9);
//   - tokens, refresh and revocation: doorkeeper-gem/doorkeeper
//     (app/controllers/doorkeeper/tokens_controller.rb,
//     lib/doorkeeper/oauth/refresh_token_request.rb, error_response.rb,
//     token_response.rb, config/locales/en.yml), as
//     app/controllers/oauth/tokens_controller.rb and
//     config/initializers/doorkeeper.rb (access_token_expires_in 7200,
//     use_refresh_token, default scope api) configure it;
//   - OAuth access tokens on the REST API: lib/gitlab/auth/auth_finders.rb
//     (find_oauth_access_token, revoke_previous_refresh_token!).

// OAuthApp is an OAuth application registered in GitLab (User settings →
// Applications). login --web needs a public one: Doorkeeper lets a
// client in on its client_id alone only when it is not confidential.
type OAuthApp struct {
	ClientID string
	// Confidential: the application authenticates with a secret, which
	// a command-line tool cannot keep.
	Confidential bool
	// Scopes the application may grant; nil means api.
	Scopes []string
}

// User is a GitLab user who approves device codes in the browser. The
// personal access tokens minted for them carry their Agents and Role
// (what KAS's authorize_proxy_user looks at).
type User struct {
	ID       int64
	Username string
	Agents   []int64
	Role     string
	// ProjectRoles overrides Role in the projects it names (by ID), as
	// PAT.ProjectRoles does.
	ProjectRoles map[int64]string
}

// asViewer is the user as GraphQL and the REST handlers that take either
// token look at it: a PAT-shaped identity with the token's scopes.
func (u User) asViewer(scopes []string) *PAT {
	return &PAT{UserID: u.ID, Username: u.Username, Scopes: scopes, Agents: u.Agents, Role: u.Role, ProjectRoles: u.ProjectRoles}
}

// Device grant availability (Config.DeviceGrant), by GitLab version.
const (
	DeviceGrantOn      = ""        // 17.3+
	DeviceGrantFlagOff = "flagoff" // 17.2 with oauth2_device_grant_flow off: Oauth::DeviceCodesController#create returns without rendering, an empty 204
	DeviceGrantAbsent  = "absent"  // before 17.2: no route, Rails' 404 page
)

// Defaults of the device grant gem (GitLab's initializer keeps them) and
// of Doorkeeper's access tokens.
const (
	defaultDevicePollInterval  = 5 * time.Second
	defaultDeviceCodeExpiresIn = 300 * time.Second
	accessTokenExpiresIn       = 7200 * time.Second
	defaultPATMaxLifetimeDays  = 365 // PersonalAccessToken.max_expiration_lifetime_in_days
)

// deviceGrant is an oauth_device_grants row.
type deviceGrant struct {
	deviceCode, userCode string // userCode is cleared on approval
	clientID             string
	scopes               []string
	created, lastPoll    time.Time
	owner                *User
	denied               bool
}

// oauthToken is an oauth_access_tokens row: an access token and its
// refresh token, revoked together.
type oauthToken struct {
	access, refresh string
	clientID        string
	scopes          []string
	user            User
	created         time.Time
	revoked         bool
	// previous is the row this one was refreshed from: GitLab revokes it
	// when this access token is first used (revoke_previous_refresh_token!).
	previous *oauthToken
}

// oauthState is what the OAuth side of testkas remembers; guarded by
// Server.mu.
type oauthState struct {
	clock  time.Duration // AdvanceClock's offset
	grants []*deviceGrant
	tokens []*oauthToken
	minted []string // tokens made by POST /user/personal_access_tokens
	// refreshes counts the refresh_token grants answered with a token.
	refreshes int
}

// now is the OAuth side's clock: device codes, polling, access tokens
// and the dates of minted tokens.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.oauth.clock) }

// AdvanceClock moves the OAuth clock forward, so that tests need not wait
// for poll intervals, code expiry or access-token lifetimes.
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.clock += d
}

// UserCodes lists the user codes of device authorizations that wait for a
// person, oldest first (what the person would type in the browser).
func (s *Server) UserCodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var codes []string
	for _, g := range s.oauth.grants {
		if g.userCode != "" && !g.denied {
			codes = append(codes, g.userCode)
		}
	}
	return codes
}

// Approve is the person of username (the first Config.User when empty)
// entering userCode in the browser and authorizing
// (Oauth::DeviceAuthorizationsController#authorize: sets the owner,
// clears the user code; an expired code is refused).
func (s *Server) Approve(userCode, username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantByUserCode(userCode)
	switch {
	case g == nil:
		return fmt.Errorf("the user code is invalid")
	case s.expiredLocked(g):
		return fmt.Errorf("the user code is expired")
	}
	for i := range s.cfg.Users {
		if u := s.cfg.Users[i]; username == "" || u.Username == username {
			g.owner, g.userCode = &u, ""
			return nil
		}
	}
	return fmt.Errorf("no user %q in Config.Users", username)
}

// Deny makes the next poll of userCode's device code answer
// access_denied. GitLab has no deny action (a person who does not approve
// lets the code expire); RFC 8628 §3.5 defines the answer and other
// servers send it.
func (s *Server) Deny(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.grantByUserCode(userCode); g != nil {
		g.denied = true
		return nil
	}
	return fmt.Errorf("the user code is invalid")
}

func (s *Server) grantByUserCode(code string) *deviceGrant {
	for _, g := range s.oauth.grants {
		if code != "" && strings.EqualFold(g.userCode, code) {
			return g
		}
	}
	return nil
}

// Refreshes counts the successful refresh_token grants.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauth.refreshes
}

// Mints counts the personal access tokens POST /user/personal_access_tokens made.
func (s *Server) Mints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.oauth.minted)
}

// MintedTokens are the personal access tokens POST
// /user/personal_access_tokens made, oldest first, as they are now
// (revoked or not).
func (s *Server) MintedTokens() []PAT {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PAT
	for _, token := range s.oauth.minted {
		if p := findPAT(&s.cfg, token); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// OAuthToken is an OAuth access token as testkas knows it.
type OAuthToken struct {
	AccessToken, RefreshToken, ClientID string
	Scopes                              []string
	Username                            string
	Revoked                             bool
}

// OAuthTokens are the OAuth tokens issued, oldest first.
func (s *Server) OAuthTokens() []OAuthToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OAuthToken
	for _, t := range s.oauth.tokens {
		out = append(out, OAuthToken{AccessToken: t.access, RefreshToken: t.refresh, ClientID: t.clientID,
			Scopes: append([]string(nil), t.scopes...), Username: t.user.Username, Revoked: t.revoked})
	}
	return out
}

// serveOAuth answers /oauth/authorize_device, /oauth/token and
// /oauth/revoke (POST only; anything else is Rails' 404 page).
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		gitlabPageNotFound(w)
		return
	}
	params, err := requestParams(r)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	switch r.URL.Path {
	case "/oauth/authorize_device":
		s.authorizeDevice(w, r, params)
	case "/oauth/token":
		s.oauthTokenEndpoint(w, params)
	case "/oauth/revoke":
		s.revokeOAuth(w, params)
	default:
		gitlabPageNotFound(w)
	}
}

// Doorkeeper's error texts (config/locales/en.yml); the device grant's
// own codes have none, so I18n falls back to server_error's.
var oauthDescriptions = map[string]string{
	"invalid_client":         "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
	"invalid_grant":          "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
	"invalid_scope":          "The requested scope is invalid, unknown, or malformed.",
	"invalid_request":        "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
	"unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
	"unauthorized_client":    "You are not authorized to revoke this token",
	"server_error":           "The authorization server encountered an unexpected condition which prevented it from fulfilling the request.",
}

// oauthError is Doorkeeper's ErrorResponse: no-store, a Bearer challenge
// with realm "Doorkeeper", and {"error","error_description"}.
func oauthError(w http.ResponseWriter, status int, code string) {
	description, ok := oauthDescriptions[code]
	if !ok {
		description = oauthDescriptions["server_error"]
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="`+code+`", error_description="`+description+`"`)
	writeOAuthJSON(w, status, object{{"error", code}, {"error_description", description}})
}

// writeOAuthJSON is a Doorkeeper JSON answer (render json:).
func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	body, _ := marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// app is Doorkeeper's server.client: the application of client_id, when
// it authenticates (a confidential one needs its secret, which testkas
// never has).
func app(cfg Config, params url.Values) *OAuthApp {
	id := params.Get("client_id")
	for i := range cfg.OAuthApps {
		if a := &cfg.OAuthApps[i]; id != "" && a.ClientID == id && !a.Confidential {
			return a
		}
	}
	return nil
}

// appScopes are the scopes an application may grant (api when unset).
func appScopes(a *OAuthApp) []string {
	if a.Scopes == nil {
		return []string{"api"}
	}
	return a.Scopes
}

// authorizeDevice is POST /oauth/authorize_device
// (DeviceAuthorizationRequest#authorize): client, then scopes (the
// request's, else Doorkeeper's default api, all within the
// application's); expired grants are swept; the answer's verification
// URI is built from the request's host.
func (s *Server) authorizeDevice(w http.ResponseWriter, r *http.Request, params url.Values) {
	cfg := s.config()
	switch cfg.DeviceGrant {
	case DeviceGrantAbsent:
		gitlabPageNotFound(w)
		return
	case DeviceGrantFlagOff:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	a := app(cfg, params)
	if a == nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	scopes := strings.Fields(params.Get("scope"))
	if len(scopes) == 0 {
		scopes = []string{"api"}
	}
	for _, sc := range scopes {
		if !slices.Contains(appScopes(a), sc) {
			oauthError(w, http.StatusBadRequest, "invalid_scope")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.grants = slices.DeleteFunc(s.oauth.grants, s.expiredLocked) // destroy_expired_device_grants!
	g := &deviceGrant{deviceCode: randomToken(32), userCode: userCode(), clientID: a.ClientID, scopes: scopes, created: s.nowLocked()}
	s.oauth.grants = append(s.oauth.grants, g)
	verification := "https://" + r.Host + "/oauth/device"
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	writeOAuthJSON(w, http.StatusOK, object{{"device_code", g.deviceCode}, {"user_code", g.userCode},
		{"verification_uri", verification}, {"verification_uri_complete", verification + "?user_code=" + g.userCode},
		{"expires_in", int64(s.deviceExpiresIn() / time.Second)}, {"interval", int64(s.pollInterval() / time.Second)}})
}

func (s *Server) pollInterval() time.Duration {
	if s.cfg.DevicePollInterval > 0 {
		return s.cfg.DevicePollInterval
	}
	return defaultDevicePollInterval
}

func (s *Server) deviceExpiresIn() time.Duration {
	if s.cfg.DeviceCodeExpiresIn > 0 {
		return s.cfg.DeviceCodeExpiresIn
	}
	return defaultDeviceCodeExpiresIn
}

// expiredLocked is Doorkeeper::Models::Expirable#expired? of a device
// grant.
func (s *Server) expiredLocked(g *deviceGrant) bool {
	return !s.nowLocked().Before(g.created.Add(s.deviceExpiresIn()))
}

// oauthTokenEndpoint is POST /oauth/token for the two grant types the
// plugin uses; any other is unsupported_grant_type.
func (s *Server) oauthTokenEndpoint(w http.ResponseWriter, params url.Values) {
	switch params.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.deviceToken(w, params)
	case "refresh_token":
		s.refreshToken(w, params)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// deviceToken is DeviceCodeRequest: the client, the grant (another
// application's is invalid_grant), then before_successful_response:
// expired (the grant is destroyed, so the next poll is invalid_grant),
// too fast (last_polling_at within the interval; not updated), the poll
// time recorded, still pending; success destroys the grant.
func (s *Server) deviceToken(w http.ResponseWriter, params url.Values) {
	cfg := s.config()
	a := app(cfg, params)
	if a == nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.oauth.grants, func(g *deviceGrant) bool { return g.deviceCode == params.Get("device_code") })
	if i < 0 || s.oauth.grants[i].clientID != a.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	g := s.oauth.grants[i]
	now := s.nowLocked()
	destroy := func() { s.oauth.grants = slices.Delete(s.oauth.grants, i, i+1) }
	switch {
	case s.expiredLocked(g):
		destroy()
		oauthError(w, http.StatusBadRequest, "expired_token")
		return
	case !g.lastPoll.IsZero() && g.lastPoll.After(now.Add(-s.pollInterval())):
		oauthError(w, http.StatusBadRequest, "slow_down")
		return
	}
	g.lastPoll = now
	switch {
	case g.denied:
		destroy()
		oauthError(w, http.StatusBadRequest, "access_denied")
		return
	case g.owner == nil:
		oauthError(w, http.StatusBadRequest, "authorization_pending")
		return
	}
	destroy()
	s.issueLocked(w, a.ClientID, *g.owner, g.scopes, nil)
}

// refreshToken is RefreshTokenRequest: the refresh token (missing:
// invalid_request; unknown or revoked: invalid_grant), the client
// (unknown: invalid_client), the same application (else invalid_grant),
// then the scope: a "scope" parameter may only narrow the refresh
// token's scopes (validate_scope; else invalid_scope), and the new row —
// its refresh token too — has the narrowed scopes (access_token_attributes).
// The old row stays usable until the new access token is first used.
func (s *Server) refreshToken(w http.ResponseWriter, params url.Values) {
	refresh := params.Get("refresh_token")
	if refresh == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	cfg := s.config()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tokenLocked(func(t *oauthToken) bool { return t.refresh == refresh })
	if old == nil || old.revoked {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	a := app(cfg, params)
	switch {
	case params.Get("client_id") != "" && a == nil:
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	case a != nil && a.ClientID != old.clientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	scopes := old.scopes
	if asked := strings.Fields(params.Get("scope")); len(asked) > 0 {
		for _, sc := range asked {
			if !slices.Contains(old.scopes, sc) {
				oauthError(w, http.StatusBadRequest, "invalid_scope")
				return
			}
		}
		scopes = asked
	}
	s.oauth.refreshes++
	s.issueLocked(w, old.clientID, old.user, scopes, old)
}

// issueLocked creates an access token and answers with Doorkeeper's
// TokenResponse body (blank values dropped; created_at in Unix seconds).
func (s *Server) issueLocked(w http.ResponseWriter, clientID string, user User, scopes []string, previous *oauthToken) {
	t := &oauthToken{access: randomToken(32), refresh: randomToken(32), clientID: clientID, scopes: scopes, user: user,
		created: s.nowLocked(), previous: previous}
	s.oauth.tokens = append(s.oauth.tokens, t)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeOAuthJSON(w, http.StatusOK, object{{"access_token", t.access}, {"token_type", "Bearer"},
		{"expires_in", int64(accessTokenExpiresIn / time.Second)}, {"refresh_token", t.refresh},
		{"scope", strings.Join(scopes, " ")}, {"created_at", t.created.Unix()}})
}

func (s *Server) tokenLocked(match func(*oauthToken) bool) *oauthToken {
	for _, t := range s.oauth.tokens {
		if match(t) {
			return t
		}
	}
	return nil
}

// revokeOAuth is POST /oauth/revoke (RFC 7009; TokensController#revoke
// after validate_presence_of_client): no authenticated client → 403
// unauthorized_client; a token it does not know → 200 {}; a
// confidential application's token revoked by another client → 403;
// else the row (access and refresh token) is revoked → 200 {}.
func (s *Server) revokeOAuth(w http.ResponseWriter, params url.Values) {
	a := app(s.config(), params)
	if a == nil {
		writeOAuthJSON(w, http.StatusForbidden, object{{"error", "unauthorized_client"}, {"error_description", oauthDescriptions["unauthorized_client"]}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	token := params.Get("token")
	if t := s.tokenLocked(func(t *oauthToken) bool { return token != "" && (t.access == token || t.refresh == token) }); t != nil {
		t.revoked = true
	}
	writeOAuthJSON(w, http.StatusOK, object{})
}

// principal is who an API request authenticates as.
type principal struct {
	user   User
	scopes []string
	pat    *PAT        // a personal access token, or
	oauth  *oauthToken // an OAuth access token
}

// authenticateUser is authenticate! where OAuth access tokens count too
// (auth_finders.rb find_user_from_access_token: an OAuth token from
// Authorization: Bearer first, then a personal access token), with the
// same validation order: expired, revoked, scope. Using a refreshed
// token revokes the row it was refreshed from. It writes the failure and
// returns nil.
func (s *Server) authenticateUser(w http.ResponseWriter, r *http.Request, cfg Config, scopes []string) *principal {
	if t, problem := s.oauthAccess(r); problem != "" {
		invalidToken(w, problem)
		return nil
	} else if t != nil {
		if !scopeAllows(t.scopes, scopes, r) {
			insufficientScope(w, scopes)
			return nil
		}
		return &principal{user: t.user, scopes: t.scopes, oauth: t}
	}
	pat := s.authenticatePAT(w, r, cfg, scopes)
	if pat == nil {
		return nil
	}
	return &principal{user: User{ID: pat.UserID, Username: pat.Username, Agents: pat.Agents, Role: pat.Role, ProjectRoles: pat.ProjectRoles}, scopes: pat.Scopes, pat: pat}
}

// oauthAccess is find_oauth_access_token: the OAuth access token in
// Authorization: Bearer (nil when there is none, or the bearer is not
// one), or why it may not be used (expired, revoked). Using a refreshed
// token revokes the row it was refreshed from
// (revoke_previous_refresh_token!).
func (s *Server) oauthAccess(r *http.Request) (t *oauthToken, problem string) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || bearer == "" {
		return nil, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t = s.tokenLocked(func(t *oauthToken) bool { return t.access == bearer })
	switch {
	case t == nil:
		return nil, ""
	case !s.nowLocked().Before(t.created.Add(accessTokenExpiresIn)):
		return nil, expiredDescription
	case t.revoked:
		return nil, revokedDescription
	}
	if t.previous != nil {
		t.previous.revoked = true
		t.previous = nil
	}
	return t, ""
}

// oauthTokenRefused is what the personal_access_tokens/self endpoints
// answer an OAuth token in recent GitLab (self_information.rb: the token
// must be a PersonalAccessToken).
func (s *Server) oauthTokenRefused(w http.ResponseWriter, r *http.Request) bool {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || bearer == "" {
		return false
	}
	s.mu.Lock()
	t := s.tokenLocked(func(t *oauthToken) bool { return t.access == bearer })
	s.mu.Unlock()
	if t == nil {
		return false
	}
	gitlabMessage(w, http.StatusBadRequest, "400 Bad request - This endpoint requires token type to be a personal access token")
	return true
}

// userScopes: GET /user takes read_user as well (lib/api/users.rb
// allow_access_with_scope :read_user, GET only).
var userScopes = []string{"read_user", "api", "read_api"}

// currentUser is GET /user (Entities::UserPublic; GitLab sends more
// fields after these).
func (s *Server) currentUser(w http.ResponseWriter, r *http.Request, cfg Config) {
	p := s.authenticateUser(w, r, cfg, userScopes)
	if p == nil {
		return
	}
	writeGitLabJSON(w, http.StatusOK, object{{"id", p.user.ID}, {"username", p.user.Username}, {"name", p.user.Username},
		{"state", "active"}, {"locked", false}, {"avatar_url", nil}, {"web_url", s.URL + "/" + p.user.Username}})
}

// mintScopes: POST /user/personal_access_tokens is under API::Users,
// which registers read_user for GET only, so a POST needs api.
var mintScopes = []string{"api", "read_api"}

// createPAT is POST /user/personal_access_tokens (lib/api/users.rb, 16.5+):
// Grape's validation in the order the params are declared (name, scopes
// — only k8s_proxy, comma-separated or an array —, expires_at a date,
// default tomorrow) → 400 {"error":"<a>, <b>"}; then
// PersonalAccessTokens::CreateService for the current user: not allowed
// → 422 Not permitted to create; expires_at after today + the instance's
// maximum (365 days) → 422 "Expires at must be before <date>"
// (PersonalAccessToken#expires_at_before_instance_max_expiry_date); else
// 201 with Entities::PersonalAccessTokenWithToken.
func (s *Server) createPAT(w http.ResponseWriter, r *http.Request, cfg Config) {
	p := s.authenticateUser(w, r, cfg, mintScopes)
	if p == nil {
		return
	}
	params, err := requestParams(r)
	if err != nil {
		writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "The provided content-type '" + r.Header.Get("Content-Type") + "' is not supported."}})
		return
	}
	var problems []string
	name := params.Get("name")
	if _, ok := params["name"]; !ok {
		problems = append(problems, "name is missing")
	}
	scopes, given := scopesParam(params)
	switch {
	case !given:
		problems = append(problems, "scopes is missing")
	case slices.ContainsFunc(scopes, func(s string) bool { return s != "k8s_proxy" }):
		problems = append(problems, "scopes does not have a valid value")
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	expires := today.AddDate(0, 0, 1) // default: -> { 1.day.from_now.to_date }
	if v, ok := params["expires_at"]; ok {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(v[0]))
		if err != nil {
			problems = append(problems, "expires_at is invalid")
		}
		expires = d
	}
	if len(problems) > 0 {
		writeGitLabJSON(w, http.StatusBadRequest, object{{"error", strings.Join(problems, ", ")}})
		return
	}
	if name == "" { // the model's validates :name, presence: true
		gitlabMessage(w, http.StatusUnprocessableEntity, "Name can't be blank")
		return
	}
	if cfg.PATCreationForbidden {
		gitlabMessage(w, http.StatusUnprocessableEntity, "Not permitted to create")
		return
	}
	maxDays := cfg.PATMaxLifetimeDays
	if maxDays == 0 {
		maxDays = defaultPATMaxLifetimeDays
	}
	if limit := today.AddDate(0, 0, maxDays); expires.After(limit) {
		gitlabMessage(w, http.StatusUnprocessableEntity, "Expires at must be before "+limit.Format(time.DateOnly))
		return
	}
	s.mu.Lock()
	next := PAT{Token: "glpat-" + randomToken(10), ID: int64(1000 + len(s.cfg.PATs)), Name: name, UserID: p.user.ID, Username: p.user.Username,
		Scopes: scopes, ExpiresAt: expires.Format(time.DateOnly), Agents: p.user.Agents, Role: p.user.Role, ProjectRoles: p.user.ProjectRoles, CreatedAt: s.nowLocked()}
	s.cfg.PATs = append(s.cfg.PATs, next)
	s.oauth.minted = append(s.oauth.minted, next.Token)
	s.mu.Unlock()
	writeGitLabJSON(w, http.StatusCreated, append(patJSON(&next), member{"token", next.Token}))
}

// scopesParam is Grape's Array[String] with CommaSeparatedToArray:
// scopes[]=a&scopes[]=b, scopes=a,b, or a JSON array.
func scopesParam(params url.Values) (scopes []string, given bool) {
	values, ok := params["scopes[]"]
	if !ok {
		values, ok = params["scopes"]
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				scopes = append(scopes, part)
			}
		}
	}
	return scopes, ok
}

// revokePATSelf is DELETE /personal_access_tokens/self
// (lib/api/personal_access_tokens/self_information.rb, revoke_token):
// any scope; an OAuth token 400; revoked → 204 with no body.
func (s *Server) revokePATSelf(w http.ResponseWriter, r *http.Request, cfg Config) {
	if s.oauthTokenRefused(w, r) {
		return
	}
	p := s.authenticatePAT(w, r, cfg, allScopes)
	if p == nil {
		return
	}
	s.mu.Lock()
	if live := findPAT(&s.cfg, p.Token); live != nil {
		live.Revoked = true
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// requestParams are a request's parameters as Rack and Grape merge them:
// the query, then an urlencoded or JSON body.
func requestParams(r *http.Request) (url.Values, error) {
	params := r.URL.Query()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch media {
	case "", "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	case "application/json":
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, err
		}
		for k, v := range doc {
			switch v := v.(type) {
			case []any:
				for _, e := range v {
					params.Add(k, fmt.Sprint(e))
				}
			case nil:
			default:
				params.Set(k, fmt.Sprint(v))
			}
		}
	default:
		return nil, fmt.Errorf("unsupported content type %q", media)
	}
	return params, nil
}

// randomToken is n random bytes in hex (Doorkeeper's UniqueToken is
// urlsafe base64; the shape does not matter to clients).
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// userCode is UserCode.generate: 8 characters of base 36, upper case,
// zero-padded.
func userCode() string {
	n, _ := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(36), big.NewInt(8), nil))
	code := strings.ToUpper(n.Text(36))
	return strings.Repeat("0", 8-len(code)) + code
}
