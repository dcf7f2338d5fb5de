package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// GitLab's OAuth 2.0 endpoints, as login --web uses them: the device
// authorization grant (RFC 8628; GitLab 17.2+, on by default since 17.3),
// refresh, and revocation (RFC 7009). GitLab answers them through
// Doorkeeper and its device-grant gem (gitlabhq/gitlabhq
// config/initializers/doorkeeper*.rb; exop-group/doorkeeper-device_authorization_grant).
// The application is a public one: it is named by its client ID alone.

// OAuth error codes (RFC 6749 §5.2, RFC 8628 §3.5) that callers act on.
const (
	OAuthAuthorizationPending = "authorization_pending"
	OAuthSlowDown             = "slow_down"
	OAuthAccessDenied         = "access_denied"
	OAuthExpiredToken         = "expired_token"
	OAuthInvalidGrant         = "invalid_grant"
	OAuthInvalidClient        = "invalid_client"
	OAuthInvalidScope         = "invalid_scope"
	OAuthInsufficientScope    = "insufficient_scope"
)

// OAuthErrorCode is the OAuth error code of a GitLab answer in err's
// chain ("" when there is none). Callers switch on it: GitLab's
// error_description texts are not part of the contract.
func OAuthErrorCode(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return ""
}

// oauthErrorCode reads "error" of an OAuth error body (Doorkeeper's
// ErrorResponse, rack-oauth2's insufficient_scope); "" for Grape's own
// {"error":"404 Not Found"} and validation texts, which have spaces.
func oauthErrorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || strings.ContainsAny(e.Error, " ,") {
		return ""
	}
	return e.Error
}

// DeviceAuthorization is the answer of POST /oauth/authorize_device
// (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	// ExpiresIn is the device code's lifetime in seconds (GitLab: 300).
	ExpiresIn int `json:"expires_in"`
	// Interval is the least number of seconds between polls (GitLab: 5;
	// RFC 8628: 5 when absent).
	Interval int `json:"interval"`
}

// AuthorizeDevice starts a device authorization for the public OAuth
// application clientID, asking for scopes.
func (c *Client) AuthorizeDevice(ctx context.Context, clientID string, scopes []string) (*DeviceAuthorization, error) {
	form := url.Values{"client_id": {clientID}, "scope": {strings.Join(scopes, " ")}}
	var d DeviceAuthorization
	if err := c.send(ctx, request{method: http.MethodPost, endpoint: "/oauth/authorize_device", form: form}, &d); err != nil {
		return nil, err
	}
	if d.DeviceCode == "" || d.UserCode == "" || d.VerificationURI == "" {
		// GitLab 17.2 with its feature flag off answers an empty 204.
		return nil, &APIError{Method: http.MethodPost, Endpoint: "/oauth/authorize_device", Status: http.StatusNotFound,
			Message: "no device authorization in the answer"}
	}
	return &d, nil
}

// OAuthToken is the answer of POST /oauth/token (Doorkeeper's
// TokenResponse: expires_in 7200, a refresh token, created_at in Unix
// seconds).
type OAuthToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	CreatedAt    int64  `json:"created_at"`
}

// String hides the tokens, should an OAuthToken be printed by mistake.
func (t OAuthToken) String() string { return "{access_token:[redacted] scope:" + t.Scope + "}" }

// GoString hides them from %#v as well.
func (t OAuthToken) GoString() string { return "gitlab.OAuthToken" + t.String() }

// PollDeviceToken asks once whether the device authorization was
// approved. Pending, too fast, denied and expired are errors with
// OAuthErrorCode authorization_pending, slow_down, access_denied and
// expired_token (invalid_grant once GitLab has swept the code). It is
// never retried: a success consumes the device code.
func (c *Client) PollDeviceToken(ctx context.Context, clientID, deviceCode string) (*OAuthToken, error) {
	form := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode},
		"client_id":   {clientID},
	}
	return c.token(ctx, form, deviceCode)
}

// RefreshOAuthToken trades a refresh token for a new access token and a
// new refresh token. GitLab keeps the old refresh token usable until the
// new access token is first used, so a retry is harmless.
func (c *Client) RefreshOAuthToken(ctx context.Context, clientID, refreshToken string) (*OAuthToken, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {clientID}}
	return c.token(ctx, form, refreshToken)
}

func (c *Client) token(ctx context.Context, form url.Values, secret string) (*OAuthToken, error) {
	r := request{method: http.MethodPost, endpoint: "/oauth/token", form: form, secrets: []string{secret},
		once: form.Get("grant_type") != "refresh_token"}
	var t OAuthToken
	if err := c.send(ctx, r, &t); err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, &APIError{Method: r.method, Endpoint: r.endpoint, Status: http.StatusOK, Message: "the answer has no access_token"}
	}
	return &t, nil
}

// RevokeOAuthToken revokes an access or refresh token of the application
// clientID (RFC 7009): GitLab answers 200 {} whether or not it knew the
// token; revoking either revokes both, as they are one grant.
func (c *Client) RevokeOAuthToken(ctx context.Context, clientID, token string) error {
	form := url.Values{"token": {token}, "client_id": {clientID}}
	return c.send(ctx, request{method: http.MethodPost, endpoint: "/oauth/revoke", form: form, secrets: []string{token}}, nil)
}
