// Package testkas is a loopback stand-in for GitLab's REST API and the
// GitLab agent server's k8s-proxy, over TLS with its own CA. Tests and
// `make demo` use it; it records what it saw so tests can assert on it.
package testkas

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Agent is a GitLab agent for Kubernetes.
type Agent struct {
	ID                int64
	Name              string
	ConfigProjectID   int64
	ConfigProjectPath string // e.g. group/agents
	DefaultNamespace  string
	AccessAs          AccessAs
}

// ContextName is the context name GitLab gives the agent in a job.
func (a Agent) ContextName() string { return a.ConfigProjectPath + ":" + a.Name }

// AccessAs is the agent's ci_access access_as: as the agent (the zero
// value), as the CI job, or as a static identity.
type AccessAs struct {
	CIJob       bool
	Impersonate *Identity
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
	Slug string
	Tier string
}

// Job is a running CI job and what it may use.
type Job struct {
	Token         string
	ID            int64
	PipelineID    int64
	ProjectID     int64
	ProjectPath   string
	GroupIDs      []int64 // outermost first
	UserID        int64
	Username      string
	Environment   *Environment
	AllowedAgents []int64
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
}

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
	Metadata string
	// Pods by namespace, served by the built-in Kubernetes API.
	Pods map[string][]string
	// Upstream, when set, receives authorized k8s-proxy requests instead
	// of the built-in API, with Impersonate-* headers added as the agent
	// would add them. Its transport carries the agent's own identity.
	Upstream *Upstream
}

// Upstream is a real Kubernetes API server behind the proxy.
type Upstream struct {
	URL       string
	Transport http.RoundTripper
}

// Request is one request that testkas saw.
type Request struct {
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
	K8sProxyURL string // the k8s-proxy: URL + "/k8s-proxy/"
	CAPEM       []byte
	CAFile      string // CAPEM written to a file, when started with Start

	cfg      Config
	httpSrv  *httptest.Server
	mu       sync.Mutex
	requests []Request
	faults   map[string][]int
	rotated  int
}

// New starts a server on 127.0.0.1 with a fresh CA.
func New(cfg Config) (*Server, error) {
	caPEM, cert, err := newCA()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, CAPEM: caPEM, faults: map[string][]int{}}
	if s.cfg.Pods == nil {
		s.cfg.Pods = map[string][]string{"default": {"hello-0"}}
	}
	s.httpSrv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.httpSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.httpSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // kubectl's x509 failures are expected in tests
	s.httpSrv.StartTLS()
	s.URL = s.httpSrv.URL
	s.K8sProxyURL = s.URL + "/k8s-proxy/"
	return s, nil
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

// Close stops the server.
func (s *Server) Close() { s.httpSrv.Close() }

// Client is an HTTP client that trusts the server's CA.
func (s *Server) Client() *http.Client { return s.httpSrv.Client() }

// Requests returns what the server saw, oldest first.
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

// Fail makes the next requests whose path starts with prefix answer the
// given statuses, one each, before normal service resumes.
func (s *Server) Fail(prefix string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[prefix] = append(s.faults[prefix], statuses...)
}

// Rotations counts PAT rotations served.
func (s *Server) Rotations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotated
}

// SetConfig replaces what the server knows (e.g. to revoke a token).
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

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
			JobToken: r.Header.Get("Job-Token"), PrivateToken: r.Header.Get("Private-Token"),
			UserAgent: r.Header.Get("User-Agent"), Status: rec.status,
		})
		s.mu.Unlock()
	}()
	if status := s.takeFault(r.URL.Path); status != 0 {
		writeJSON(rec, status, map[string]string{"message": fmt.Sprintf("%d injected by testkas", status)})
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/api/v4/"):
		s.serveGitLab(rec, r)
	case strings.HasPrefix(path, "/k8s-proxy"):
		s.serveKAS(rec, r, strings.TrimPrefix(path, "/k8s-proxy"))
	case strings.HasPrefix(path, "/-/kubernetes-agent/k8s-proxy"):
		s.serveKAS(rec, r, strings.TrimPrefix(path, "/-/kubernetes-agent/k8s-proxy"))
	default:
		http.NotFound(rec, r)
	}
}

func (s *Server) takeFault(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prefix, statuses := range s.faults {
		if strings.HasPrefix(path, prefix) && len(statuses) > 0 {
			s.faults[prefix] = statuses[1:]
			return statuses[0]
		}
	}
	return 0
}
