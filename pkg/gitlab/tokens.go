package gitlab

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// NewPersonalAccessToken is what POST /api/v4/user/personal_access_tokens
// creates.
type NewPersonalAccessToken struct {
	Name        string
	Description string
	Scopes      []string
	// ExpiresAt is a date, YYYY-MM-DD; "" lets GitLab choose (tomorrow).
	ExpiresAt string
}

// CreatePersonalAccessToken mints a personal access token for the user
// the client authenticates as (GitLab 16.5+; gitlabhq/gitlabhq
// lib/api/users.rb, resource :user → personal_access_tokens). The caller's
// token needs the api scope, and GitLab allows only the k8s_proxy scope
// for the new one. The answer (201) is the only time GitLab shows the
// token. A mint that reached GitLab is never repeated.
func (c *Client) CreatePersonalAccessToken(ctx context.Context, t NewPersonalAccessToken) (*PersonalAccessToken, error) {
	form := url.Values{"name": {t.Name}, "scopes": {strings.Join(t.Scopes, ",")}}
	if t.Description != "" {
		form.Set("description", t.Description)
	}
	if t.ExpiresAt != "" {
		form.Set("expires_at", t.ExpiresAt)
	}
	var p PersonalAccessToken
	if err := c.send(ctx, request{method: http.MethodPost, endpoint: "/api/v4/user/personal_access_tokens", form: form, once: true}, &p); err != nil {
		return nil, err
	}
	if p.Token == "" {
		return nil, &APIError{Method: http.MethodPost, Endpoint: "/api/v4/user/personal_access_tokens", Status: http.StatusOK, Message: "the answer has no token"}
	}
	return &p, nil
}

// RevokePersonalAccessTokenSelf revokes the token the client
// authenticates with (DELETE /api/v4/personal_access_tokens/self: any
// scope, 204; lib/api/personal_access_tokens/self_information.rb).
func (c *Client) RevokePersonalAccessTokenSelf(ctx context.Context) error {
	return c.send(ctx, request{method: http.MethodDelete, endpoint: "/api/v4/personal_access_tokens/self"}, nil)
}

// User is what the plugin reads of GET /api/v4/user.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// CurrentUser is the user the client authenticates as (scopes read_user,
// read_api or api).
func (c *Client) CurrentUser(ctx context.Context) (*User, error) {
	var u User
	return &u, c.get(ctx, "/user", &u)
}
