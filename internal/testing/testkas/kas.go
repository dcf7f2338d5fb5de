package testkas

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What KAS 16.5 calls itself: "gitlab-kas/<version>/<commit>" in Server
// and Via (internal/module/kubernetes_api/server/factory.go), and agentk
// "gitlab-agent/<version>/<commit>" (internal/module/kubernetes_api/agent/factory.go).
const (
	kasServerName  = "gitlab-kas/v16.5.0/8daa08cc"
	agentkName     = "gitlab-agent/v16.5.0/8daa08cc"
	kasVia         = "gRPC/1.0 " + kasServerName
	agentkRequestV = "gRPC/1.0 " + agentkName
	// agentkRespVia is agentk's Via on a cluster's answer over HTTP/2, as
	// an API server over TLS answers: "<proto major>.<minor> gitlab-agent/…".
	agentkRespVia = "2.0 " + agentkName
)

// routingTunnelFindTimeout is how long KAS looks for an agent's tunnel
// (cmd/kas/kasapp/configured_app.go; not configurable in 16.5).
const routingTunnelFindTimeout = 20 * time.Second

// KAS's messages for what the tunnel and agentk report
// (cmd/kas/kasapp/router_kas.go findReadyTunnel;
// internal/module/kubernetes_api/agent/server.go restImpersonationConfig;
// internal/tool/grpctool inbound_http_to_outbound_grpc.go handleIoError
// turns a stream error before any response header into 502, and
// inbound_grpc_to_outbound_http.go wraps agentk's error as Unavailable).
const (
	pipeReadFailed         = "HTTP->gRPC: failed to read gRPC response"
	agentNotConnected      = "rpc error: code = DeadlineExceeded desc = Agent connection not found. Is agent up to date and connected?"
	nestedImpersonationErr = "rpc error: code = Unavailable desc = gRPC -> HTTP: nested impersonation is not supported - agent is already configured to impersonate an identity"
)

// kasError is KAS's grpctool.ErrResp: a status, a message and an optional
// error appended to it.
type kasError struct {
	code int
	msg  string
	err  error
}

// code2reason is proxy.go's code2reason; 502 has none, so reason is left
// out of the Status.
var code2reason = map[int]string{
	400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
	406: "NotAcceptable", 409: "AlreadyExists", 410: "Gone", 413: "RequestEntityTooLarge",
	415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
	500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}

// writeKASError is proxy.go writeErrorResponse: a metav1.Status in the
// media type the client accepts (JSON for kubectl), the message
// formatStatusMessage's; the trace ID suffix appears only with tracing on.
// code2reason has no 502, so a 502 has no reason.
func (s *Server) writeKASError(w http.ResponseWriter, r *http.Request, e kasError) {
	message := "GitLab Agent Server: " + e.msg
	if e.err != nil {
		message += ": " + e.err.Error()
	}
	if s.config().Tracing {
		b := make([]byte, 16)
		rand.Read(b)
		message += ". Trace ID: " + hex.EncodeToString(b)
	}
	info, ok := negotiateStatusMedia(r)
	if !ok {
		http.Error(w, "GitLab Agent Server: Failed to negotiate output media type: "+notAcceptable, http.StatusNotAcceptable)
		return
	}
	status := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Message: message, Reason: metav1.StatusReason(code2reason[e.code]), Code: int32(e.code)}
	var body bytes.Buffer
	if err := info.Serializer.Encode(status, &body); err != nil {
		http.Error(w, message, e.code)
		return
	}
	w.Header().Set("Content-Type", info.MediaType)
	w.WriteHeader(e.code)
	w.Write(body.Bytes())
}

