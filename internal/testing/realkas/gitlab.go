package realkas

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GitLab is the fake GitLab: its internal API for KAS, which checks KAS's
// JWT, and the public endpoints that KAS and kubectl-gitlab call. It serves
// https on 127.0.0.1. Each handler names the gitlab-agent client code
// (internal/gitlab/api/…) whose calls it answers and the gitlabhq code it
// is modelled on.
type GitLab struct {
	// URL is GitLab's base URL, https://127.0.0.1:PORT.
	URL string

	srv       *httptest.Server
	jwtSecret []byte
	repos     string // the fake Gitaly's repositories, for config.yaml
	gitaly    string // the fake Gitaly's address, for agent_info
	kasURL    string // KAS's external URL, for metadata

	mu       sync.Mutex
	world    World
	posted   map[int64]ciAccess // the ci_access KAS last posted, by agent
	posts    map[int64]int      // how many configurations KAS posted, by agent
	probes   map[string]bool    // the harness's own job tokens: not recorded
	requests []Request
	faults   map[string]*fault
	changed  *sync.Cond
}

// Request is one request the fake GitLab answered.
type Request struct {
	Method string
	Path   string
	Status int
	// JWT is "" when the request carried a valid KAS token, else why not.
	JWT string
	// JobToken and PrivateToken are the credentials sent, if any.
	JobToken     string
	PrivateToken string
}

type fault struct {
	statuses []int // answered one per request, then
	always   int   // this for every request (0: none)
}

func newGitLab(world World, jwtSecret []byte, cert tls.Certificate, repos, gitaly string) *GitLab {
	g := &GitLab{
		jwtSecret: jwtSecret, repos: repos, gitaly: gitaly, world: world,
		posted: map[int64]ciAccess{}, posts: map[int64]int{}, probes: map[string]bool{}, faults: map[string]*fault{},
	}
	g.changed = sync.NewCond(&g.mu)
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	g.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	g.srv.StartTLS()
	g.URL = g.srv.URL
	return g
}

// Close stops the server.
func (g *GitLab) Close() { g.srv.Close() }

// Requests returns what the fake GitLab answered, oldest first, without
// the harness's own readiness probes.
func (g *GitLab) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests)
}

// FailNext makes the next requests whose path starts with prefix answer the
// given statuses, one each, before normal service resumes.
func (g *GitLab) FailNext(prefix string, statuses ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.fault(prefix)
	f.statuses = append(f.statuses, statuses...)
}

// FailAll makes every request whose path starts with prefix answer status,
// until FailAll(prefix, 0).
func (g *GitLab) FailAll(prefix string, status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fault(prefix).always = status
}

func (g *GitLab) fault(prefix string) *fault {
	f := g.faults[prefix]
	if f == nil {
		f = &fault{}
		g.faults[prefix] = f
	}
	return f
}

// takeFault returns the status injected for path, or 0.
func (g *GitLab) takeFault(path string) int {
	for prefix, f := range g.faults {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		if len(f.statuses) > 0 {
			status := f.statuses[0]
			f.statuses = f.statuses[1:]
			return status
		}
		if f.always != 0 {
			return f.always
		}
	}
	return 0
}

// Update changes what GitLab knows, e.g. to revoke a token or change a
// role. Agents' config.yaml are changed with Stack.SetAgentConfig.
func (g *GitLab) Update(change func(*World)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	change(&g.world)
}

// Posts is how many configurations KAS has posted for the agent.
func (g *GitLab) Posts(agentID int64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.posts[agentID]
}

// waitForPost waits until KAS has posted more than after configurations for
// the agent, or until the deadline.
func (g *GitLab) waitForPost(agentID int64, after int, deadline time.Time) bool {
	timer := time.AfterFunc(time.Until(deadline), func() {
		g.mu.Lock()
		g.changed.Broadcast()
		g.mu.Unlock()
	})
	defer timer.Stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.posts[agentID] <= after {
		if time.Now().After(deadline) {
			return false
		}
		g.changed.Wait()
	}
	return true
}

