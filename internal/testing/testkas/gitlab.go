package testkas

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func unauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
}

// serveGitLab answers the few REST endpoints the plugin calls.
func (s *Server) serveGitLab(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4")
	switch {
	case path == "/metadata" && r.Method == http.MethodGet:
		if s.job(cfg, r.Header.Get("Job-Token")) == nil && s.userPAT(cfg, r) == nil {
			unauthorized(w)
			return
		}
		writeJSON(w, http.StatusOK, s.metadata(cfg))
	case path == "/job/allowed_agents" && r.Method == http.MethodGet:
		job := s.job(cfg, r.Header.Get("Job-Token"))
		if job == nil {
			unauthorized(w)
			return
		}
		writeJSON(w, http.StatusOK, allowedAgents(cfg, job))
	case path == "/personal_access_tokens/self" && r.Method == http.MethodGet:
		pat, status, body := s.patSelf(cfg, r)
		if pat == nil {
			writeJSON(w, status, body)
			return
		}
		writeJSON(w, http.StatusOK, patJSON(pat))
	case path == "/personal_access_tokens/self/rotate" && r.Method == http.MethodPost:
		s.rotate(w, r)
	case strings.HasPrefix(path, "/projects/") && r.Method == http.MethodGet:
		s.clusterAgents(w, r, cfg, strings.TrimPrefix(path, "/projects/"))
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
	}
}

func (s *Server) job(cfg Config, token string) *Job {
	if token == "" {
		return nil
	}
	for i := range cfg.Jobs {
		if cfg.Jobs[i].Token == token {
			return &cfg.Jobs[i]
		}
	}
	return nil
}

// userPAT finds a usable PAT from PRIVATE-TOKEN or Authorization: Bearer.
func (s *Server) userPAT(cfg Config, r *http.Request) *PAT {
	pat, _, _ := s.patSelf(cfg, r)
	return pat
}

// patSelf authenticates a PAT as GitLab does: unknown, revoked and expired
// tokens get 401 with an OAuth-style error description.
func (s *Server) patSelf(cfg Config, r *http.Request) (*PAT, int, any) {
	token := r.Header.Get("Private-Token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	for i := range cfg.PATs {
		p := &cfg.PATs[i]
		if p.Token != token || token == "" {
			continue
		}
		switch {
		case p.Revoked:
			return nil, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."}
		case patExpired(p):
			return nil, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token has expired."}
		}
		return p, http.StatusOK, nil
	}
	return nil, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"}
}

// patExpired: a token expires at midnight UTC of its expires_at day.
func patExpired(p *PAT) bool {
	if p.ExpiresAt == "" {
		return false
	}
	day, err := time.Parse("2006-01-02", p.ExpiresAt)
	return err == nil && !time.Now().UTC().Before(day)
}

func patJSON(p *PAT) map[string]any {
	var expires any
	if p.ExpiresAt != "" {
		expires = p.ExpiresAt
	}
	return map[string]any{
		"id": p.ID, "name": p.Name, "revoked": p.Revoked, "created_at": "2026-01-01T00:00:00.000Z",
		"scopes": p.Scopes, "user_id": p.UserID, "last_used_at": nil, "active": !p.Revoked && !patExpired(p),
		"expires_at": expires,
	}
}

// rotate replaces a PAT that has the self_rotate scope with a new one.
func (s *Server) rotate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	token := r.Header.Get("Private-Token")
	for i := range s.cfg.PATs {
		p := &s.cfg.PATs[i]
		if p.Token != token || token == "" || p.Revoked || patExpired(p) {
			continue
		}
		if !slices.Contains(p.Scopes, "self_rotate") && !slices.Contains(p.Scopes, "api") {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
			return
		}
		s.rotated++
		next := *p
		next.ID = p.ID + 1000
		next.Token = p.Token + "-r" + strconv.Itoa(s.rotated)
		next.ExpiresAt = time.Now().UTC().AddDate(0, 0, 7).Format("2006-01-02")
		p.Revoked = true
		s.cfg.PATs = append(s.cfg.PATs, next)
		body := patJSON(&next)
		body["token"] = next.Token
		writeJSON(w, http.StatusOK, body)
		return
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
}

func (s *Server) metadata(cfg Config) map[string]any {
	host := strings.TrimPrefix(s.URL, "https://")
	kas := map[string]any{"enabled": true, "externalUrl": "wss://" + host + "/-/kubernetes-agent/", "externalK8sProxyUrl": s.K8sProxyURL, "version": "17.6.0"}
	switch cfg.Metadata {
	case MetadataLegacy:
		delete(kas, "externalK8sProxyUrl")
		kas["version"] = "17.5.0"
	case MetadataKASDisabled:
		kas = map[string]any{"enabled": false, "externalUrl": nil, "externalK8sProxyUrl": nil, "version": nil}
	}
	return map[string]any{"version": "17.6.0", "revision": "0123456789a", "enterprise": false, "kas": kas}
}