// serveKAS is KAS's k8s-proxy (internal/module/kubernetes_api/server/proxy.go
// proxy and proxyInternal): CORS, credentials, authorization through
// GitLab, then the agent's tunnel. path is below KAS's url_path_prefix.
func (s *Server) serveKAS(w http.ResponseWriter, r *http.Request, path string) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		if origin != s.URL { // allowed origins: GitLab's external URL
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Vary", "Origin")
	}
	h.Set("Server", kasServerName) // removed again when the cluster's answer is relayed
	if r.Method == http.MethodOptions {
		h["Access-Control-Allow-Headers"] = r.Header["Access-Control-Request-Headers"]
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusOK)
		return
	}
	agentID, imp, e := s.authorizeRequest(r)
	if e != nil {
		if e.code == http.StatusUnauthorized {
			h.Set("Gitlab-Unauthorized", "true")
		}
		s.writeKASError(w, r, *e)
		return
	}
	cfg := s.config()
	agent := s.agent(cfg, agentID)
	if agent == nil || agent.Disconnected {
		s.waitForTunnel(w, r, cfg)
		return
	}
	if imp != nil && hasImpersonation(r.Header) {
		s.writeKASError(w, r, kasError{http.StatusBadGateway, pipeReadFailed, errors.New(nestedImpersonationErr)})
		return
	}
	stripGitLabCredentials(r)
	if cfg.Upstream != nil {
		s.forward(w, r, path, cfg.Upstream, imp)
		return
	}
	id := agentIdentity
	if imp != nil {
		id = *imp
	} else if clientID, ok := clientImpersonation(r.Header); ok {
		id = clientID // the cluster applies --as to the agent's service account
	}
	serveKube(&relayed{ResponseWriter: w}, r, path, cfg, id)
}

// waitForTunnel: no agentk holds a tunnel for the agent, so KAS's router
// keeps looking until its timeout, then the pipe answers 502. A client
// that gives up first gets nothing.
func (s *Server) waitForTunnel(w http.ResponseWriter, r *http.Request, cfg Config) {
	wait := cfg.TunnelFindTimeout
	if wait <= 0 {
		wait = routingTunnelFindTimeout
	}
	if waitOrDone(r.Context(), wait) == nil {
		s.writeKASError(w, r, kasError{http.StatusBadGateway, pipeReadFailed, errors.New(agentNotConnected)})
	}
}

// stripGitLabCredentials: what KAS removes before the request goes to the
// agent (proxy.go pipeStreams), and the Via it adds; agentk adds its own.
func stripGitLabCredentials(r *http.Request) {
	for _, name := range []string{"Authorization", "Cookie", "Gitlab-Agent-Id", "X-Csrf-Token"} {
		r.Header.Del(name)
	}
	q := r.URL.Query()
	q.Del("gitlab-agent-id")
	q.Del("gitlab-csrf-token")
	r.URL.RawQuery = q.Encode()
	r.Header.Add("Via", kasVia)
	r.Header.Add("Via", agentkRequestV)
}

// relayed marks an answer as the cluster's, relayed through agentk and
// KAS: no Server header of KAS's, Via of both (proxy.go
// mergeProxiedResponseHeaders, agent/server.go httpDo).
type relayed struct {
	http.ResponseWriter
	wrote bool
}

