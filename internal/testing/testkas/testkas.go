// Package testkas is a loopback stand-in for GitLab's REST API and the
// GitLab agent server's (KAS) k8s-proxy, over TLS with its own CA. Tests
// and `make demo` use it; it records what it saw so tests can assert on it.
//
// Every behaviour follows GitLab's and KAS's own code; the comment next to
// each names its source (gitlabhq/gitlabhq for GitLab Rails, KAS 16.5 =
// gitlab-org/cluster-integration/gitlab-agent at 8daa08cc, mirrored as
// pluralsh/kubernetes-agent). docs/conformance.md lists them with the test
// that checks each one.
package testkas

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Agent is a GitLab agent for Kubernetes.
type Agent struct {
	ID                int64
	Name              string
	ConfigProjectID   int64
	ConfigProjectPath string // e.g. group/agents
	DefaultNamespace  string
	AccessAs          AccessAs
	// UserAccess is the agent's user_access; nil means access_as user
	// on the agent's own project, for every PAT that lists the agent.
	UserAccess *UserAccess
	// CIAccessProjects and CIAccessGroups are the project and group IDs
	// its ci_access lists, which GraphQL's ciAccessAuthorizedAgents reads
	// (a job's agents are Job.AllowedAgents).
	CIAccessProjects, CIAccessGroups []int64
	// Disconnected: no agentk holds a tunnel to KAS, so KAS waits for one
	// (Config.TunnelFindTimeout) and answers 502.
	Disconnected bool
	// Config is the agent's config.yaml. Jobs that list no AllowedAgents
	// get the agents whose ci_access admits them, derived as GitLab does;
	// a file KAS rejects admits only the agent's own project.
	Config string
}

// ContextName is the context name GitLab gives the agent in a job.
func (a Agent) ContextName() string { return a.ConfigProjectPath + ":" + a.Name }

// AccessAs is the agent's ci_access access_as: as the agent (the zero
// value), as the CI job, or as a static identity. When Implicit is set,
// the job's project is the agent's own project: GitLab sends
// configuration {} (no access_as, no default_namespace).
type AccessAs struct {
	CIJob       bool
	Impersonate *Identity
	// Implicit: the job's own project holds the agent (the implicit
	// authorization; app/models/clusters/agents/authorizations/ci_access/
	// implicit_authorization.rb in gitlabhq/gitlabhq has config {}).
	Implicit bool
}

// UserAccess is an agent's user_access entry (agent config.yaml).
type UserAccess struct {
	// AsAgent is access_as: {agent: {}}: KAS does not impersonate. The
	// zero value is access_as: {user: {}} (Premium).
	AsAgent  bool
	Projects []int64 // project IDs listed under projects
	Groups   []int64 // group IDs listed under groups
}

// Identity is who the Kubernetes API sees.
type Identity struct {
	Username string
	UID      string
	Groups   []string
	Extra    map[string][]string
}

// Environment is a job's deployment environment.
type Environment struct {
	Name string // what ci_access environments match
	Slug string
	Tier string
}

// Job is a CI job and what it may use.
type Job struct {
	Token       string
	ID          int64
	PipelineID  int64
	ProjectID   int64
	ProjectPath string
	// GroupIDs are the project's groups as GitLab's /job/allowed_agents
	// sends them: the project's own group first, the root group last
	// (traversal_ids.reverse).
	GroupIDs    []int64
	UserID      int64
	Username    string
	Environment *Environment
	// AllowedAgents are the agents whose ci_access admits the job, in
	// GitLab's order (project authorizations, the implicit one, groups).
	// nil: derived from the agents' Config.
	AllowedAgents []int64
	// ProtectedBranch: the job runs on a protected branch or tag.
	ProtectedBranch bool
	// Role is the job user's role in the project ("" = developer); it
	// gives roles_in_project.
	Role string
	// Finished: the job no longer runs; its token is dead at GitLab
	// (Ci::AuthJobFinder#validate_executing_job!).
	Finished bool
	// UserBlocked: the job's user may not use the API (403).
	UserBlocked bool
	// CertificateCluster, when set, is the environment's certificate-based
	// cluster: the job's kubeconfig gets gitlab-deploy after the agents.
	CertificateCluster *CertificateCluster
}

