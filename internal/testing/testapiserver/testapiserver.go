// Package testapiserver runs a real kube-apiserver, backed by a real etcd, for
// end-to-end tests. Clients authenticate with client certificates that the
// test mints for any user and groups; authorization is RBAC, so tests grant
// what they need with Roles and RoleBindings. No controller-manager runs:
// the default ClusterRoles such as view and edit exist but are empty, and
// no service-account tokens or namespaces' default service accounts appear.
package testapiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpki"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

const (
	// readyTimeout bounds the start of etcd and kube-apiserver together.
	readyTimeout = 60 * time.Second
	// startAttempts covers the race between picking a free port and the
	// process binding it.
	startAttempts = 3

	// AdminGroup is the group that kube-apiserver lets do anything.
	AdminGroup = "system:masters"
	adminUser  = "kubectl-gitlab-e2e-admin"
)

// Server is a running kube-apiserver.
type Server struct {
	// URL is the API server's address, https://127.0.0.1:PORT.
	URL string
	// CAPEM is the PEM certificate of the CA that signed the serving
	// certificate: trust it to talk to URL.
	CAPEM []byte
	// CAFile is a file holding CAPEM, for --certificate-authority and the like.
	CAFile string

	clientCA *testpki.Authority
	admin    *http.Client // an AdminGroup identity, for readiness and access reviews
}

// Option changes how Start runs kube-apiserver.
type Option func(*options)

type options struct {
	apiserverArgs []string
}

// WithAPIServerArgs appends flags to kube-apiserver's command line; a flag
// given here overrides the default of the same name.
func WithAPIServerArgs(args ...string) Option {
	return func(o *options) { o.apiserverArgs = append(o.apiserverArgs, args...) }
}

// Start runs etcd and kube-apiserver on loopback ports and returns once
// /readyz answers. Both processes are stopped and their files removed when
// the test ends; their logs are printed if the test failed.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	apiserverBin, etcdBin := Binaries(t)

	// TempDir first: its removal then runs after the processes are stopped.
	dir := t.TempDir()
	pki, err := writePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatalf("testapiserver: %v", err)
	}
	s := &Server{CAPEM: pki.servingCA.CertPEM, CAFile: pki.servingCAFile, clientCA: pki.clientCA}
	s.admin = s.Client(adminUser, AdminGroup)

	began := time.Now()
	for attempt := 1; ; attempt++ {
		run := &launch{
			dir:          dir,
			attempt:      attempt,
			apiserverBin: apiserverBin,
			etcdBin:      etcdBin,
			pki:          pki,
			extraArgs:    o.apiserverArgs,
		}
		err := run.start(t, s.admin, began.Add(readyTimeout))
		if err == nil {
			s.URL = run.url
			t.Logf("testapiserver: kube-apiserver ready at %s after %v", s.URL, time.Since(began).Round(time.Millisecond))
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("testapiserver: logs of the failed test's servers:\n%s", run.logTails())
				}
			})
			return s
		}
		run.stop()
		if errors.Is(err, errPortTaken) && attempt < startAttempts {
			t.Logf("testapiserver: attempt %d: %v; retrying on other ports", attempt, err)
			continue
		}
		t.Fatalf("testapiserver: %v\n%s", err, run.logTails())
	}
}

// ClientCert returns a client certificate and key, PEM-encoded, with which
// kube-apiserver authenticates the holder as user in groups. Use AdminGroup
// for an identity that may do anything, impersonation included.
func (s *Server) ClientCert(user string, groups ...string) (certPEM, keyPEM []byte) {
	certPEM, keyPEM, err := s.clientCA.Issue(
		pkix.Name{CommonName: user, Organization: groups},
		x509.ExtKeyUsageClientAuth, nil, nil)
	if err != nil {
		panic(fmt.Sprintf("testapiserver: signing a client certificate: %v", err))
	}
	return certPEM, keyPEM
}

// Client returns an HTTP client that trusts the server and authenticates as
// user in groups.
func (s *Server) Client(user string, groups ...string) *http.Client {
	certPEM, keyPEM := s.ClientCert(user, groups...)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		panic(fmt.Sprintf("testapiserver: %v", err))
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CAPEM)
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}},
		},
	}
}

// AdminKubeconfig writes a kubeconfig for an AdminGroup identity and returns
// its path; kubectl and client-go accept it as is.
func (s *Server) AdminKubeconfig(t testing.TB) string {
	t.Helper()
	return s.Kubeconfig(t, adminUser, AdminGroup)
}

// Kubeconfig writes a kubeconfig, removed when t ends, whose current context
// authenticates as user in groups; it returns the file's path.
func (s *Server) Kubeconfig(t testing.TB, user string, groups ...string) string {
	t.Helper()
	certPEM, keyPEM := s.ClientCert(user, groups...)
	b64 := base64.StdEncoding.EncodeToString
	// JSON is YAML, so every kubeconfig reader takes this.
	config := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{
			"name":    "testapiserver",
			"cluster": map[string]any{"server": s.URL, "certificate-authority-data": b64(s.CAPEM)},
		}},
		"users": []any{map[string]any{
			"name": user,
			"user": map[string]any{"client-certificate-data": b64(certPEM), "client-key-data": b64(keyPEM)},
		}},
		"contexts": []any{map[string]any{
			"name":    "testapiserver",
			"context": map[string]any{"cluster": "testapiserver", "user": user},
		}},
		"current-context": "testapiserver",
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		t.Fatalf("testapiserver: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("testapiserver: %v", err)
	}
	return path
}

type pki struct {
	servingCA       *testpki.Authority
	servingCAFile   string
	servingCertFile string
	servingKeyFile  string
	clientCA        *testpki.Authority
	clientCAFile    string
	// serviceAccountKeyFile signs and verifies service-account tokens; the
	// apiserver refuses to start without one.
	serviceAccountKeyFile string
}

