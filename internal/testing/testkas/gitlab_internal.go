package testkas

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// authorizeProxyUser is GitLab's POST /internal/kubernetes/authorize_proxy_user
// (gitlabhq/gitlabhq lib/api/internal/kubernetes.rb,
// lib/api/helpers/kubernetes/agent_helpers.rb,
// app/services/clusters/agents/authorize_proxy_user_service.rb and its EE
// override). Only KAS may call it.
func (s *Server) authorizeProxyUser(w http.ResponseWriter, r *http.Request, cfg Config) {
	if r.Context().Value(internalCall{}) == nil { // authenticate_gitlab_kas_request!
		unauthorized(w)
		return
	}
	var in struct {
		AgentID    string `json:"agent_id"`
		AccessType string `json:"access_type"`
		AccessKey  string `json:"access_key"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "agent_id is missing"}})
		return
	}
	agentID, err := strconv.ParseInt(in.AgentID, 10, 64)
	if err != nil {
		writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "agent_id is invalid"}})
		return
	}
	var pat *PAT
	switch in.AccessType {
	case "session_cookie":
		// testkas has no browser sessions: decrypt_public_session_id fails.
		gitlabMessage(w, http.StatusBadRequest, "400 Bad request - Invalid access_key")
		return
	case "personal_access_token":
		// PersonalAccessToken.find_by_token, then
		// validate_and_save_access_token!(scopes: [:k8s_proxy]).
		pat = findPAT(&cfg, in.AccessKey)
		switch {
		case pat == nil:
		case patExpired(pat):
			invalidToken(w, expiredDescription)
			return
		case pat.Revoked:
			invalidToken(w, revokedDescription)
			return
		case !slices.Contains(pat.Scopes, "k8s_proxy"):
			insufficientScope(w, []string{"k8s_proxy"})
			return
		}
	default:
		writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "access_type does not have a valid value"}})
		return
	}
	if pat == nil {
		gitlabMessage(w, http.StatusBadRequest, "400 Bad request - Unable to get user from request data")
		return
	}
	agent := s.agent(cfg, agentID)
	if agent == nil { // Clusters::Agent.find
		gitlabMessage(w, http.StatusNotFound, "404 Not found")
		return
	}
	// The user_access entry (from config.yaml on the default branch) must
	// list a project or group where the user is at least Developer
	// (use_k8s_proxies).
	if !slices.Contains(pat.Agents, agentID) || !atLeast(pat.Role, "developer") {
		gitlabMessage(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	ua := agent.UserAccess
	if ua == nil {
		ua = &UserAccess{Projects: []int64{agent.ConfigProjectID}}
	}
	userID, username := patUser(pat)
	out := object{
		{"agent", object{{"id", agent.ID}, {"config_project", object{{"id", agent.ConfigProjectID}}}}},
		{"user", object{{"id", userID}, {"username", username}}},
	}
	if ua.AsAgent {
		out = append(out, member{"access_as", object{{"agent", object{}}}})
	} else {
		access := func(ids []int64) []any {
			list := []any{}
			for _, id := range ids {
				list = append(list, object{{"id", id}, {"roles", rolesUpTo(pat.Role)}})
			}
			return list
		}
		out = append(out, member{"access_as", object{{"user", object{{"projects", access(ua.Projects)}, {"groups", access(ua.Groups)}}}}})
	}
	writeGitLabJSON(w, http.StatusCreated, out) // Grape's default for POST
}

// patUser is the token's owner; a PAT without one belongs to root (user 1).
func patUser(p *PAT) (int64, string) {
	if p.Username == "" && p.UserID == 0 {
		return 1, "root"
	}
	return p.UserID, p.Username
}

func mustParseURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}
