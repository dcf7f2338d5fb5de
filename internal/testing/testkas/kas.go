package testkas

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// kasStatus writes the Kubernetes Status that KAS answers with. Every 401
// KAS itself produces carries Gitlab-Unauthorized: true.
func kasStatus(w http.ResponseWriter, code int, reason, message string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("Gitlab-Unauthorized", "true")
	}
	b := make([]byte, 8)
	rand.Read(b)
	writeJSON(w, code, map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Failure",
		"message": "GitLab Agent Server: " + message + ". Trace ID: " + hex.EncodeToString(b), "reason": reason, "code": code,
	})
}

// serveKAS authenticates a k8s-proxy request as KAS does, then hands it to
// the cluster as the identity the agent's access_as gives.
func (s *Server) serveKAS(w http.ResponseWriter, r *http.Request, path string) {
	cfg := s.config()
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		kasStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	// The token splits on its first two colons; the secret may hold more.
	parts := strings.SplitN(bearer, ":", 3)
	if len(parts) != 3 {
		kasStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	agentID, err := strconv.ParseInt(parts[1], 10, 64)
	agent := s.agent(cfg, agentID)
	if err != nil || agent == nil {
		kasStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	var id Identity
	switch parts[0] {
	case "ci":
		job := s.job(cfg, parts[2])
		if job == nil {
			kasStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		if !slices.Contains(job.AllowedAgents, agentID) {
			kasStatus(w, http.StatusForbidden, "Forbidden", "Forbidden: agentId is not allowed")
			return
		}
		id = ciIdentity(agent, job)
	case "pat":
		pat := s.patByToken(cfg, parts[2])
		// A rejected PAT is always 401, so agent IDs cannot be enumerated.
		if pat == nil || !slices.Contains(pat.Scopes, "k8s_proxy") || !slices.Contains(pat.Agents, agentID) {
			kasStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			return
		}
		id = Identity{Username: "gitlab:user:" + pat.Username, Groups: []string{"gitlab:user"},
			Extra: map[string][]string{"agent.gitlab.com/id": {strconv.FormatInt(agent.ID, 10)}, "agent.gitlab.com/username": {pat.Username}}}
	default:
		kasStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	impersonating := agent.AccessAs.CIJob || agent.AccessAs.Impersonate != nil || parts[0] == "pat"
	if impersonating && hasImpersonation(r.Header) {
		kasStatus(w, http.StatusBadRequest, "BadRequest", "Bad Request: impersonation is not allowed when access_as is not the agent")
		return
	}
	if cfg.Upstream != nil {
		s.forward(w, r, path, cfg.Upstream, id, impersonating)
		return
	}
	serveKube(w, r, path, cfg, id)
}

func (s *Server) patByToken(cfg Config, token string) *PAT {
	for i := range cfg.PATs {
		p := &cfg.PATs[i]
		if p.Token == token && !p.Revoked && !patExpired(p) {
			return p
		}
	}
	return nil
}

func hasImpersonation(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "impersonate-") {
			return true
		}
	}
	return false
}

// agentIdentity is the agent's own service account.
var agentIdentity = Identity{
	Username: "system:serviceaccount:gitlab-agent:gitlab-agent",
	Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:gitlab-agent", "system:authenticated"},
}

// ciIdentity is who a job acts as, by the agent's access_as (the GitLab
// page, "Impersonate the CI/CD job that accesses the cluster").
func ciIdentity(a *Agent, job *Job) Identity {
	switch {
	case a.AccessAs.Impersonate != nil:
		return *a.AccessAs.Impersonate
	case !a.AccessAs.CIJob:
		return agentIdentity
	}
	id := Identity{Username: "gitlab:ci_job:" + itoa(job.ID), Groups: []string{"gitlab:ci_job"}}
	for _, g := range job.GroupIDs {
		id.Groups = append(id.Groups, "gitlab:group:"+itoa(g))
		if job.Environment != nil {
			id.Groups = append(id.Groups, "gitlab:group_env_tier:"+itoa(g)+":"+job.Environment.Tier)
		}
	}
	id.Groups = append(id.Groups, "gitlab:project:"+itoa(job.ProjectID))
	if job.Environment != nil {
		id.Groups = append(id.Groups,
			"gitlab:project_env:"+itoa(job.ProjectID)+":"+job.Environment.Slug,
			"gitlab:project_env_tier:"+itoa(job.ProjectID)+":"+job.Environment.Tier)
	}
	id.Extra = map[string][]string{
		"agent.gitlab.com/id":                {itoa(a.ID)},
		"agent.gitlab.com/config_project_id": {itoa(a.ConfigProjectID)},
		"agent.gitlab.com/project_id":        {itoa(job.ProjectID)},
		"agent.gitlab.com/ci_pipeline_id":    {itoa(job.PipelineID)},
		"agent.gitlab.com/ci_job_id":         {itoa(job.ID)},
		"agent.gitlab.com/username":          {job.Username},
	}
	if job.Environment != nil {
		id.Extra["agent.gitlab.com/environment_slug"] = []string{job.Environment.Slug}
		id.Extra["agent.gitlab.com/environment_tier"] = []string{job.Environment.Tier}
	}
	return id
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// forward proxies to a real API server. The agent's own credentials are in
// the upstream transport; the job's identity travels as Impersonate-*.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, path string, up *Upstream, id Identity, impersonate bool) {
	target, err := url.Parse(up.URL)
	if err != nil {
		kasStatus(w, http.StatusBadGateway, "InternalError", "bad upstream URL")
		return
	}
	proxy := &httputil.ReverseProxy{
		Transport: up.Transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			pr.Out.URL.Path = strings.TrimSuffix(target.Path, "/") + path
			pr.Out.URL.RawPath = ""
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization")
			if !impersonate {
				return
			}
			pr.Out.Header.Set("Impersonate-User", id.Username)
			for _, g := range id.Groups {
				pr.Out.Header.Add("Impersonate-Group", g)
			}
			if id.UID != "" {
				pr.Out.Header.Set("Impersonate-Uid", id.UID)
			}
			for k, vs := range id.Extra {
				for _, v := range vs {
					pr.Out.Header.Add("Impersonate-Extra-"+url.PathEscape(k), v)
				}
			}
		},
	}
	proxy.ServeHTTP(w, r)
}
