package testkas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KAS's calls to GitLab. They run in-process against the same GitLab
// handlers (so every rule of the REST side applies), take faults from
// FailForKAS, and are not recorded among Requests.

// clientError is KAS's gitlab.ClientError (internal/gitlab/error.go): a
// status GitLab answered that KAS did not want. The body is not kept.
type clientError struct {
	status int
	path   string
}

func (e *clientError) Error() string {
	return fmt.Sprintf("HTTP status code: %d for path %s", e.status, e.path)
}

// internalCall marks KAS's own requests, which GitLab's internal API
// admits (it checks KAS's Gitlab-Kas-Api-Request JWT; clients have none).
type internalCall struct{}

// callGitLab is KAS's gitlab.Client.Do through hashicorp retryablehttp
// (internal/gitlab/client.go, client_options.go): up to 4 retries of 429
// and 5xx but 501, waiting min·2^n (100 ms, at most 30 s) or Retry-After
// on 429 and 503; after the last try the last answer stands.
func (s *Server) callGitLab(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, error) {
	first := s.config().GitLabRetryWait
	if first <= 0 {
		first = 100 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		resp := s.callGitLabOnce(ctx, method, path, header, body)
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented
		if !retry || attempt == 4 {
			return resp, nil
		}
		wait := min(first<<attempt, 30*time.Second)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(secs) * time.Second
			}
		}
		if err := waitOrDone(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (s *Server) callGitLabOnce(ctx context.Context, method, path string, header http.Header, body []byte) *http.Response {
	rec := httptest.NewRecorder()
	if status := s.takeFault(s.kasFault, path); status != 0 {
		writeInjectedFailure(rec, status)
	} else {
		req := httptest.NewRequestWithContext(context.WithValue(ctx, internalCall{}, true), method, s.URL+path, bytes.NewReader(body))
		req.Header = header.Clone()
		req.Header.Set("User-Agent", kasServerName)
		s.serveGitLab(rec, req)
	}
	resp := rec.Result()
	resp.Request = &http.Request{Method: method, URL: mustParseURL(s.URL + path)}
	return resp
}

// decodeGitLab is ProtoJsonResponseHandler: 200 or 201 with a JSON
// Content-Type is decoded and validated; any other status is a
// clientError.
func decodeGitLab(resp *http.Response, path string, out interface{ validate() error }) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return &clientError{resp.StatusCode, path}
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return fmt.Errorf("unexpected Content-Type in response: %q", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("response body read: %w", err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("protojson.Unmarshal: %w", err)
	}
	if err := out.validate(); err != nil {
		return fmt.Errorf("ValidateAll: %w", err)
	}
	return nil
}

// allowedAgentsForJob is KAS's api.AllowedAgentsForJob (internal/gitlab/api/api.proto).
type allowedAgentsForJob struct {
	AllowedAgents []allowedAgent `json:"allowed_agents"`
	Job           *idOnly        `json:"job"`
	Pipeline      *idOnly        `json:"pipeline"`
	Project       *struct {
		ID     int64    `json:"id"`
		Groups []idOnly `json:"groups"`
	} `json:"project"`
	User        *userRef `json:"user"`
	Environment *struct {
		Slug string `json:"slug"`
		Tier string `json:"tier"`
	} `json:"environment"`
}

type idOnly struct {
	ID int64 `json:"id"`
}

type userRef struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

type allowedAgent struct {
	ID            int64   `json:"id"`
	ConfigProject *idOnly `json:"config_project"`
	Configuration struct {
		DefaultNamespace string `json:"default_namespace"`
		AccessAs         *struct {
			Agent       *struct{} `json:"agent"`
			CIJob       *struct{} `json:"ci_job"`
			Impersonate *struct {
				Username string   `json:"username"`
				UID      string   `json:"uid"`
				Groups   []string `json:"groups"`
				Extra    []struct {
					Key string   `json:"key"`
					Val []string `json:"val"`
				} `json:"extra"`
			} `json:"impersonate"`
		} `json:"access_as"`
	} `json:"configuration"`
}

// validate is the message's ValidateAll (protoc-gen-validate rules in
// api.proto; texts as its generated code writes them).
func (a *allowedAgentsForJob) validate() error {
	var errs []string
	required := func(field string, missing bool) {
		if missing {
			errs = append(errs, "invalid AllowedAgentsForJob."+field+": value is required")
		}
	}
	for i, aa := range a.AllowedAgents {
		if aa.ConfigProject == nil {
			errs = append(errs, fmt.Sprintf("invalid AllowedAgentsForJob.AllowedAgents[%d]: embedded message failed validation | caused by: invalid AllowedAgent.ConfigProject: value is required", i))
		}
	}
	required("Job", a.Job == nil)
	required("Pipeline", a.Pipeline == nil)
	required("Project", a.Project == nil)
	required("User", a.User == nil)
	if a.User != nil && a.User.Username == "" {
		errs = append(errs, "invalid AllowedAgentsForJob.User: embedded message failed validation | caused by: invalid User.Username: value length must be at least 1 bytes")
	}
	if e := a.Environment; e != nil {
		var sub []string
		if e.Slug == "" {
			sub = append(sub, "invalid Environment.Slug: value length must be at least 1 bytes")
		}
		if e.Tier == "" {
			sub = append(sub, "invalid Environment.Tier: value length must be at least 1 bytes")
		}
		if sub != nil {
			errs = append(errs, "invalid AllowedAgentsForJob.Environment: embedded message failed validation | caused by: "+strings.Join(sub, "; "))
		}
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

const allowedAgentsPath = "/api/v4/job/allowed_agents"

// allowedAgentsForJob is getAllowedAgentsForJob: GET
// /api/v4/job/allowed_agents with Job-Token (internal/gitlab/api/get_allowed_agents.go),
// through the authorization cache keyed by the job token.
func (s *Server) allowedAgentsForJob(ctx context.Context, token string) (*allowedAgentsForJob, error) {
	return askGitLab[allowedAgentsForJob](s, ctx, "ci\x00"+token, "ci\x00"+token[:len(token)/2], http.MethodGet, allowedAgentsPath,
		http.Header{"Job-Token": {token}, "Accept": {"application/json"}}, nil)
}

// askGitLab is one of KAS's authorization calls to GitLab, through the
// authorization cache.
func askGitLab[T any, PT interface {
	*T
	validate() error
}](s *Server, ctx context.Context, key, errKey, method, path string, header http.Header, body []byte) (*T, error) {
	v, err := s.cache.get(key, errKey, func() (any, error) {
		resp, err := s.callGitLab(ctx, method, path, header, body)
		if err != nil {
			return nil, err
		}
		out := PT(new(T))
		if err := decodeGitLab(resp, path, out); err != nil {
			return nil, err
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(PT), nil
}

// proxyUserAuthorization is api.AuthorizeProxyUserResponse.
type proxyUserAuthorization struct {
	Agent *struct {
		ID            int64   `json:"id"`
		ConfigProject *idOnly `json:"config_project"`
	} `json:"agent"`
	User     *userRef `json:"user"`
	AccessAs *struct {
		Agent *struct{} `json:"agent"`
		User  *struct {
			Projects []roleAccess `json:"projects"`
			Groups   []roleAccess `json:"groups"`
		} `json:"user"`
	} `json:"access_as"`
}

type roleAccess struct {
	ID    int64    `json:"id"`
	Roles []string `json:"roles"`
}

func (p *proxyUserAuthorization) validate() error {
	switch {
	case p.Agent == nil || p.Agent.ConfigProject == nil:
		return errors.New("invalid AuthorizeProxyUserResponse.Agent: value is required")
	case p.User == nil:
		return errors.New("invalid AuthorizeProxyUserResponse.User: value is required")
	case p.User.Username == "":
		return errors.New("invalid AuthorizeProxyUserResponse.User: embedded message failed validation | caused by: invalid User.Username: value length must be at least 1 bytes")
	case p.AccessAs == nil || p.AccessAs.Agent == nil && p.AccessAs.User == nil:
		return errors.New("invalid AuthorizeProxyUserResponse.AccessAs: value is required")
	}
	return nil
}

const authorizeProxyUserPath = "/api/v4/internal/kubernetes/authorize_proxy_user"

// authorizedProxyUser is authorizeProxyUser: POST
// /api/v4/internal/kubernetes/authorize_proxy_user with a protojson body
// (int64 as a string), cached per agent, access type and key.
func (s *Server) authorizedProxyUser(ctx context.Context, agentID int64, accessType, key string) (*proxyUserAuthorization, error) {
	cacheKey := strings.Join([]string{"user", itoa(agentID), accessType, key}, "\x00")
	errKey := strings.Join([]string{"user", itoa(agentID), accessType, key[:len(key)/2]}, "\x00")
	body, _ := marshal(object{{"agent_id", itoa(agentID)}, {"access_type", accessType}, {"access_key", key}, {"csrf_token", ""}})
	return askGitLab[proxyUserAuthorization](s, ctx, cacheKey, errKey, http.MethodPost, authorizeProxyUserPath,
		http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}, body)
}

// authCache is KAS's cache.CacheWithErr (internal/tool/cache/cache_with_err.go)
// for authorizations: a success is kept in memory for
// allowed_agent_cache_ttl (1 min) under the whole token; GitLab's 401, 403
// and 404 (gapi.IsCacheableError) in Redis for allowed_agent_cache_error_ttl
// (10 s) under a hash of the token's first half
// (internal/module/kubernetes_api/server/factory.go KeyToRedisKey), so a
// token that shares that half gets the same refusal; other errors are not
// kept. One caller fetches a key at a time; the others wait for it.
type authCache struct {
	config  func() Config
	mu      sync.Mutex
	entries map[string]*cacheEntry
	errs    map[string]cachedErr
}

type cacheEntry struct {
	mu      sync.Mutex
	value   any
	expires time.Time
}

type cachedErr struct {
	err     error
	expires time.Time
}

func newAuthCache(config func() Config) *authCache {
	return &authCache{config: config, entries: map[string]*cacheEntry{}, errs: map[string]cachedErr{}}
}

func (c *authCache) ttls() (ok, bad time.Duration) {
	cfg := c.config()
	ok, bad = cfg.AuthCacheTTL, cfg.AuthCacheErrorTTL
	if ok == 0 {
		ok = time.Minute
	}
	if bad == 0 {
		bad = 10 * time.Second
	}
	return ok, bad
}

func (c *authCache) get(key, errKey string, fetch func() (any, error)) (any, error) {
	ttl, errTTL := c.ttls()
	if ttl < 0 { // KAS: a zero TTL turns the cache off
		return fetch()
	}
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		e = &cacheEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if time.Now().Before(e.expires) {
		return e.value, nil
	}
	c.mu.Lock()
	cached, ok := c.errs[errKey]
	c.mu.Unlock()
	if ok && time.Now().Before(cached.expires) {
		return nil, cached.err
	}
	v, err := fetch()
	var ce *clientError
	switch {
	case err == nil:
		e.value, e.expires = v, time.Now().Add(ttl)
	case errors.As(err, &ce) && (ce.status == 401 || ce.status == 403 || ce.status == 404) && errTTL > 0:
		c.mu.Lock()
		c.errs[errKey] = cachedErr{err, time.Now().Add(errTTL)}
		c.mu.Unlock()
	}
	return v, err
}

func (c *authCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]*cacheEntry{}
	c.errs = map[string]cachedErr{}
}