// recorder keeps the status a handler answered (every handler here sets
// one with WriteHeader).
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (g *GitLab) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	jwtProblem := "missing"
	if token := r.Header.Get(kasJWTHeader); token != "" {
		jwtProblem = "invalid: "
		if err := verifyKASJWT(token, g.jwtSecret, time.Now()); err == nil {
			jwtProblem = ""
		} else {
			jwtProblem += err.Error()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	defer func() {
		if g.probes[r.Header.Get("Job-Token")] {
			return
		}
		g.requests = append(g.requests, Request{Method: r.Method, Path: r.URL.Path, Status: rec.status, JWT: jwtProblem,
			JobToken: r.Header.Get("Job-Token"), PrivateToken: privateToken(r)})
	}()
	if status := g.takeFault(r.URL.Path); status != 0 {
		writeJSON(rec, status, map[string]string{"message": fmt.Sprintf("%d %s", status, http.StatusText(status))})
		return
	}
	route := r.Method + " " + r.URL.Path
	if strings.HasPrefix(r.URL.Path, "/api/v4/internal/") {
		// lib/api/internal/kubernetes.rb: before every route,
		// authenticate_gitlab_kas_request!.
		if jwtProblem != "" {
			writeJSON(rec, http.StatusUnauthorized, map[string]string{"message": "KAS JWT authentication invalid"})
			return
		}
		switch route {
		case "GET /api/v4/internal/kubernetes/agent_info":
			g.agentInfo(rec, r)
		case "POST /api/v4/internal/kubernetes/agent_configuration":
			g.agentConfiguration(rec, r)
		case "POST /api/v4/internal/kubernetes/authorize_proxy_user":
			g.authorizeProxyUser(rec, r)
		case "POST /api/v4/internal/kubernetes/usage_metrics":
			// internal/gitlab/api/send_usage_ping.go; counted and forgotten.
			rec.WriteHeader(http.StatusNoContent)
		default:
			// Among others internal/gitlab/api/module_request.go: agentk's
			// starboard_vulnerability module asks for
			// modules/starboard_vulnerability/policies_configuration,
			// which only GitLab EE with security policies serves.
			notFoundRoute(rec)
		}
		return
	}
	switch route {
	case "GET /api/v4/job/allowed_agents":
		g.allowedAgentsEndpoint(rec, r)
	case "GET /api/v4/metadata":
		g.metadata(rec, r)
	case "GET /api/v4/personal_access_tokens/self":
		g.patSelf(rec, r)
	default:
		notFoundRoute(rec)
	}
}

// decodeProtoJSON reads a body KAS wrote with protojson, in which an int64
// is a JSON string: decode those into json.Number.
func decodeProtoJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	return dec.Decode(v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// notFoundRoute is Grape's answer for a route it does not have.
func notFoundRoute(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
}

func unauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
}

// agentInfo answers internal/gitlab/api/get_agent_info.go: the agent of the
// bearer token and where its configuration project's repository is
// (gitlabhq lib/api/internal/kubernetes.rb, GET agent_info).
func (g *GitLab) agentInfo(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a := g.world.agentByToken(token)
	if a == nil {
		unauthorized(w)
		return
	}
	p := g.world.project(a.ProjectID)
	writeJSON(w, http.StatusOK, map[string]any{
		"project_id": p.ID,
		"agent_id":   a.ID,
		"agent_name": a.Name,
		"gitaly_info": map[string]any{
			"address": "tcp://" + g.gitaly, "token": "", "features": map[string]string{},
		},
		"gitaly_repository": map[string]any{
			"storage_name": "default", "relative_path": repoPath(p), "gl_repository": "project-" + strconv.FormatInt(p.ID, 10),
			"gl_project_path": p.Path,
		},
		"default_branch": "main",
	})
}

// repoPath is the project's repository under the fake Gitaly's root.
func repoPath(p *Project) string { return p.Path + ".git" }

// agentConfigFile is where KAS and GitLab read an agent's configuration.
func agentConfigFile(repos string, p *Project, agentName string) string {
	return filepath.Join(repos, filepath.FromSlash(repoPath(p)), ".gitlab", "agents", agentName, "config.yaml")
}

// agentConfiguration answers internal/gitlab/api/post_agent_configuration.go:
// KAS posts each new configuration it reads from the repository, and GitLab
// refreshes the agent's ci_access authorizations from it (gitlabhq
// lib/api/internal/kubernetes.rb, POST agent_configuration).
func (g *GitLab) agentConfiguration(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AgentID     json.Number     `json:"agent_id"`
		AgentConfig json.RawMessage `json:"agent_config"`
	}
	if err := decodeProtoJSON(r, &body); err != nil || body.AgentConfig == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "agent_id is missing, agent_config is missing"})
		return
	}
	id, err := body.AgentID.Int64()
	a := g.world.agent(id)
	if err != nil || a == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		return
	}
	access, err := parseCIAccess(body.AgentConfig)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "agent_config is invalid"})
		return
	}
	g.posted[id] = access
	g.posts[id]++
	g.changed.Broadcast()
	w.WriteHeader(http.StatusNoContent)
}

