package testkas

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serveGitLab answers the REST endpoints the plugin calls. Unknown routes
// get Grape's catch-all (gitlabhq/gitlabhq lib/api/api.rb, route :any,
// '*path'): 404 {"error":"404 Not Found"}.
func (s *Server) serveGitLab(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4")
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case (path == "/metadata" || path == "/version") && get:
		s.metadata(w, r, cfg)
	case path == "/job/allowed_agents" && get:
		if job := s.authenticateJob(w, r, cfg); job != nil {
			writeGitLabJSON(w, http.StatusOK, allowedAgents(cfg, job))
		}
	case path == "/personal_access_tokens/self" && get:
		if s.oauthTokenRefused(w, r) {
			return
		}
		if pat := s.authenticatePAT(w, r, cfg, allScopes); pat != nil {
			writeGitLabJSON(w, http.StatusOK, patJSON(pat))
		}
	case path == "/personal_access_tokens/self" && r.Method == http.MethodDelete:
		s.revokePATSelf(w, r, cfg)
	case path == "/user" && get:
		s.currentUser(w, r, cfg)
	case path == "/user/personal_access_tokens" && r.Method == http.MethodPost:
		s.createPAT(w, r, cfg)
	case path == "/personal_access_tokens/self/rotate" && r.Method == http.MethodPost:
		s.rotate(w, r)
	case path == "/internal/kubernetes/authorize_proxy_user" && r.Method == http.MethodPost:
		s.authorizeProxyUser(w, r, cfg)
	case strings.HasPrefix(path, "/projects/") && get:
		s.clusterAgents(w, r, cfg, strings.TrimPrefix(path, "/projects/"))
	default:
		writeGitLabJSON(w, http.StatusNotFound, object{{"error", "404 Not Found"}})
	}
}

// gitlabMessage is Grape's render_api_error!: {"message": "<status> <text>"}.
func gitlabMessage(w http.ResponseWriter, status int, message string) {
	writeGitLabJSON(w, status, object{{"message", message}})
}

func unauthorized(w http.ResponseWriter) {
	gitlabMessage(w, http.StatusUnauthorized, "401 Unauthorized")
}

// Scopes each endpoint accepts: allow_access_with_scope of the endpoint's
// class, then API::API's api and read_api (read_api only for GET and HEAD)
// — lib/api/api.rb, lib/api/helpers.rb scopes_registered_for_endpoint.
// The insufficient_scope body lists them all, in this order.
var (
	metadataScopes = []string{"read_user", "ai_features", "api", "read_api"} // lib/api/metadata.rb
	apiScopes      = []string{"api", "read_api"}
	rotateScopes   = []string{"api", "self_rotate", "api", "read_api"} // lib/api/personal_access_tokens/self_rotation.rb
	allScopes      []string                                            // self_information.rb: Gitlab::Auth.all_available_scopes
)

// scopeAllows is AccessTokenValidationService#include_any_scope?: has
// holds one of scopes.
func scopeAllows(has, scopes []string, r *http.Request) bool {
	if scopes == nil {
		return true
	}
	for _, s := range scopes {
		if s == "read_api" && r.Method != http.MethodGet && r.Method != http.MethodHead {
			continue
		}
		if slices.Contains(has, s) {
			return true
		}
	}
	return false
}

// Bodies of lib/api/api_guard.rb oauth2_bearer_token_error_handler, as
// rack-oauth2 renders them (Abstract::Error#finish; realm is rack-oauth2's
// DEFAULT_REALM since the error is built outside its middleware).
const (
	expiredDescription = "Token is expired. You can either do re-authorization or token refresh."
	revokedDescription = "Token was revoked. You have to re-authorize from the user."
	scopeDescription   = "The request requires higher privileges than provided by the access token."
)

