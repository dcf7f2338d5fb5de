package gitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Metadata is what the plugin reads of GET /api/v4/metadata: where KAS is.
type Metadata struct {
	KAS struct {
		Enabled bool `json:"enabled"`
		// ExternalURL is the agentk URL: wss://host/-/kubernetes-agent/ or grpcs://kas.host.
		ExternalURL *string `json:"externalUrl"`
		// ExternalK8sProxyURL exists since GitLab 17.6.
		ExternalK8sProxyURL *string `json:"externalK8sProxyUrl"`
	} `json:"kas"`
}

// MayReadMetadata tells whether a personal access token with these scopes
// may read /api/v4/metadata: lib/api/metadata.rb allows read_user (and,
// since 17.x, ai_features), lib/api/api.rb api and read_api everywhere.
// Not k8s_proxy, which is all that kubectl gitlab login asks for; and
// never a job token.
func MayReadMetadata(scopes []string) bool {
	for _, s := range scopes {
		switch s {
		case "api", "read_api", "read_user", "ai_features":
			return true
		}
	}
	return false
}

// Metadata fetches the instance's metadata.
func (c *Client) Metadata(ctx context.Context) (*Metadata, error) {
	var m Metadata
	return &m, c.get(ctx, "/metadata", &m)
}

// Project is what the plugin reads of a project in the agent APIs.
type Project struct {
	PathWithNamespace string `json:"path_with_namespace"`
}

// AllowedAgent is one entry of /job/allowed_agents.
type AllowedAgent struct {
	ID            int64               `json:"id"`
	ConfigProject Project             `json:"config_project"`
	Configuration AuthorizationConfig `json:"configuration"`
}

// AuthorizationConfig is what GitLab keeps of an agent's authorization of
// a project: the ci_access entry minus its id ({} for the agent's own
// project), or user_access's access_as.
type AuthorizationConfig struct {
	DefaultNamespace string `json:"default_namespace"`
	// AccessAs has one key, the mode (agent, ci_job, impersonate, user);
	// nil when the entry has none.
	AccessAs map[string]json.RawMessage `json:"access_as"`
}

// AccessMode is access_as's mode: its one key ("" when there is none,
// or more than one).
func (c AuthorizationConfig) AccessMode() string {
	if len(c.AccessAs) != 1 {
		return ""
	}
	for mode := range c.AccessAs {
		return mode
	}
	return ""
}

// AllowedAgents is what the plugin reads of GET /api/v4/job/allowed_agents:
// the agents this job may use, already filtered by environment and
// protected-branch rules.
type AllowedAgents struct {
	Agents []AllowedAgent `json:"allowed_agents"`
}

// AllowedAgents asks which agents the job (JOB-TOKEN) may use.
func (c *Client) AllowedAgents(ctx context.Context) (*AllowedAgents, error) {
	var a AllowedAgents
	return &a, c.get(ctx, "/job/allowed_agents", &a)
}

// Agent is a cluster agent of a project.
type Agent struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	ConfigProject Project `json:"config_project"`
}

// ProjectAgents lists the agents configured in a project (ID or full
// path), every page of them, ordered by name as GitLab orders them.
func (c *Client) ProjectAgents(ctx context.Context, project string) ([]Agent, error) {
	return listAll[Agent](ctx, c, "/projects/"+url.PathEscape(project)+"/cluster_agents", nil)
}

// PersonalAccessToken is GET /api/v4/personal_access_tokens/self.
type PersonalAccessToken struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Revoked   bool     `json:"revoked"`
	Active    bool     `json:"active"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expires_at"` // YYYY-MM-DD
	CreatedAt string   `json:"created_at"` // ISO 8601
	// Token is set only in the answers that create a token (rotation,
	// CreatePersonalAccessToken).
	Token string `json:"token,omitempty"`
}

// PersonalAccessTokenSelf describes the token the client authenticates with.
func (c *Client) PersonalAccessTokenSelf(ctx context.Context) (*PersonalAccessToken, error) {
	var p PersonalAccessToken
	return &p, c.get(ctx, "/personal_access_tokens/self", &p)
}

// RotatePersonalAccessToken replaces the client's token with a new one
// (needs the self_rotate scope); the old one is revoked.
func (c *Client) RotatePersonalAccessToken(ctx context.Context) (*PersonalAccessToken, error) {
	var p PersonalAccessToken
	// A rotation that reached GitLab must not be repeated.
	return &p, c.send(ctx, request{method: http.MethodPost, endpoint: "/api/v4/personal_access_tokens/self/rotate", once: true}, &p)
}
