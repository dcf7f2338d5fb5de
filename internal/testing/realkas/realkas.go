// Package realkas runs the real GitLab agent server (KAS) and agent
// (agentk) of GitLab 16.5 for end-to-end tests: kubectl → KAS → agentk → a
// real kube-apiserver, with a fake GitLab and a fake Gitaly around them.
//
//   - KAS and agentk are built from the upstream source archives named by
//     $KUBECTL_GITLAB_AGENT_SOURCES (see Build), with a fake Gitaly of ours
//     built alongside (testdata/fakegitaly).
//   - The fake GitLab (GitLab) answers KAS's internal API, checking its JWT,
//     and the public endpoints KAS and kubectl-gitlab call, from a World of
//     groups, projects, roles, agents, jobs and tokens.
//   - The fake Gitaly serves each agent's .gitlab/agents/<name>/config.yaml;
//     KAS reads it and posts it to the fake GitLab, which derives ci_access
//     from it as GitLab does, and reads user_access from the same file.
//   - Redis (Debian's redis-server) is KAS's store; the kube-apiserver is
//     internal/testing/testapiserver's.
//
// Everything listens on 127.0.0.1 only and is stopped when the test ends.
// The fast in-process tests use internal/testing/testkas instead; this is
// the reference it is checked against (docs/kas-differences.md).
package realkas

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testapiserver"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpki"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

// The agent's identity in the cluster: the service account agentk would run
// as, here a client certificate with its name. The stack binds it to
// cluster-admin, as a default agent installation does, so that it may
// impersonate.
const (
	AgentNamespace      = "gitlab-agent"
	AgentServiceAccount = "gitlab-agent"
	AgentUser           = "system:serviceaccount:" + AgentNamespace + ":" + AgentServiceAccount
)

// AgentGroups are the groups of AgentUser.
var AgentGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + AgentNamespace}

// agentReadyTimeout bounds the wait for a new agentk to connect and for KAS
// to post its configuration; KAS itself waits up to 20 s for a tunnel.
const agentReadyTimeout = 60 * time.Second

// Stack is a running KAS with its agents, fake GitLab, fake Gitaly, Redis
// and kube-apiserver.
type Stack struct {
	// GitLab is the fake GitLab; GitLab.URL is its base URL.
	GitLab *GitLab
	// K8sProxyURL is KAS's Kubernetes API as GitLab puts it into a job's
	// kubeconfig (Gitlab::Kas.tunnel_url): https://127.0.0.1:PORT/-/kubernetes-agent/k8s-proxy.
	K8sProxyURL string
	// CAPEM signed GitLab's and KAS's serving certificates; CAFile holds it.
	CAPEM  []byte
	CAFile string
	// API is the cluster; AdminKubeconfig a kubeconfig of its admin.
	API             *testapiserver.Server
	AdminKubeconfig string

	t      testing.TB
	dir    string
	bins   Binaries
	repos  string
	kas    *kasInstance
	client *http.Client // trusts CAPEM
	agents map[int64]*testprocess.Process
	probes map[int64]string // agent ID → the job token of the readiness probe
}

// Start builds (or takes from the cache) kas and agentk, and runs the whole
// stack for world with one agentk per agent. It returns once every agent's
// configuration has reached the fake GitLab and a request through KAS
// reaches the cluster through each agent.
func Start(t testing.TB, world World) *Stack {
	t.Helper()
	s, err := start(t, world)
	if err != nil {
		t.Fatalf("realkas: %v", err)
	}
	return s
}