// allowedAgentsEndpoint answers internal/gitlab/api/get_allowed_agents.go
// (and kubectl-gitlab's own call): the agents the job of the Job-Token may
// use, with the job, pipeline, project, user and environment (gitlabhq
// lib/api/ci/jobs.rb, GET /job/allowed_agents).
func (g *GitLab) allowedAgentsEndpoint(w http.ResponseWriter, r *http.Request) {
	job := g.world.job(r.Header.Get("Job-Token"))
	if job == nil {
		unauthorized(w)
		return
	}
	p := g.world.project(job.ProjectID)
	agents := []any{}
	for _, auth := range g.world.allowedAgents(job, g.posted) {
		ap := g.world.project(auth.agent.ProjectID)
		agents = append(agents, map[string]any{
			"id":             auth.agent.ID,
			"config_project": projectIdentity(ap),
			"configuration":  auth.config,
		})
	}
	groups := []any{}
	for _, grp := range g.world.ancestors(p.Path) {
		groups = append(groups, map[string]any{"id": grp.ID})
	}
	user := g.world.user(job.Username)
	body := map[string]any{
		"allowed_agents": agents,
		"job":            map[string]any{"id": job.ID},
		"pipeline":       map[string]any{"id": job.PipelineID},
		"project":        map[string]any{"id": p.ID, "groups": groups},
		"user":           map[string]any{"id": user.ID, "username": user.Username, "roles_in_project": rolesUpTo(g.world.projectAccess(p, user.Username))},
	}
	if env := job.Environment; env != nil {
		body["environment"] = map[string]any{"tier": env.Tier, "slug": env.Slug}
	}
	writeJSON(w, http.StatusOK, body)
}

// projectIdentity is API::Entities::ProjectIdentity.
func projectIdentity(p *Project) map[string]any {
	name := p.Path[strings.LastIndexByte(p.Path, '/')+1:]
	return map[string]any{
		"id": p.ID, "description": nil, "name": name, "name_with_namespace": strings.ReplaceAll(p.Path, "/", " / "),
		"path": name, "path_with_namespace": p.Path, "created_at": "2023-10-01T00:00:00.000Z",
	}
}

