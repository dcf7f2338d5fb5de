package gitlab

import (
	"context"
	"net/url"
	"strconv"
)

// Metadata is GET /api/v4/metadata.
type Metadata struct {
	Version    string `json:"version"`
	Revision   string `json:"revision"`
	Enterprise bool   `json:"enterprise"`
	KAS        struct {
		Enabled bool `json:"enabled"`
		// ExternalURL is the agentk URL: wss://host/-/kubernetes-agent/ or grpcs://kas.host.
		ExternalURL *string `json:"externalUrl"`
		// ExternalK8sProxyURL exists since GitLab 17.6.
		ExternalK8sProxyURL *string `json:"externalK8sProxyUrl"`
		Version             *string `json:"version"`
	} `json:"kas"`
}

// Metadata fetches the instance's metadata.
func (c *Client) Metadata(ctx context.Context) (*Metadata, error) {
	var m Metadata
	return &m, c.get(ctx, "/metadata", &m)
}

// Project is a project as the agent APIs describe it.
type Project struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	Path              string `json:"path"`
	PathWithNamespace string `json:"path_with_namespace"`
}

// AllowedAgent is one entry of /job/allowed_agents.
type AllowedAgent struct {
	ID            int64   `json:"id"`
	ConfigProject Project `json:"config_project"`
	Configuration struct {
		DefaultNamespace string         `json:"default_namespace"`
		AccessAs         map[string]any `json:"access_as"`
	} `json:"configuration"`
}

// AllowedAgents is GET /api/v4/job/allowed_agents: the agents this job may
// use, already filtered by environment and protected-branch rules.
type AllowedAgents struct {
	Agents  []AllowedAgent     `json:"allowed_agents"`
	Job     struct{ ID int64 } `json:"job"`
	Project struct {
		ID     int64 `json:"id"`
		Groups []struct {
			ID int64 `json:"id"`
		} `json:"groups"`
	} `json:"project"`
	User struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
	Environment *struct {
		Tier string `json:"tier"`
		Slug string `json:"slug"`
	} `json:"environment"`
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

// ProjectAgents lists the agents configured in a project (ID or full path).
func (c *Client) ProjectAgents(ctx context.Context, project string) ([]Agent, error) {
	var agents []Agent
	return agents, c.get(ctx, "/projects/"+url.PathEscape(project)+"/cluster_agents", &agents)
}

// ProjectAgent fetches one agent of a project.
func (c *Client) ProjectAgent(ctx context.Context, project string, id int64) (*Agent, error) {
	var a Agent
	return &a, c.get(ctx, "/projects/"+url.PathEscape(project)+"/cluster_agents/"+strconv.FormatInt(id, 10), &a)
}

// PersonalAccessToken is GET /api/v4/personal_access_tokens/self.
type PersonalAccessToken struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Revoked   bool     `json:"revoked"`
	Active    bool     `json:"active"`
	Scopes    []string `json:"scopes"`
	UserID    int64    `json:"user_id"`
	ExpiresAt *string  `json:"expires_at"` // YYYY-MM-DD
	// Token is set only in the answer to a rotation.
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
	c2 := *c
	c2.Attempts = 1 // a rotation that reached GitLab must not be repeated
	return &p, c2.do(ctx, "POST", "/personal_access_tokens/self/rotate", &p)
}