func (s *Server) agent(cfg Config, id int64) *Agent {
	for i := range cfg.Agents {
		if cfg.Agents[i].ID == id {
			return &cfg.Agents[i]
		}
	}
	return nil
}

func projectJSON(id int64, path string) map[string]any {
	name := path[strings.LastIndexByte(path, '/')+1:]
	return map[string]any{"id": id, "name": name, "path": name, "path_with_namespace": path,
		"name_with_namespace": strings.ReplaceAll(path, "/", " / "), "description": nil, "created_at": "2026-01-01T00:00:00.000Z"}
}

// allowedAgents is GET /api/v4/job/allowed_agents.
func allowedAgents(cfg Config, job *Job) map[string]any {
	agents := []any{}
	for _, id := range job.AllowedAgents {
		for _, a := range cfg.Agents {
			if a.ID != id {
				continue
			}
			conf := map[string]any{}
			if a.DefaultNamespace != "" {
				conf["default_namespace"] = a.DefaultNamespace
			}
			switch {
			case a.AccessAs.CIJob:
				conf["access_as"] = map[string]any{"ci_job": map[string]any{}}
			case a.AccessAs.Impersonate != nil:
				conf["access_as"] = map[string]any{"impersonate": impersonateJSON(a.AccessAs.Impersonate)}
			default:
				conf["access_as"] = map[string]any{"agent": map[string]any{}}
			}
			agents = append(agents, map[string]any{"id": a.ID, "config_project": projectJSON(a.ConfigProjectID, a.ConfigProjectPath), "configuration": conf})
		}
	}
	groups := []any{}
	for _, g := range job.GroupIDs {
		groups = append(groups, map[string]any{"id": g})
	}
	out := map[string]any{
		"allowed_agents": agents,
		"job":            map[string]any{"id": job.ID},
		"pipeline":       map[string]any{"id": job.PipelineID},
		"project":        map[string]any{"id": job.ProjectID, "groups": groups},
		"user":           map[string]any{"id": job.UserID, "username": job.Username, "roles_in_project": []string{"developer"}},
	}
	if job.Environment != nil {
		out["environment"] = map[string]any{"tier": job.Environment.Tier, "slug": job.Environment.Slug}
	}
	return out
}

// impersonateJSON renders access_as.impersonate as the agent config
// holds it: username, and uid, groups and extra when set.
func impersonateJSON(id *Identity) map[string]any {
	out := map[string]any{"username": id.Username}
	if id.UID != "" {
		out["uid"] = id.UID
	}
	if len(id.Groups) > 0 {
		out["groups"] = id.Groups
	}
	if len(id.Extra) > 0 {
		var extra []any
		for k, v := range id.Extra {
			extra = append(extra, map[string]any{"key": k, "val": v})
		}
		out["extra"] = extra
	}
	return out
}

// clusterAgents is GET /projects/:id/cluster_agents[/:agent_id], where :id
// is a numeric ID or a URL-encoded path.
func (s *Server) clusterAgents(w http.ResponseWriter, r *http.Request, cfg Config, rest string) {
	if s.userPAT(cfg, r) == nil {
		unauthorized(w)
		return
	}
	project, tail, _ := strings.Cut(rest, "/")
	project, _ = url.PathUnescape(project)
	if tail != "cluster_agents" && !strings.HasPrefix(tail, "cluster_agents/") {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	var list []any
	for _, a := range cfg.Agents {
		if project != a.ConfigProjectPath && project != strconv.FormatInt(a.ConfigProjectID, 10) {
			continue
		}
		item := map[string]any{"id": a.ID, "name": a.Name, "config_project": projectJSON(a.ConfigProjectID, a.ConfigProjectPath),
			"created_at": "2026-01-01T00:00:00.000Z", "created_by_user_id": 1}
		if id, ok := strings.CutPrefix(tail, "cluster_agents/"); ok {
			if id == strconv.FormatInt(a.ID, 10) {
				writeJSON(w, http.StatusOK, item)
				return
			}
			continue
		}
		list = append(list, item)
	}
	if strings.HasPrefix(tail, "cluster_agents/") || list == nil && !s.projectExists(cfg, project) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		return
	}
	if list == nil {
		list = []any{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) projectExists(cfg Config, project string) bool {
	for _, a := range cfg.Agents {
		if project == a.ConfigProjectPath || project == strconv.FormatInt(a.ConfigProjectID, 10) {
			return true
		}
	}
	return false
}