// authorizeProxyUser answers internal/gitlab/api/authorize_proxy_user.go:
// may this personal access token use this agent, and as whom (gitlabhq
// lib/api/internal/kubernetes.rb, POST authorize_proxy_user, and
// lib/api/helpers/kubernetes/agent_helpers.rb for the token checks). A
// browser session (access_type session_cookie) is not modelled.
func (g *GitLab) authorizeProxyUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AgentID    json.Number `json:"agent_id"`
		AccessType string      `json:"access_type"`
		AccessKey  string      `json:"access_key"`
	}
	if decodeProtoJSON(r, &body) != nil || body.AccessType != "personal_access_token" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "400 Bad request - Invalid access_key"})
		return
	}
	pat := g.world.pat(body.AccessKey)
	if pat == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "400 Bad request - Unable to get user from request data"})
		return
	}
	if status, problem := g.validatePAT(pat, "k8s_proxy"); status != 0 {
		writeJSON(w, status, problem)
		return
	}
	id, _ := body.AgentID.Int64()
	a := g.world.agent(id)
	if a == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		return
	}
	// GitLab reads config.yaml at the default branch, as KAS does.
	current := *a
	if data, err := os.ReadFile(agentConfigFile(g.repos, g.world.project(a.ProjectID), a.Name)); err == nil {
		current.Config = string(data)
	} else {
		current.Config = ""
	}
	auth := g.world.authorizeProxyUser(g.world.user(pat.Username), &current)
	if auth == nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
		return
	}
	writeJSON(w, http.StatusOK, auth)
}

// validatePAT is GitLab's check of an access token for an API call
// (Gitlab::Auth::AuthFinders#validate_access_token!): revoked and expired
// tokens are 401 invalid_token, a token without any of the scopes 403
// insufficient_scope. It returns 0 when the token may be used.
func (g *GitLab) validatePAT(pat *PAT, scopes ...string) (int, map[string]string) {
	switch {
	case pat.Revoked:
		return http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."}
	case pat.expired(time.Now()):
		return http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token has expired."}
	}
	if len(scopes) > 0 && !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(pat.Scopes, s) }) {
		return http.StatusForbidden, map[string]string{"error": "insufficient_scope",
			"error_description": "The request requires higher privileges than provided by the access token.", "scope": strings.Join(scopes, " ")}
	}
	return 0, nil
}

func privateToken(r *http.Request) string {
	if t := r.Header.Get("Private-Token"); t != "" {
		return t
	}
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}

// authenticatePAT finds the request's personal access token and checks it
// for the scopes; it writes the error response and returns nil if it may
// not be used. A job token does not authenticate these routes: they lack
// job_token_allowed.
func (g *GitLab) authenticatePAT(w http.ResponseWriter, r *http.Request, scopes ...string) *PAT {
	pat := g.world.pat(privateToken(r))
	if pat == nil {
		unauthorized(w)
		return nil
	}
	if status, problem := g.validatePAT(pat, scopes...); status != 0 {
		writeJSON(w, status, problem)
		return nil
	}
	return pat
}

// metadata is GET /api/v4/metadata as GitLab 16.5 answers it (gitlabhq
// lib/api/metadata.rb): KAS's externalUrl, from which clients derive the
// k8s-proxy URL; externalK8sProxyUrl came with GitLab 17.6.
func (g *GitLab) metadata(w http.ResponseWriter, r *http.Request) {
	if g.authenticatePAT(w, r, "api", "read_api", "read_user") == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": "16.5.0-ee", "revision": "8daa08cc", "enterprise": true,
		"kas": map[string]any{"enabled": true, "externalUrl": g.kasURL, "version": strings.TrimPrefix(Version, "v")},
	})
}

// patSelf is GET /api/v4/personal_access_tokens/self (gitlabhq
// lib/api/personal_access_tokens/self_information.rb): any scope will do.
func (g *GitLab) patSelf(w http.ResponseWriter, r *http.Request) {
	pat := g.authenticatePAT(w, r)
	if pat == nil {
		return
	}
	var expires any
	if pat.ExpiresAt != "" {
		expires = pat.ExpiresAt
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": pat.ID, "name": pat.Name, "revoked": pat.Revoked, "created_at": "2023-10-01T00:00:00.000Z",
		"scopes": pat.Scopes, "user_id": g.world.user(pat.Username).ID, "last_used_at": nil,
		"active": !pat.Revoked && !pat.expired(time.Now()), "expires_at": expires,
	})
}