func (r *relayed) WriteHeader(code int) {
	if !r.wrote {
		r.wrote = true
		h := r.Header()
		h.Del("Server")
		h.Add("Via", agentkRespVia)
		h.Add("Via", kasVia)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *relayed) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// hasImpersonation is agentk's hasImpersonationHeaders: only
// Impersonate-User, -Uid, -Group and -Extra-* count.
func hasImpersonation(h http.Header) bool {
	for k := range h {
		switch k := http.CanonicalHeaderKey(k); {
		case k == "Impersonate-User", k == "Impersonate-Uid", k == "Impersonate-Group", strings.HasPrefix(k, "Impersonate-Extra-"):
			return true
		}
	}
	return false
}

// clientImpersonation is the identity a client asks for with
// Impersonate-* headers (kubectl --as), as the API server grants it to an
// agent allowed to impersonate.
func clientImpersonation(h http.Header) (Identity, bool) {
	user := h.Get("Impersonate-User")
	if user == "" {
		return Identity{}, false
	}
	id := Identity{Username: user, UID: h.Get("Impersonate-Uid"), Groups: h.Values("Impersonate-Group")}
	for k, vs := range h {
		if key, ok := strings.CutPrefix(http.CanonicalHeaderKey(k), "Impersonate-Extra-"); ok {
			if id.Extra == nil {
				id.Extra = map[string][]string{}
			}
			key, _ = url.PathUnescape(key)
			id.Extra[strings.ToLower(key)] = vs
		}
	}
	return id, true
}

// agentIdentity is the agent's own service account.
var agentIdentity = Identity{
	Username: "system:serviceaccount:gitlab-agent:gitlab-agent",
	Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:gitlab-agent", "system:authenticated"},
}

// authorizeRequest is authenticateAndImpersonateRequest: credentials from
// the request, then GitLab's verdict; it returns the agent and the
// identity KAS has agentk impersonate (nil: none).
func (s *Server) authorizeRequest(r *http.Request) (int64, *Identity, *kasError) {
	agentID, kind, secret, err := credentials(r)
	if err != nil {
		return 0, nil, &kasError{http.StatusUnauthorized, "Unauthorized", err}
	}
	switch kind {
	case "ci":
		job, err := s.allowedAgentsForJob(r.Context(), secret)
		if err != nil {
			return agentID, nil, allowedAgentsError(err)
		}
		for _, aa := range job.AllowedAgents {
			if aa.ID == agentID {
				return agentID, jobImpersonation(job, &aa), nil
			}
		}
		return agentID, nil, &kasError{http.StatusForbidden, "Forbidden: agentId is not allowed", nil}
	default: // personal_access_token, session_cookie
		auth, err := s.authorizedProxyUser(r.Context(), agentID, kind, secret)
		var ce *clientError
		switch {
		case errors.As(err, &ce) && (ce.status == 401 || ce.status == 403 || ce.status == 404):
			return agentID, nil, &kasError{http.StatusUnauthorized, "Unauthorized", nil}
		case err != nil:
			return agentID, nil, &kasError{http.StatusInternalServerError, "Failed to authorize user session", nil}
		}
		return agentID, userImpersonation(auth, kind), nil
	}
}

// allowedAgentsError is getAllowedAgentsForJob's mapping of GitLab's
// answer (proxy_test.go TestProxy_AllowedAgentsError).
func allowedAgentsError(err error) *kasError {
	var ce *clientError
	if errors.As(err, &ce) {
		switch ce.status {
		case 401:
			return &kasError{http.StatusUnauthorized, "Unauthorized: CI job token", err}
		case 403:
			return &kasError{http.StatusForbidden, "Forbidden: CI job token", err}
		case 404:
			return &kasError{http.StatusNotFound, "Not found: agents for CI job token", err}
		}
	}
	return &kasError{http.StatusInternalServerError, "Failed to get allowed agents for CI job token", err}
}

// credentials is getAuthorizationInfoFromRequest and
// getAgentIdAndTokenFromHeader, with their error texts and order: one
// Authorization header, "Bearer ", the token type before the agent ID.
// kind is "ci", or the access type KAS names to GitLab:
// "personal_access_token" or "session_cookie".
func credentials(r *http.Request) (agentID int64, kind, secret string, err error) {
	if values := r.Header.Values("Authorization"); len(values) > 0 {
		if len(values) > 1 {
			return 0, "", "", fmt.Errorf("Authorization header: expecting a single header, got %d", len(values))
		}
		value, ok := strings.CutPrefix(values[0], "Bearer ")
		if !ok {
			return 0, "", "", errors.New("Authorization header: expecting Bearer token")
		}
		kind, rest, found := strings.Cut(value, ":")
		if !found {
			return 0, "", "", errors.New("Authorization header: invalid value")
		}
		if kind != "ci" && kind != "pat" {
			return 0, "", "", errors.New("Authorization header: unknown token type")
		}
		idText, token, found := strings.Cut(rest, ":")
		if !found {
			return 0, "", "", errors.New("Authorization header: invalid value")
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return 0, "", "", fmt.Errorf("Authorization header: failed to parse: %w", err)
		}
		if token == "" {
			return 0, "", "", errors.New("Authorization header: empty token")
		}
		if kind == "pat" {
			kind = "personal_access_token"
		}
		return id, kind, token, nil
	}
	if cookie, err := r.Cookie("_gitlab_kas"); err == nil {
		return sessionCookie(r, cookie)
	}
	return 0, "", "", errors.New("no valid credentials provided")
}

// sessionCookie is getSessionCookieParams: the browser's _gitlab_kas
// cookie with the agent ID and CSRF token from headers or query.
func sessionCookie(r *http.Request, cookie *http.Cookie) (int64, string, string, error) {
	if cookie.Value == "" {
		return 0, "", "", errors.New("_gitlab_kas cookie value must not be empty")
	}
	value, err := url.QueryUnescape(cookie.Value)
	if err != nil {
		return 0, "", "", errors.New("_gitlab_kas invalid cookie value")
	}
	one := func(header, param, what string) (string, error) {
		if vs := r.Header.Values(header); len(vs) == 1 {
			return vs[0], nil
		} else if len(vs) > 1 {
			return "", fmt.Errorf("%s header must have exactly one value", header)
		}
		if vs := r.URL.Query()[param]; len(vs) == 1 {
			return vs[0], nil
		}
		return "", fmt.Errorf("exactly one %s must be provided either in the %q header or %q query parameter", what, header, param)
	}
	idText, err := one("Gitlab-Agent-Id", "gitlab-agent-id", "agent id")
	if err != nil {
		return 0, "", "", err
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return 0, "", "", fmt.Errorf("agent id in request: invalid value: %q", idText)
	}
	if _, err := one("X-Csrf-Token", "gitlab-csrf-token", "CSRF token"); err != nil {
		return 0, "", "", err
	}
	return id, "session_cookie", value, nil
}

// jobImpersonation is constructJobImpersonationConfig.
func jobImpersonation(job *allowedAgentsForJob, aa *allowedAgent) *Identity {
	as := aa.Configuration.AccessAs
	switch {
	case as == nil || as.Agent != nil: // missing means agent
		return nil
	case as.Impersonate != nil:
		id := Identity{Username: as.Impersonate.Username, UID: as.Impersonate.UID, Groups: as.Impersonate.Groups}
		for _, kv := range as.Impersonate.Extra {
			if id.Extra == nil {
				id.Extra = map[string][]string{}
			}
			id.Extra[kv.Key] = kv.Val
		}
		return &id
	case as.CIJob != nil:
		return ciJobIdentity(job, aa)
	}
	return nil
}

// ciJobIdentity is impCiJobGroups and impCiJobExtra: the groups in GitLab's
// order (the project's groups as sent, innermost first).
func ciJobIdentity(job *allowedAgentsForJob, aa *allowedAgent) *Identity {
	id := &Identity{Username: "gitlab:ci_job:" + itoa(job.Job.ID), Groups: []string{"gitlab:ci_job"}}
	env := job.Environment
	for _, g := range job.Project.Groups {
		id.Groups = append(id.Groups, "gitlab:group:"+itoa(g.ID))
		if env != nil {
			id.Groups = append(id.Groups, "gitlab:group_env_tier:"+itoa(g.ID)+":"+env.Tier)
		}
	}
	id.Groups = append(id.Groups, "gitlab:project:"+itoa(job.Project.ID))
	if env != nil {
		id.Groups = append(id.Groups,
			"gitlab:project_env:"+itoa(job.Project.ID)+":"+env.Slug,
			"gitlab:project_env_tier:"+itoa(job.Project.ID)+":"+env.Tier)
	}
	id.Extra = map[string][]string{
		"agent.gitlab.com/id":                {itoa(aa.ID)},
		"agent.gitlab.com/config_project_id": {itoa(aa.ConfigProject.ID)},
		"agent.gitlab.com/project_id":        {itoa(job.Project.ID)},
		"agent.gitlab.com/ci_pipeline_id":    {itoa(job.Pipeline.ID)},
		"agent.gitlab.com/ci_job_id":         {itoa(job.Job.ID)},
		"agent.gitlab.com/username":          {job.User.Username},
	}
	if env != nil {
		id.Extra["agent.gitlab.com/environment_slug"] = []string{env.Slug}
		id.Extra["agent.gitlab.com/environment_tier"] = []string{env.Tier}
	}
	return id
}

// userImpersonation is constructUserImpersonationConfig: access_as agent
// impersonates nobody; access_as user is gitlab:user:<username> with a
// group per project and group role.
func userImpersonation(auth *proxyUserAuthorization, accessType string) *Identity {
	if auth.AccessAs.User == nil {
		return nil
	}
	id := &Identity{Username: "gitlab:user:" + auth.User.Username, Groups: []string{"gitlab:user"}}
	for _, p := range auth.AccessAs.User.Projects {
		for _, role := range p.Roles {
			id.Groups = append(id.Groups, "gitlab:project_role:"+itoa(p.ID)+":"+role)
		}
	}
	for _, g := range auth.AccessAs.User.Groups {
		for _, role := range g.Roles {
			id.Groups = append(id.Groups, "gitlab:group_role:"+itoa(g.ID)+":"+role)
		}
	}
	id.Extra = map[string][]string{
		"agent.gitlab.com/id":                {itoa(auth.Agent.ID)},
		"agent.gitlab.com/username":          {auth.User.Username},
		"agent.gitlab.com/access_type":       {accessType},
		"agent.gitlab.com/config_project_id": {itoa(auth.Agent.ConfigProject.ID)},
	}
	return id
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// forward proxies to a real API server. The agent's own credentials are in
// the upstream transport; the identity KAS chose travels as Impersonate-*,
// as client-go's impersonating transport in agentk sends it.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, path string, up *Upstream, imp *Identity) {
	target, err := url.Parse(up.URL)
	if err != nil {
		s.writeKASError(w, r, kasError{http.StatusInternalServerError, "Proxy failed to make outbound request", err})
		return
	}
	w.Header().Del("Server")
	proxy := &httputil.ReverseProxy{
		Transport: up.Transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			pr.Out.URL.Path = strings.TrimSuffix(target.Path, "/") + path
			pr.Out.URL.RawPath = ""
			pr.Out.Host = target.Host
			if imp == nil {
				return
			}
			pr.Out.Header.Set("Impersonate-User", imp.Username)
			for _, g := range imp.Groups {
				pr.Out.Header.Add("Impersonate-Group", g)
			}
			if imp.UID != "" {
				pr.Out.Header.Set("Impersonate-Uid", imp.UID)
			}
			for _, k := range sortedKeys(imp.Extra) {
				for _, v := range imp.Extra[k] {
					pr.Out.Header.Add("Impersonate-Extra-"+url.PathEscape(k), v)
				}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Add("Via", fmt.Sprintf("%d.%d %s", resp.ProtoMajor, resp.ProtoMinor, agentkName))
			resp.Header.Add("Via", kasVia)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				s.writeKASError(w, r, kasError{http.StatusBadGateway, pipeReadFailed,
					fmt.Errorf("rpc error: code = Unavailable desc = gRPC -> HTTP: %w", err)})
			}
		},
	}
	proxy.ServeHTTP(w, r)
}

// waitOrDone sleeps d unless ctx ends first.
func waitOrDone(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