func start(t testing.TB, world World) (*Stack, error) {
	if err := world.validate(); err != nil {
		return nil, err
	}
	world = world.clone() // what GitLab.Update changes is the stack's alone
	began := time.Now()
	s := &Stack{t: t, bins: Build(t), agents: map[int64]*testprocess.Process{}, probes: map[int64]string{}}
	s.API = testapiserver.Start(t)
	s.AdminKubeconfig = s.API.AdminKubeconfig(t)
	s.dir = t.TempDir()
	s.repos = filepath.Join(s.dir, "repositories")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("realkas: logs of the failed test's stack are in %s:\n%s", s.dir, s.logTails())
		}
	})

	// A readiness probe per agent: a job of the agent's own project, which
	// may always use it (GitLab's implicit authorization), as the agent.
	world.Users = append(world.Users, User{ID: 1 << 40, Username: "realkas-probe"})
	for _, a := range world.Agents {
		token := "realkas-probe-" + randomHex(16)
		s.probes[a.ID] = token
		world.Jobs = append(world.Jobs, Job{Token: token, ID: 1<<40 + a.ID, PipelineID: 1 << 40, ProjectID: a.ProjectID, Username: "realkas-probe"})
	}
	for _, a := range world.Agents {
		if err := s.writeConfig(&world, a.ID, a.Config); err != nil {
			return nil, err
		}
	}

	ca, err := testpki.NewAuthority("realkas CA")
	if err != nil {
		return nil, err
	}
	s.CAPEM = ca.CertPEM
	certPEM, keyPEM, err := ca.IssueLoopbackServer("realkas")
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	files := kasFiles{
		config: filepath.Join(s.dir, "kas.yaml"), gitlabSecret: filepath.Join(s.dir, "gitlab-secret"),
		privateAPISecret: filepath.Join(s.dir, "private-api-secret"), apiSecret: filepath.Join(s.dir, "api-secret"),
		caCert: filepath.Join(s.dir, "ca.crt"), cert: filepath.Join(s.dir, "kas.crt"), key: filepath.Join(s.dir, "kas.key"),
	}
	s.CAFile = files.caCert
	secrets := map[string][]byte{}
	for _, f := range []string{files.gitlabSecret, files.privateAPISecret, files.apiSecret} {
		secrets[f] = randomBytes(32)
	}
	for path, data := range map[string][]byte{
		files.caCert: ca.CertPEM, files.cert: certPEM, files.key: keyPEM,
		files.gitlabSecret:     []byte(base64.StdEncoding.EncodeToString(secrets[files.gitlabSecret])),
		files.privateAPISecret: []byte(base64.StdEncoding.EncodeToString(secrets[files.privateAPISecret])),
		files.apiSecret:        []byte(base64.StdEncoding.EncodeToString(secrets[files.apiSecret])),
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	gitaly, err := s.startGitaly()
	if err != nil {
		return nil, err
	}
	redis, _, err := startRedis(t, s.dir)
	if err != nil {
		return nil, err
	}
	s.GitLab = newGitLab(world, secrets[files.gitlabSecret], cert, s.repos, gitaly)
	t.Cleanup(s.GitLab.Close)
	for _, token := range s.probes {
		s.GitLab.probes[token] = true
	}

	s.kas, err = startKAS(t, s.bins.KAS, s.dir, files, s.GitLab.URL, redis, func() (kasPorts, error) {
		ports, err := testprocess.FreePorts(5)
		if err != nil {
			return kasPorts{}, err
		}
		return kasPorts{agent: ports[0], k8sProxy: ports[1], privateAPI: ports[2], api: ports[3], observability: ports[4]}, nil
	})
	if err != nil {
		return nil, err
	}
	kasHost := "127.0.0.1:" + strconv.Itoa(s.kas.ports.k8sProxy)
	s.K8sProxyURL = "https://" + kasHost + strings.TrimSuffix(K8sProxyPath, "/")
	s.GitLab.mu.Lock()
	// GitLab's external KAS URL, from which the k8s-proxy URL is derived:
	// wss://<host>/-/kubernetes-agent/ + k8s-proxy.
	s.GitLab.kasURL = "wss://" + kasHost + strings.TrimSuffix(K8sProxyPath, "k8s-proxy/")
	s.GitLab.mu.Unlock()

	if err := s.setUpCluster(); err != nil {
		return nil, err
	}
	for _, a := range world.Agents {
		if err := s.startAgent(a.ID); err != nil {
			return nil, err
		}
	}
	t.Logf("realkas: KAS %s with %d agent(s) ready at %s after %v", Version, len(world.Agents), s.K8sProxyURL, time.Since(began).Round(time.Millisecond))
	return s, nil
}