// PAT is a personal access token.
type PAT struct {
	Token     string
	ID        int64
	Name      string
	UserID    int64
	Username  string
	Scopes    []string
	Revoked   bool
	ExpiresAt string  // YYYY-MM-DD, or "" for none
	Agents    []int64 // agents whose user_access admits this user
	// Role is the user's role on every project and group ("" =
	// developer; NoAccess = not a member of a private project).
	Role string
	// CreatedAt is GitLab's created_at (2026-01-01 when empty).
	CreatedAt time.Time
	// ProjectRoles overrides Role in the projects it names (by ID).
	ProjectRoles map[int64]string
}

// roleIn is the user's role in a project.
func (p *PAT) roleIn(projectID int64) string {
	if r, ok := p.ProjectRoles[projectID]; ok {
		return r
	}
	return p.Role
}

// Project is a project that is neither an agent's configuration project
// nor a job's: e.g. one that deploys through another project's agent.
type Project struct {
	ID   int64
	Path string
	// GroupIDs are its groups, its own first and the root group last.
	GroupIDs []int64
}

// NoAccess is a PAT.Role: the user cannot see the projects.
const NoAccess = "none"

// Metadata variants of GET /api/v4/metadata.
const (
	MetadataK8sProxyURL = "" // GitLab 17.6+: kas.externalK8sProxyUrl set
	MetadataLegacy      = "legacy"
	MetadataKASDisabled = "disabled"
)

// Config is what the fake GitLab knows.
type Config struct {
	Agents   []Agent
	Jobs     []Job
	PATs     []PAT
	Projects []Project
	Metadata string
	// KASOwnHost puts KAS on its own listener, as the Helm chart puts it
	// on kas.<domain>: externalUrl wss://<kas host> and the k8s-proxy at
	// https://<kas host>/k8s-proxy (GitLab's derivation; the chart sets no
	// external_k8s_proxy_url). Otherwise KAS sits behind GitLab's host as
	// Omnibus sets it up: https://<gitlab host>/-/kubernetes-agent/k8s-proxy/.
	KASOwnHost bool
	// Pods by namespace, served by the built-in Kubernetes API.
	Pods map[string][]string
	// Upstream, when set, receives authorized k8s-proxy requests instead
	// of the built-in API, with Impersonate-* headers added as the agent
	// would add them. Its transport carries the agent's own identity.
	Upstream *Upstream

	// TunnelFindTimeout is how long KAS looks for a disconnected agent's
	// tunnel before it answers 502; 20 s, KAS's constant, when zero.
	TunnelFindTimeout time.Duration
	// AuthCacheTTL and AuthCacheErrorTTL are how long KAS keeps GitLab's
	// answer to an authorization (1 min and 10 s when zero; negative: no
	// cache).
	AuthCacheTTL, AuthCacheErrorTTL time.Duration
	// GitLabRetryWait is the first wait of KAS's retries of a failed
	// GitLab call (100 ms, doubling, when zero).
	GitLabRetryWait time.Duration
	// Tracing adds KAS's ". Trace ID: <32 hex>" to its messages, as KAS
	// does when observability tracing is configured (GitLab.com).
	Tracing bool

	// OAuthApps are the OAuth applications login --web may name.
	OAuthApps []OAuthApp
	// Users approve device codes (Server.Approve); the tokens minted for
	// them get their agents and role.
	Users []User
	// DeviceGrant says whether this GitLab has the device authorization
	// grant: DeviceGrantOn (the zero value), DeviceGrantFlagOff,
	// DeviceGrantAbsent.
	DeviceGrant string
	// DevicePollInterval and DeviceCodeExpiresIn are the device grant's
	// interval and lifetime (5 s and 300 s when zero).
	DevicePollInterval, DeviceCodeExpiresIn time.Duration
	// PATMaxLifetimeDays is how far ahead a new personal access token may
	// expire (365 days when zero).
	PATMaxLifetimeDays int
	// PATCreationForbidden: the user may not create personal access
	// tokens (an administrator or enterprise group disabled them).
	PATCreationForbidden bool
}