func invalidToken(w http.ResponseWriter, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="`+description+`"`)
	writeGitLabJSON(w, http.StatusUnauthorized, object{{"error", "invalid_token"}, {"error_description", description}})
}

// insufficientScope is rack-oauth2's Bearer::Forbidden: no
// WWW-Authenticate (GitLab's FIXME in api_guard.rb says so).
func insufficientScope(w http.ResponseWriter, scopes []string) {
	writeGitLabJSON(w, http.StatusForbidden, object{{"error", "insufficient_scope"},
		{"error_description", scopeDescription}, {"scope", strings.Join(scopes, " ")}})
}

// patToken is the personal access token a request carries:
// lib/gitlab/auth/auth_finders.rb reads PRIVATE-TOKEN (header or
// private_token param), then Authorization: Bearer.
func patToken(r *http.Request) string {
	if t := r.Header.Get("Private-Token"); t != "" {
		return t
	}
	if t := r.URL.Query().Get("private_token"); t != "" {
		return t
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	return ""
}

func findPAT(cfg *Config, token string) *PAT {
	if token == "" {
		return nil
	}
	for i := range cfg.PATs {
		if cfg.PATs[i].Token == token {
			return &cfg.PATs[i]
		}
	}
	return nil
}

// authenticatePAT is authenticate! with a personal access token: unknown
// → 401 message; then AccessTokenValidationService#validate's order:
// expired, revoked, scope. A job token is never a PAT: auth_finders.rb
// skips tokens with the job-token prefix, and an unprefixed one is not
// found. It writes the failure and returns nil.
func (s *Server) authenticatePAT(w http.ResponseWriter, r *http.Request, cfg Config, scopes []string) *PAT {
	pat := findPAT(&cfg, patToken(r))
	switch {
	case pat == nil:
		unauthorized(w)
	case patExpired(pat):
		invalidToken(w, expiredDescription)
	case pat.Revoked:
		invalidToken(w, revokedDescription)
	case !scopeAllows(pat.Scopes, scopes, r):
		insufficientScope(w, scopes)
	default:
		return pat
	}
	return nil
}

// patExpired: a token expires at 00:00 UTC of its expires_at day
// (app/models/concerns/expirable.rb).
func patExpired(p *PAT) bool {
	if p.ExpiresAt == "" {
		return false
	}
	day, err := time.Parse(time.DateOnly, p.ExpiresAt)
	return err == nil && !time.Now().UTC().Before(day)
}

// patJSON is Entities::PersonalAccessToken as GitLab 16.x–17.x render it
// (lib/api/entities/personal_access_token.rb).
func patJSON(p *PAT) object {
	var expires any
	if p.ExpiresAt != "" {
		expires = p.ExpiresAt
	}
	scopes := p.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	created := "2026-01-01T00:00:00.000Z"
	if !p.CreatedAt.IsZero() {
		created = p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") // Rails' JSON time
	}
	return object{{"id", p.ID}, {"name", p.Name}, {"revoked", p.Revoked}, {"created_at", created},
		{"description", nil}, {"scopes", scopes}, {"user_id", p.UserID}, {"last_used_at", nil},
		{"active", !p.Revoked && !patExpired(p)}, {"expires_at", expires}}
}

// jobToken is the job token a request carries on a route with
// job_token_allowed: JOB-TOKEN, the job_token param, or a Bearer token
// (auth_finders.rb find_user_from_job_token, find_user_from_job_bearer_token).
func jobToken(r *http.Request) string {
	if t := r.Header.Get("Job-Token"); t != "" {
		return t
	}
	if t := r.URL.Query().Get("job_token"); t != "" {
		return t
	}
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}

// authenticateJob is authenticate! on a job_token_allowed route followed
// by validate_current_authenticated_job (lib/api/ci/jobs.rb): a token of
// no running job → 401; a blocked user → 403; a personal access token →
// 404 Job Not Found.
func (s *Server) authenticateJob(w http.ResponseWriter, r *http.Request, cfg Config) *Job {
	token := jobToken(r)
	for i := range cfg.Jobs {
		job := &cfg.Jobs[i]
		if token == "" || job.Token != token {
			continue
		}
		switch {
		case job.Finished: // Ci::AuthJobFinder: only running jobs' tokens are valid
			unauthorized(w)
		case job.UserBlocked: // find_current_user! → forbidden!(api_access_denied_message)
			gitlabMessage(w, http.StatusForbidden, "403 Forbidden - Your account has been blocked.")
		default:
			return job
		}
		return nil
	}
	if pat := s.authenticatePAT(w, r, cfg, apiScopes); pat != nil {
		gitlabMessage(w, http.StatusNotFound, "404 Job Not Found")
	}
	return nil
}

// metadata is GET /metadata and its alias /version (lib/api/metadata.rb):
// no job token (the route is not job_token_allowed), scopes read_user,
// ai_features, api, read_api. The body is the GraphQL query's
// data.metadata, keys in the query's order; externalK8sProxyUrl is asked
// since 17.6 (absent before); disabled KAS has nulls
// (app/models/app_config/kas_metadata.rb).
func (s *Server) metadata(w http.ResponseWriter, r *http.Request, cfg Config) {
	if s.authenticateUser(w, r, cfg, metadataScopes) == nil {
		return
	}
	version := "17.7.0" // 17.6+ has externalK8sProxyUrl; 17.7 the planner role
	kas := object{{"enabled", true}, {"externalUrl", s.ExternalURL}, {"externalK8sProxyUrl", s.K8sProxyURL}, {"version", version}}
	switch cfg.Metadata {
	case MetadataLegacy:
		version = "17.5.0"
		kas = object{{"enabled", true}, {"externalUrl", s.ExternalURL}, {"version", version}}
	case MetadataKASDisabled:
		kas = object{{"enabled", false}, {"externalUrl", nil}, {"externalK8sProxyUrl", nil}, {"version", nil}}
	}
	writeGitLabJSON(w, http.StatusOK, object{{"version", version}, {"revision", "0123456789a"}, {"kas", kas}, {"enterprise", false}})
}

func (s *Server) agent(cfg Config, id int64) *Agent {
	for i := range cfg.Agents {
		if cfg.Agents[i].ID == id {
			return &cfg.Agents[i]
		}
	}
	return nil
}

// projectJSON is Entities::ProjectIdentity (lib/api/entities/project_identity.rb).
func projectJSON(id int64, path string) object {
	name := path[strings.LastIndexByte(path, '/')+1:]
	return object{{"id", id}, {"description", nil}, {"name", name}, {"name_with_namespace", strings.ReplaceAll(path, "/", " / ")},
		{"path", name}, {"path_with_namespace", path}, {"created_at", "2026-01-01T00:00:00.000Z"}}
}

// roles are Gitlab::Access.sym_options_with_owner, lowest first (planner
// since 17.7).
var roles = []string{"guest", "planner", "reporter", "developer", "maintainer", "owner"}

// rolesUpTo is every role at or below role ("" is developer, NoAccess none).
func rolesUpTo(role string) []string {
	if role == "" {
		role = "developer"
	}
	i := slices.Index(roles, role)
	return append([]string{}, roles[:i+1]...)
}

// atLeast reports whether role reaches min.
func atLeast(role, min string) bool {
	return slices.Contains(rolesUpTo(role), min)
}

// allowedAgents is GET /job/allowed_agents (lib/api/ci/jobs.rb): a hash
// with .compact, so environment is absent without one. configuration is
// the ci_access entry minus its id
// (app/services/clusters/agents/authorizations/ci_access/refresh_service.rb),
// {} for the implicit authorization.
func allowedAgents(cfg Config, job *Job) object {
	agents := []any{}
	for _, auth := range jobAuthorizations(cfg, job) {
		a := auth.agent
		agents = append(agents, object{{"id", a.ID}, {"config_project", projectJSON(a.ConfigProjectID, a.ConfigProjectPath)},
			{"configuration", auth.config}})
	}
	groups := []any{}
	for _, g := range job.GroupIDs {
		groups = append(groups, object{{"id", g}})
	}
	userID, username := jobUser(job)
	out := object{
		{"allowed_agents", agents},
		{"job", object{{"id", job.ID}}},
		{"pipeline", object{{"id", job.PipelineID}}},
		{"project", object{{"id", job.ProjectID}, {"groups", groups}}},
		{"user", object{{"id", userID}, {"username", username}, {"roles_in_project", rolesUpTo(job.Role)}}},
	}
	if job.Environment != nil {
		out = append(out, member{"environment", object{{"tier", job.Environment.Tier}, {"slug", job.Environment.Slug}}})
	}
	return out
}

// jobUser is who the job runs as; a Job without one runs as root (user 1).
func jobUser(job *Job) (int64, string) {
	if job.Username == "" && job.UserID == 0 {
		return 1, "root"
	}
	return job.UserID, job.Username
}

// ciAccessConfiguration is the stored ci_access entry of a job's
// authorization: {} for the implicit one, else ciAccessEntry.
func ciAccessConfiguration(a *Agent) object {
	if a.AccessAs.Implicit {
		return object{}
	}
	return ciAccessEntry(a)
}

// ciAccessEntry is the agent's ci_access entry minus its id, keys as the
// agent's config.yaml has them (default_namespace, access_as).
func ciAccessEntry(a *Agent) object {
	conf := object{}
	if a.DefaultNamespace != "" {
		conf = append(conf, member{"default_namespace", a.DefaultNamespace})
	}
	switch {
	case a.AccessAs.CIJob:
		conf = append(conf, member{"access_as", object{{"ci_job", object{}}}})
	case a.AccessAs.Impersonate != nil:
		conf = append(conf, member{"access_as", object{{"impersonate", impersonateJSON(a.AccessAs.Impersonate)}}})
	}
	return conf
}

// impersonateJSON renders access_as.impersonate as the agent config
// holds it: username, and uid, groups and extra when set.
func impersonateJSON(id *Identity) object {
	out := object{{"username", id.Username}}
	if id.UID != "" {
		out = append(out, member{"uid", id.UID})
	}
	if len(id.Groups) > 0 {
		out = append(out, member{"groups", id.Groups})
	}
	if len(id.Extra) > 0 {
		var extra []any
		for _, k := range sortedKeys(id.Extra) {
			extra = append(extra, object{{"key", k}, {"val", id.Extra[k]}})
		}
		out = append(out, member{"extra", extra})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// findProject finds a project GitLab knows (Config.Projects, a job's, an
// agent's configuration project) by find_project!'s rule: a numeric ID,
// or the full path (case-insensitive).
func findProject(cfg Config, ref string) *Project {
	all := append([]Project(nil), cfg.Projects...)
	for _, j := range cfg.Jobs {
		if j.ProjectPath != "" {
			all = append(all, Project{ID: j.ProjectID, Path: j.ProjectPath, GroupIDs: j.GroupIDs})
		}
	}
	for _, a := range cfg.Agents {
		all = append(all, Project{ID: a.ConfigProjectID, Path: a.ConfigProjectPath})
	}
	for _, p := range all {
		if ref == strconv.FormatInt(p.ID, 10) || strings.EqualFold(ref, p.Path) {
			return &p
		}
	}
	return nil
}

// clusterAgents is GET /projects/:id/cluster_agents[/:agent_id]
// (lib/api/clusters/agents.rb): PAT with api or read_api; project not
// visible → 404 Project Not Found; no read_cluster (below Developer) →
// 404 ClusterAgents Not Found for the list and 404 Not found for one
// agent; the list ordered by name (AgentsFinder#execute ordered_by_name)
// and paginated.
func (s *Server) clusterAgents(w http.ResponseWriter, r *http.Request, cfg Config, rest string) {
	ref, tail, _ := strings.Cut(rest, "/")
	agentID, single := strings.CutPrefix(tail, "cluster_agents/")
	if tail != "cluster_agents" && !single {
		writeGitLabJSON(w, http.StatusNotFound, object{{"error", "404 Not Found"}})
		return
	}
	who := s.authenticateUser(w, r, cfg, apiScopes)
	if who == nil {
		return
	}
	pat := who.user.asViewer(who.scopes)
	ref, _ = url.PathUnescape(ref)
	p := findProject(cfg, ref)
	if p == nil || pat.roleIn(p.ID) == NoAccess {
		gitlabMessage(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	readCluster := atLeast(pat.roleIn(p.ID), "developer") // ProjectPolicy: developer enables read_cluster
	var agents []Agent
	for _, a := range cfg.Agents {
		if a.ConfigProjectID == p.ID {
			agents = append(agents, a)
		}
	}
	if single {
		id, err := strconv.ParseInt(agentID, 10, 64)
		if err != nil {
			writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "agent_id is invalid"}})
			return
		}
		for _, a := range agents {
			if a.ID == id && readCluster {
				writeGitLabJSON(w, http.StatusOK, agentJSON(a))
				return
			}
		}
		gitlabMessage(w, http.StatusNotFound, "404 Not found") // ActiveRecord::RecordNotFound
		return
	}
	if !readCluster {
		gitlabMessage(w, http.StatusNotFound, "404 ClusterAgents Not Found")
		return
	}
	slices.SortStableFunc(agents, func(a, b Agent) int { return strings.Compare(a.Name, b.Name) })
	page, ok := paginate(w, r, s.URL, len(agents), map[string]string{"id": ref})
	if !ok {
		return
	}
	list := []any{}
	for _, a := range agents[page.from:page.to] {
		list = append(list, agentJSON(a))
	}
	writeGitLabJSON(w, http.StatusOK, list)
}

// agentJSON is Entities::Clusters::Agent (lib/api/entities/clusters/agent.rb).
func agentJSON(a Agent) object {
	return object{{"id", a.ID}, {"name", a.Name}, {"config_project", projectJSON(a.ConfigProjectID, a.ConfigProjectPath)},
		{"created_at", "2026-01-01T00:00:00.000Z"}, {"created_by_user_id", 1}}
}

// rotate is POST /personal_access_tokens/self/rotate
// (lib/api/personal_access_tokens/self_rotation.rb,
// app/services/personal_access_tokens/rotate_service.rb): scopes api or
// self_rotate, PRIVATE-TOKEN or Bearer; the old token is revoked and a new
// one made with the same name and scopes, expiring on expires_at or in a
// week. Presenting an already revoked token to a rotate path revokes its
// whole family, the newest token included (auth_finders.rb
// revoke_token_family).
func (s *Server) rotate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := findPAT(&s.cfg, patToken(r))
	if p != nil && p.Revoked {
		s.revokeFamily(p.Token)
	}
	if s.authenticatePAT(w, r, s.cfg, rotateScopes) == nil {
		return
	}
	expires := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	if v := r.FormValue("expires_at"); v != "" {
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "expires_at is invalid"}})
			return
		}
		expires = v
	}
	s.rotated++
	next := *p
	next.ID = p.ID + 1000
	next.Token = p.Token + "-r" + strconv.Itoa(s.rotated)
	next.ExpiresAt = expires
	p.Revoked = true
	family, ok := s.families[p.Token]
	if !ok {
		family = len(s.families) + 1
		s.families[p.Token] = family
	}
	s.families[next.Token] = family
	s.cfg.PATs = append(s.cfg.PATs, next)
	writeGitLabJSON(w, http.StatusOK, append(patJSON(&next), member{"token", next.Token}))
}

// revokeFamily revokes every token rotated from the same first token.
func (s *Server) revokeFamily(token string) {
	family, ok := s.families[token]
	if !ok {
		return
	}
	for i := range s.cfg.PATs {
		if s.families[s.cfg.PATs[i].Token] == family {
			s.cfg.PATs[i].Revoked = true
		}
	}
}