func writePKI(dir string) (*pki, error) {
	servingCA, err := testpki.NewAuthority("testapiserver serving CA")
	if err != nil {
		return nil, err
	}
	servingCert, servingKey, err := servingCA.IssueLoopbackServer("kube-apiserver")
	if err != nil {
		return nil, err
	}
	clientCA, err := testpki.NewAuthority("testapiserver client CA")
	if err != nil {
		return nil, err
	}
	serviceAccountKey, err := testpki.NewECPrivateKeyPEM()
	if err != nil {
		return nil, err
	}
	p := &pki{
		servingCA:             servingCA,
		servingCAFile:         filepath.Join(dir, "serving-ca.crt"),
		servingCertFile:       filepath.Join(dir, "serving.crt"),
		servingKeyFile:        filepath.Join(dir, "serving.key"),
		clientCA:              clientCA,
		clientCAFile:          filepath.Join(dir, "client-ca.crt"),
		serviceAccountKeyFile: filepath.Join(dir, "service-account.key"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for path, data := range map[string][]byte{
		p.servingCAFile:         servingCA.CertPEM,
		p.servingCertFile:       servingCert,
		p.servingKeyFile:        servingKey,
		p.clientCAFile:          clientCA.CertPEM,
		p.serviceAccountKeyFile: serviceAccountKey,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

var errPortTaken = errors.New("a port was taken before the server could bind it")

// launch is one attempt at starting etcd and kube-apiserver.
type launch struct {
	dir          string
	attempt      int
	apiserverBin string
	etcdBin      string
	pki          *pki
	extraArgs    []string

	url       string
	etcd      *testprocess.Process
	apiserver *testprocess.Process
}

func (l *launch) start(t testing.TB, adminClient *http.Client, deadline time.Time) error {
	ports, err := testprocess.FreePorts(3)
	if err != nil {
		return err
	}
	etcdClientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	etcdPeerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	l.url = "https://127.0.0.1:" + strconv.Itoa(ports[2])

	l.etcd, err = testprocess.Start(t, "etcd", l.logPath("etcd"), exec.Command(l.etcdBin,
		"--name=testapiserver",
		"--data-dir="+filepath.Join(l.dir, fmt.Sprintf("etcd-data-%d", l.attempt)),
		"--listen-client-urls="+etcdClientURL,
		"--advertise-client-urls="+etcdClientURL,
		"--listen-peer-urls="+etcdPeerURL,
		"--initial-advertise-peer-urls="+etcdPeerURL,
		"--initial-cluster=testapiserver="+etcdPeerURL,
		// The data is thrown away: skip fsync, which dominates on slow disks.
		"--unsafe-no-fsync",
		// Its info lines would crowd out what matters in the log tails.
		"--log-level=warn",
	))
	if err != nil {
		return err
	}
	// kube-apiserver retries etcd until it is up, so both start at once.
	args := append([]string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--cert-dir=" + filepath.Join(l.dir, "apiserver-certs"),
		"--tls-cert-file=" + l.pki.servingCertFile,
		"--tls-private-key-file=" + l.pki.servingKeyFile,
		"--client-ca-file=" + l.pki.clientCAFile,
		"--authorization-mode=RBAC",
		"--etcd-servers=" + etcdClientURL,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + l.pki.serviceAccountKeyFile,
		"--service-account-signing-key-file=" + l.pki.serviceAccountKeyFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		// Without a controller-manager no namespace gets a default service
		// account, and this admission plugin would then reject every pod.
		"--disable-admission-plugins=ServiceAccount",
		// The loopback advertise address is not a valid endpoint for the
		// "kubernetes" Service; nothing in-cluster needs it anyway.
		"--endpoint-reconciler-type=none",
		// Less start-up work on small machines; tests do not need fairness.
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}, l.extraArgs...)
	l.apiserver, err = testprocess.Start(t, "kube-apiserver", l.logPath("kube-apiserver"), exec.Command(l.apiserverBin, args...))
	if err != nil {
		return err
	}
	return l.waitReady(adminClient, deadline)
}

func (l *launch) waitReady(client *http.Client, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastProblem string
	for {
		for _, p := range []*testprocess.Process{l.etcd, l.apiserver} {
			select {
			case <-p.Exited():
				if strings.Contains(p.LogTail(50), "address already in use") {
					return fmt.Errorf("%s: %w", p.Name, errPortTaken)
				}
				return fmt.Errorf("%s exited during start-up: %v", p.Name, p.Err())
			default:
			}
		}
		problem := probe(ctx, client, l.url+"/readyz")
		if problem == "" {
			return nil
		}
		lastProblem = problem
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready within %v; last /readyz: %s", readyTimeout, lastProblem)
		case <-tick.C:
		}
	}
}

// probe returns "" if url answers 200, else what went wrong.
func probe(ctx context.Context, client *http.Client, url string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.Status + ": " + string(body)
}

func (l *launch) logPath(name string) string {
	return filepath.Join(l.dir, fmt.Sprintf("%s-%d.log", name, l.attempt))
}

func (l *launch) stop() {
	// kube-apiserver first, so that it does not log etcd going away.
	for _, p := range []*testprocess.Process{l.apiserver, l.etcd} {
		if p != nil {
			p.Stop()
		}
	}
}

func (l *launch) logTails() string {
	var b strings.Builder
	for _, p := range []*testprocess.Process{l.etcd, l.apiserver} {
		if p != nil {
			fmt.Fprintf(&b, "--- last lines of %s (%s) ---\n%s\n", p.Name, p.LogPath, p.LogTail(40))
		}
	}
	return b.String()
}