// CertificateCluster is a (deprecated) certificate-based cluster that
// GitLab puts into a job's kubeconfig as gitlab-deploy.
type CertificateCluster struct {
	Server    string
	CAPEM     []byte // nil: no certificate-authority-data
	Token     string
	Namespace string
}

// Upstream is a real Kubernetes API server behind the proxy.
type Upstream struct {
	URL       string
	Transport http.RoundTripper
}

// Request is one request that testkas saw.
type Request struct {
	Origin        string // https://host:port of the listener it came in on
	Method        string
	Path          string
	Authorization string
	JobToken      string
	PrivateToken  string
	UserAgent     string
	Status        int
}

// Server is a running testkas.
type Server struct {
	URL         string // GitLab's base URL: https://127.0.0.1:port
	KASURL      string // where KAS listens: URL, or its own https://127.0.0.1:port
	K8sProxyURL string // GitLab's Gitlab::Kas.tunnel_url, written into job kubeconfigs
	ExternalURL string // kas.externalUrl: the URL agentk connects to
	CAPEM       []byte
	CAFile      string // CAPEM written to a file, when started with Start

	cfg      Config
	gitlab   *httptest.Server
	kas      *httptest.Server // nil when KAS sits behind GitLab's host
	mu       sync.Mutex
	requests []Request
	faults   map[string][]int
	kasFault map[string][]int
	rotated  int
	families map[string]int // PAT token → rotation family
	cache    *authCache
	oauth    oauthState
}

// New starts a server on 127.0.0.1 with a fresh CA.
func New(cfg Config) (*Server, error) {
	caPEM, cert, err := newCA()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, CAPEM: caPEM, faults: map[string][]int{}, kasFault: map[string][]int{}, families: map[string]int{}}
	s.cache = newAuthCache(func() Config { return s.config() })
	if s.cfg.Pods == nil {
		s.cfg.Pods = map[string][]string{"default": {"hello-0"}}
	}
	s.gitlab = startTLS(cert, http.HandlerFunc(s.serveGitLabHost))
	s.URL = s.gitlab.URL
	host := strings.TrimPrefix(s.URL, "https://")
	if cfg.KASOwnHost {
		s.kas = startTLS(cert, http.HandlerFunc(s.serveKASHost))
		s.KASURL = s.kas.URL
		// The chart's externalUrl, and lib/gitlab/kas.rb tunnel_url's
		// URI.join(external_url, 'k8s-proxy') with wss → https.
		s.ExternalURL = "wss://" + strings.TrimPrefix(s.KASURL, "https://")
		s.K8sProxyURL = s.KASURL + "/k8s-proxy"
	} else {
		// omnibus-gitlab files/gitlab-cookbooks/gitlab/libraries/gitlab_kas.rb:
		// external_url wss://<host>/-/kubernetes-agent/ and
		// external_k8s_proxy_url <external_url>/-/kubernetes-agent/k8s-proxy/.
		s.KASURL = s.URL
		s.ExternalURL = "wss://" + host + omnibusKASPath + "/"
		s.K8sProxyURL = s.URL + omnibusKASPath + "/k8s-proxy/"
	}
	return s, nil
}

// omnibusKASPath is where Omnibus's nginx hands requests to KAS.
const omnibusKASPath = "/-/kubernetes-agent"

func startTLS(cert tls.Certificate, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // kubectl's x509 failures are expected in tests
	srv.StartTLS()
	return srv
}