// validate checks that everything the world refers to exists.
func (w *World) validate() error {
	for _, a := range w.Agents {
		if w.project(a.ProjectID) == nil {
			return fmt.Errorf("agent %d: no project %d", a.ID, a.ProjectID)
		}
		if a.Token == "" {
			return fmt.Errorf("agent %d has no token", a.ID)
		}
	}
	for _, j := range w.Jobs {
		if w.project(j.ProjectID) == nil || w.user(j.Username) == nil {
			return fmt.Errorf("job %d: no project %d or user %q", j.ID, j.ProjectID, j.Username)
		}
	}
	for _, p := range w.PATs {
		if w.user(p.Username) == nil {
			return fmt.Errorf("token %d: no user %q", p.ID, p.Username)
		}
	}
	return nil
}

// writeConfig writes an agent's config.yaml into its project's repository;
// "" removes it.
func (s *Stack) writeConfig(w *World, agentID int64, config string) error {
	a := w.agent(agentID)
	if a == nil {
		return fmt.Errorf("no agent %d", agentID)
	}
	path := agentConfigFile(s.repos, w.project(a.ProjectID), a.Name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// A repository without files has no commit: keep one beside the
	// configuration, so that "" means "no config.yaml", not "no commits".
	readme := filepath.Join(s.repos, filepath.FromSlash(repoPath(w.project(a.ProjectID))), "README.md")
	if err := os.WriteFile(readme, []byte("# agents\n"), 0o644); err != nil {
		return err
	}
	if config == "" {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	return os.WriteFile(path, []byte(config), 0o644)
}

// startGitaly runs the fake Gitaly and returns its address.
func (s *Stack) startGitaly() (string, error) {
	addrFile := filepath.Join(s.dir, "gitaly.addr")
	p, err := testprocess.Start(s.t, "fakegitaly", filepath.Join(s.dir, "fakegitaly.log"),
		exec.Command(s.bins.FakeGitaly, "-repos", s.repos, "-address-file", addrFile))
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		if data, err := os.ReadFile(addrFile); err == nil {
			return string(data), nil
		}
		if !p.Running() || time.Now().After(deadline) {
			return "", fmt.Errorf("the fake Gitaly did not start: %v\n%s", p.Err(), p.LogTail(20))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setUpCluster makes the namespace agentk needs (it keeps a lease there)
// and lets the agent do anything, impersonation included.
func (s *Stack) setUpCluster() error {
	admin := s.API.Client("realkas-admin", testapiserver.AdminGroup)
	for _, obj := range []struct{ path, body string }{
		{"/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + AgentNamespace + `"}}`},
		{"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
			"metadata":{"name":"gitlab-agent-cluster-admin"},
			"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},
			"subjects":[{"kind":"ServiceAccount","name":"` + AgentServiceAccount + `","namespace":"` + AgentNamespace + `"}]}`},
	} {
		resp, err := admin.Post(s.API.URL+obj.path, "application/json", strings.NewReader(obj.body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("creating %s: %s", obj.path, resp.Status)
		}
	}
	s.API.WaitForAccess(s.t,
		testapiserver.Access{User: AgentUser, Groups: AgentGroups, Verb: "impersonate", Resource: "users"},
		testapiserver.Access{User: AgentUser, Groups: AgentGroups, Verb: "create", APIGroup: "coordination.k8s.io", Resource: "leases", Namespace: AgentNamespace})
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// probe sends a request through KAS and the agent, as the agent, and
// returns nil once the cluster answers.
func (s *Stack) probe(ctx context.Context, agentID int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.K8sProxyURL+"/version", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer ci:"+strconv.FormatInt(agentID, 10)+":"+s.probes[agentID])
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /version through KAS: %s", resp.Status)
	}
	return nil
}

func (s *Stack) logTails() string {
	var b strings.Builder
	procs := []*testprocess.Process{}
	if s.kas != nil {
		procs = append(procs, s.kas.proc)
	}
	for _, p := range s.agents {
		procs = append(procs, p)
	}
	for _, p := range procs {
		fmt.Fprintf(&b, "--- last lines of %s (%s) ---\n%s\n", p.Name, p.LogPath, p.LogTail(40))
	}
	return b.String()
}

// Client is an HTTP client that trusts GitLab's and KAS's certificates.
func (s *Stack) Client() *http.Client { return s.client }