// Start starts a server for a test, writes its CA to a file, and stops it
// when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("testkas: %v", err)
	}
	t.Cleanup(s.Close)
	s.CAFile = filepath.Join(t.TempDir(), "kas-ca.pem")
	if err := os.WriteFile(s.CAFile, s.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Close stops the server, ending requests that still wait for an agent.
func (s *Server) Close() {
	if s.kas != nil {
		s.kas.CloseClientConnections()
		s.kas.Close()
	}
	s.gitlab.CloseClientConnections()
	s.gitlab.Close()
}

// Client is an HTTP client that trusts the server's CA.
func (s *Server) Client() *http.Client { return s.gitlab.Client() }

// Requests returns what the server saw from clients, oldest first. KAS's
// own calls to GitLab are not among them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset forgets recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// SawBearer reports whether any k8s-proxy request carried this bearer token.
func (s *Server) SawBearer(token string) bool {
	for _, r := range s.Requests() {
		if r.Authorization == "Bearer "+token {
			return true
		}
	}
	return false
}

// Fail makes the next client requests whose path starts with prefix
// answer the given statuses, one each, before normal service resumes;
// each as GitLab's stack gives that status (writeInjectedFailure).
func (s *Server) Fail(prefix string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[prefix] = append(s.faults[prefix], statuses...)
}

// FailForKAS makes GitLab answer KAS's next calls to path (e.g.
// /api/v4/job/allowed_agents) with the given statuses, one each, as Fail
// answers them.
func (s *Server) FailForKAS(path string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kasFault[path] = append(s.kasFault[path], statuses...)
}

// ExpireAuthCache makes KAS forget the authorizations it keeps (as if
// their TTL had passed), so a changed Config shows at once.
func (s *Server) ExpireAuthCache() { s.cache.clear() }

// Rotations counts PAT rotations served.
func (s *Server) Rotations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotated
}

// SetConfig replaces what the server knows (e.g. to revoke a token). KAS
// keeps earlier authorizations for their TTL, as the real one does; call
// ExpireAuthCache for the change to reach the k8s-proxy at once.
func (s *Server) SetConfig(update func(*Config)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	update(&s.cfg)
}

func (s *Server) config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (hijacking for
// upgrades through the reverse proxy).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// record wraps a handler: it notes the request and injects faults.
func (s *Server) record(origin string, w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	rec := &recorder{ResponseWriter: w}
	seen := Request{ // before KAS strips the credentials
		Origin: origin, Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
		JobToken: r.Header.Get("Job-Token"), PrivateToken: r.Header.Get("Private-Token"), UserAgent: r.Header.Get("User-Agent"),
	}
	defer func() {
		seen.Status = rec.status
		s.mu.Lock()
		s.requests = append(s.requests, seen)
		s.mu.Unlock()
	}()
	if status := s.takeFault(s.faults, r.URL.Path); status != 0 {
		writeInjectedFailure(rec, status)
		return
	}
	serve(rec, r)
}

// serveGitLabHost is GitLab's host: the REST API, and on Omnibus KAS's
// k8s-proxy under /-/kubernetes-agent/k8s-proxy (nginx strips the prefix,
// KAS's url_path_prefix is /).
func (s *Server) serveGitLabHost(w http.ResponseWriter, r *http.Request) {
	s.record(s.URL, w, r, func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case strings.HasPrefix(path, "/api/v4/"):
			s.serveGitLab(w, r)
		case strings.HasPrefix(path, "/oauth/"):
			s.serveOAuth(w, r)
		case path == "/api/graphql" && (r.Method == http.MethodPost || r.Method == http.MethodGet):
			s.graphql(w, r, s.config())
		case s.kas == nil && strings.HasPrefix(path, omnibusKASPath+"/k8s-proxy/"):
			s.serveKAS(w, r, strings.TrimPrefix(path, omnibusKASPath+"/k8s-proxy"))
		default:
			gitlabPageNotFound(w)
		}
	})
}

// serveKASHost is KAS's own host (Helm chart): the ingress sends
// /k8s-proxy/ to the k8s-proxy listener without the prefix.
func (s *Server) serveKASHost(w http.ResponseWriter, r *http.Request) {
	s.record(s.KASURL, w, r, func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/k8s-proxy/"); ok {
			s.serveKAS(w, r, "/"+rest)
			return
		}
		http.NotFound(w, r)
	})
}

// gitlabPageNotFound is Rails' answer to a path it has no route for.
func gitlabPageNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>The page you're looking for could not be found (404)</title></head><body><h1>404</h1></body></html>\n")
}

func (s *Server) takeFault(faults map[string][]int, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prefix, statuses := range faults {
		if strings.HasPrefix(path, prefix) && len(statuses) > 0 {
			faults[prefix] = statuses[1:]
			return statuses[0]
		}
	}
	return 0
}
