package kas

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

const secret = "glcbt-64_kasTESTsecret"

// seen is what a test server saw of a request.
type seen struct {
	mu       sync.Mutex
	path     string
	auth     string
	header   http.Header
	clientCN string
}

func (s *seen) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.path, s.auth, s.header = r.URL.Path, r.Header.Get("Authorization"), r.Header.Clone()
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		s.clientCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
}

// versionServer answers /version under any prefix, over TLS.
func versionServer(t *testing.T, s *seen) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"gitVersion":"v1.33.0","platform":"linux/amd64"}`)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are what some tests want
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func caPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// clientCert makes a self-signed client certificate and key, PEM-encoded.
func clientCert(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func askVersion(t *testing.T, cfg ClientConfig) error {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		return err
	}
	v, err := c.Version(context.Background())
	if err == nil && v.GitVersion != "v1.33.0" {
		t.Errorf("version %+v", v)
	}
	return err
}

func TestClientTLSAndCredentials(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	dir := t.TempDir()
	kubeconfigFile := filepath.Join(dir, "config")
	os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM(srv), 0o600)
	os.WriteFile(filepath.Join(dir, "token"), []byte(" ci:1234:"+secret+"\n"), 0o600)
	certPEM, keyPEM := clientCert(t, "gitlab-deploy")
	os.WriteFile(filepath.Join(dir, "client.crt"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "client.key"), keyPEM, 0o600)
	withData := kubeconfig.Cluster{Server: srv.URL + "/k8s-proxy/", CertificateAuthorityData: b64(caPEM(srv))}

	cases := []struct {
		name     string
		cluster  kubeconfig.Cluster
		user     kubeconfig.User
		wantAuth string
		wantCN   string
	}{
		{"CA data, token, path prefix", withData, kubeconfig.User{Token: "ci:1234:" + secret}, "Bearer ci:1234:" + secret, ""},
		{"CA file relative to the kubeconfig, tokenFile", kubeconfig.Cluster{Server: srv.URL + "/k8s-proxy", CertificateAuthority: "ca.pem"},
			kubeconfig.User{TokenFile: "token"}, "Bearer ci:1234:" + secret, ""},
		{"insecure", kubeconfig.Cluster{Server: srv.URL + "/k8s-proxy", InsecureSkipTLSVerify: true}, kubeconfig.User{}, "", ""},
		{"client certificate files", withData, kubeconfig.User{ClientCertificateFile: "client.crt", ClientKeyFile: filepath.Join(dir, "client.key")}, "", "gitlab-deploy"},
		{"client certificate data", withData, kubeconfig.User{ClientCertificateData: b64(certPEM), ClientKeyData: b64(keyPEM)}, "", "gitlab-deploy"},
		{"tls-server-name", kubeconfig.Cluster{Server: srv.URL + "/k8s-proxy", CertificateAuthorityData: b64(caPEM(srv)), TLSServerName: "example.com"},
			kubeconfig.User{Token: "t"}, "Bearer t", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s = seen{}
			err := askVersion(t, ClientConfig{Context: "ctx", Cluster: c.cluster, ClusterFile: kubeconfigFile, User: c.user, UserFile: kubeconfigFile})
			if err != nil {
				t.Fatal(err)
			}
			if s.path != "/k8s-proxy/version" || s.auth != c.wantAuth || s.clientCN != c.wantCN {
				t.Errorf("server saw path %q, auth %q, client certificate %q", s.path, s.auth, s.clientCN)
			}
		})
	}
}

func TestClientImpersonationHeaders(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	err := askVersion(t, ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, CertificateAuthorityData: b64(caPEM(srv))},
		User: kubeconfig.User{Token: "t", As: "jane", AsUID: "u1", AsGroups: []string{"a", "b"}, AsUserExtra: map[string][]string{"agent.gitlab.com/id": {"1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.header
	if h.Get("Impersonate-User") != "jane" || h.Get("Impersonate-Uid") != "u1" || !slices.Equal(h.Values("Impersonate-Group"), []string{"a", "b"}) ||
		h.Get("Impersonate-Extra-agent.gitlab.com%2Fid") != "1" {
		t.Errorf("headers %v", h)
	}
}

// connectProxy is an HTTP CONNECT proxy that counts tunnels.
func connectProxy(t *testing.T) (url string, tunnels *int) {
	n := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		upstream, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
		conn, buf, _ := w.(http.Hijacker).Hijack()
		go func() { io.Copy(upstream, bufio.NewReader(buf)); upstream.Close() }()
		io.Copy(conn, upstream)
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func TestClientProxyURL(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	proxy, tunnels := connectProxy(t)
	if err := askVersion(t, ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, CertificateAuthorityData: b64(caPEM(srv)), ProxyURL: proxy}}); err != nil {
		t.Fatal(err)
	}
	if *tunnels != 1 {
		t.Errorf("%d tunnels through proxy-url", *tunnels)
	}
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     ClientConfig
		reason  Reason
		message string
		fix     string
	}{
		{"plain http", ClientConfig{Cluster: kubeconfig.Cluster{Server: "http://gitlab.example/-/kubernetes-agent/k8s-proxy/"}}, ReasonPlainHTTP,
			"plain http", "You must be logged in to the server"},
		{"no server", ClientConfig{}, ReasonKubeconfig, "no server URL", "update-kubeconfig"},
		{"CA and insecure", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://kas", CertificateAuthorityData: b64([]byte("x")), InsecureSkipTLSVerify: true}},
			ReasonKubeconfig, "insecure-skip-tls-verify", "remove insecure-skip-tls-verify"},
		{"CA not base64", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://kas", CertificateAuthorityData: "!!"}}, ReasonKubeconfig,
			"certificate-authority-data is not base64", "base64"},
		{"CA not PEM", ClientConfig{Context: "a:b", Cluster: kubeconfig.Cluster{Server: "https://kas", CertificateAuthorityData: b64([]byte("hello"))}},
			ReasonKubeconfig, "is not PEM", "kubectl gitlab use-context a:b --certificate-authority FILE"},
		{"CA file missing", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://kas", CertificateAuthority: "/nonexistent/ca.pem"}}, ReasonKubeconfig,
			"cannot read /nonexistent/ca.pem", "fix the path"},
		{"key without certificate", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://kas"}, User: kubeconfig.User{ClientKeyData: b64([]byte(secret))}},
			ReasonKubeconfig, "without", "set both"},
		{"proxy-url", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://kas", ProxyURL: "::"}}, ReasonKubeconfig, "proxy-url", "socks5"},
	}
	for _, c := range cases {
		_, err := NewClient(c.cfg)
		var e *Error
		if !errors.As(err, &e) || e.Reason != c.reason || !strings.Contains(e.Error(), c.message) || !strings.Contains(e.Fix(), c.fix) {
			t.Errorf("%s: %v (fix %q)", c.name, err, fixOf(err))
		}
		if err != nil && strings.Contains(err.Error()+fixOf(err), secret) {
			t.Errorf("%s: the error shows a secret", c.name)
		}
	}
}

func fixOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fix()
	}
	return ""
}

func response(code int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	req, _ := http.NewRequest(http.MethodGet, "https://kas.example/k8s-proxy/version?x=1", nil)
	return &http.Response{StatusCode: code, Header: header, Body: io.NopCloser(strings.NewReader(body)), Request: req}
}

func kasStatus(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": msg, "code": code})
	return string(b)
}

func TestDecodeError(t *testing.T) {
	unauthorized := http.Header{"Gitlab-Unauthorized": {"true"}}
	cases := []struct {
		name    string
		resp    *http.Response
		reason  Reason
		fromKAS bool
		says    []string
	}{
		{"KAS 401", response(401, unauthorized, kasStatus(401, "GitLab Agent Server: Unauthorized. Trace ID: 1")), ReasonTokenRejected, true,
			[]string{"KAS rejected the token (401 Unauthorized, Gitlab-Unauthorized: true): GitLab Agent Server: Unauthorized", "CI_JOB_TOKEN is valid only while its job runs", "kubectl gitlab login"}},
		{"cluster 401", response(401, nil, kasStatus(401, "Unauthorized")), ReasonClusterUnauthorized, false,
			[]string{"401 Unauthorized from the cluster, not from KAS", "impersonate verb"}},
		{"KAS 403", response(403, nil, kasStatus(403, "GitLab Agent Server: Forbidden: agentId is not allowed. Trace ID: 2")), ReasonAgentNotAllowed, true,
			[]string{"KAS does not let this job use the agent (403 Forbidden)", "CI_PROJECT_PATH", "CI_ENVIRONMENT_NAME", "CI_COMMIT_REF_PROTECTED", "kubectl gitlab access explain"}},
		{"cluster 403", response(403, nil, kasStatus(403, `pods is forbidden: User "gitlab:ci_job:1" cannot list resource "pods"`)), ReasonClusterForbidden, false,
			[]string{`403 Forbidden from the cluster, not from KAS): pods is forbidden`, "kubectl gitlab whoami", "kubectl gitlab access rbac"}},
		{"KAS 14.3–15.0 400 impersonation", response(400, nil, kasStatus(400, "GitLab Agent Server: Bad Request: impersonation is not allowed")), ReasonImpersonationRefused, true,
			[]string{"the agent refused client impersonation (400 Bad Request)", "--as"}},
		{"426", response(426, nil, ""), ReasonUpgradeRequired, false, []string{"426 Upgrade Required", "1.27.0 and 1.27.1", "use another kubectl version"}},
		{"502", response(502, nil, "agent not connected\nmore"), ReasonAgentUnavailable, true, []string{"KAS could not get an answer from the agent (502 Bad Gateway): agent not connected", "agent's pods"}},
		{"404", response(404, nil, kasStatus(404, "the server could not find the requested resource")), ReasonNotFound, false, []string{"404 Not Found"}},
		{"500", response(500, nil, `{"error":"boom"}`), ReasonServerError, false, []string{"500 Internal Server Error: boom"}},
	}
	for _, c := range cases {
		var e *Error
		if err := DecodeError(c.resp); !errors.As(err, &e) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if e.Reason != c.reason || e.FromKAS != c.fromKAS || e.URL != "https://kas.example/k8s-proxy/version" {
			t.Errorf("%s: %+v", c.name, e)
		}
		for _, s := range c.says {
			if !strings.Contains(e.Error()+"\n"+e.Fix(), s) {
				t.Errorf("%s: does not say %q:\n%s\nfix: %s", c.name, s, e.Error(), e.Fix())
			}
		}
	}
	// The fix for a rejected token depends on its kind.
	e := &Error{Reason: ReasonTokenRejected, TokenKind: "pat"}
	if strings.Contains(e.Fix(), "CI_JOB_TOKEN") || !strings.Contains(e.Fix(), "k8s_proxy scope") {
		t.Errorf("pat fix: %s", e.Fix())
	}
}

func TestDecodeTransportError(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	slow := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(500 * time.Millisecond) }))
	t.Cleanup(slow.Close)
	// The closed port last: a server started after it could be given it.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	otherCA, _ := clientCert(t, "some other CA")

	cases := []struct {
		name   string
		cfg    ClientConfig
		reason Reason
		says   []string
	}{
		{"untrusted", ClientConfig{Context: "group/agents:prod", Cluster: kubeconfig.Cluster{Server: srv.URL + "/k8s-proxy"}}, ReasonUntrustedCertificate,
			[]string{"KAS's certificate is not trusted at " + srv.URL + "/k8s-proxy: tls: failed to verify certificate: x509: certificate signed by unknown authority",
				"pass the CA that signed KAS's certificate: kubectl gitlab use-context group/agents:prod --certificate-authority FILE", "$KAS_CERTIFICATE", "SSL_CERT_FILE"}},
		{"wrong CA", ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, CertificateAuthorityData: b64(otherCA)}}, ReasonUntrustedCertificate,
			[]string{"the CA in the kubeconfig did not sign KAS's certificate"}},
		{"name mismatch", ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, CertificateAuthorityData: b64(caPEM(srv)), TLSServerName: "kas.other.example"}},
			ReasonCertificateName, []string{"does not name the host", "tls-server-name"}},
		{"refused", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://" + closed + "/k8s-proxy"}}, ReasonConnectionRefused,
			[]string{"cannot reach https://" + closed + "/k8s-proxy", "connection refused", "KAS is down, or the server URL is wrong"}},
		{"no TLS", ClientConfig{Cluster: kubeconfig.Cluster{Server: strings.Replace(plain.URL, "http:", "https:", 1)}}, ReasonNotTLS,
			[]string{"no TLS at", "plain HTTP"}},
		{"unknown host", ClientConfig{Cluster: kubeconfig.Cluster{Server: "https://kas.invalid"}}, ReasonHostNotFound, []string{"does not resolve"}},
		{"timeout", ClientConfig{Cluster: kubeconfig.Cluster{Server: slow.URL, InsecureSkipTLSVerify: true}, Timeout: 100 * time.Millisecond}, ReasonTimeout,
			[]string{"cannot reach", "did not answer in time"}},
	}
	for _, c := range cases {
		err := askVersion(t, c.cfg)
		var e *Error
		if !errors.As(err, &e) || e.Reason != c.reason || !e.IsTransport() {
			t.Errorf("%s: %v (%#v)", c.name, err, e)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(e.Error()+"\n"+e.Fix(), s) {
				t.Errorf("%s: does not say %q:\n%s\nfix: %s", c.name, s, e.Error(), e.Fix())
			}
		}
	}
}

func TestProbeSendsNoCredential(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	c, err := NewClient(ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, CertificateAuthorityData: b64(caPEM(srv))},
		User: kubeconfig.User{Token: "ci:1:" + secret, As: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Probe(context.Background(), "/version")
	if err != nil {
		t.Fatal(err)
	}
	if s.auth != "" || s.header.Get("Impersonate-User") != "" || p.StatusCode != 200 || len(p.PeerCertificates) == 0 {
		t.Errorf("probe: auth %q, %+v", s.auth, p)
	}
}

// fakeExec answers like a plugin, after checking what kubectl would pass.
func fakeExec(t *testing.T, out string, check func(req ExecRequest)) ExecRunner {
	return func(_ context.Context, req ExecRequest) ([]byte, error) {
		if check != nil {
			check(req)
		}
		return []byte(out), nil
	}
}

func execInfo(t *testing.T, req ExecRequest) map[string]any {
	for _, kv := range req.Env {
		if v, ok := strings.CutPrefix(kv, "KUBERNETES_EXEC_INFO="); ok {
			var info map[string]any
			if err := json.Unmarshal([]byte(v), &info); err != nil {
				t.Fatal(err)
			}
			return info
		}
	}
	t.Fatal("no KUBERNETES_EXEC_INFO")
	return nil
}

func TestExecCredential(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	cluster := kubeconfig.Cluster{Server: srv.URL + "/k8s-proxy", CertificateAuthorityData: b64(caPEM(srv))}
	user := func(apiVersion string, provide bool) kubeconfig.User {
		return kubeconfig.User{Exec: &kubeconfig.Exec{APIVersion: apiVersion, Command: "kubectl-gitlab", Args: []string{"get-token", "--agent-id=1234"},
			Env: []kubeconfig.EnvVar{{Name: "FOO", Value: "bar"}}, InstallHint: "install kubectl-gitlab", ProvideClusterInfo: provide}}
	}
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	for _, apiVersion := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		out := `{"kind":"ExecCredential","apiVersion":"` + apiVersion + `","status":{"token":"ci:1234:` + secret + `","expirationTimestamp":"2030-01-02T03:04:05Z"}}`
		c, err := NewClient(ClientConfig{Cluster: cluster, User: user(apiVersion, true), Exec: fakeExec(t, out, func(req ExecRequest) {
			info := execInfo(t, req)
			spec := info["spec"].(map[string]any)
			if info["apiVersion"] != apiVersion || spec["interactive"] != false || spec["cluster"].(map[string]any)["server"] != cluster.Server ||
				spec["cluster"].(map[string]any)["certificate-authority-data"] != cluster.CertificateAuthorityData || !slices.Contains(req.Env, "FOO=bar") ||
				req.Command != "kubectl-gitlab" || !slices.Equal(req.Args, []string{"get-token", "--agent-id=1234"}) {
				t.Errorf("exec request %+v", req)
			}
		})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Version(context.Background()); err != nil {
			t.Fatal(err)
		}
		cred, _ := c.Credential(context.Background())
		if s.auth != "Bearer ci:1234:"+secret || !cred.Expires.Equal(expires) || cred.Source != "exec kubectl-gitlab get-token --agent-id=1234" {
			t.Errorf("%s: auth %q, credential %+v", apiVersion, s.auth, cred)
		}
	}

	// A client certificate from the plugin.
	certPEM, keyPEM := clientCert(t, "from-exec")
	out, _ := json.Marshal(map[string]any{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
		"status": map[string]any{"clientCertificateData": string(certPEM), "clientKeyData": string(keyPEM)}})
	if err := askVersion(t, ClientConfig{Cluster: cluster, User: user("client.authentication.k8s.io/v1", false), Exec: fakeExec(t, string(out), nil)}); err != nil {
		t.Fatal(err)
	}
	if s.clientCN != "from-exec" {
		t.Errorf("client certificate %q", s.clientCN)
	}

	bad := []struct {
		name, out, says string
	}{
		{"not JSON", "token " + secret, "not an ExecCredential (not JSON)"},
		{"other apiVersion", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"` + secret + `"}}`, `answered in apiVersion "client.authentication.k8s.io/v1beta1"`},
		{"no status", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}`, "without status"},
		{"empty", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}`, "neither a token nor a client certificate"},
	}
	for _, b := range bad {
		err := askVersion(t, ClientConfig{Cluster: cluster, User: user("client.authentication.k8s.io/v1", false), Exec: fakeExec(t, b.out, nil)})
		var e *Error
		if !errors.As(err, &e) || e.Reason != ReasonCredential || !strings.Contains(err.Error(), b.says) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v", b.name, err)
		}
	}
	if err := askVersion(t, ClientConfig{Cluster: cluster, User: user("client.authentication.k8s.io/v1alpha1", false)}); err == nil || !strings.Contains(err.Error(), "v1alpha1") {
		t.Errorf("v1alpha1: %v", err)
	}
}

func TestRunExecAsProcess(t *testing.T) {
	var s seen
	srv := versionServer(t, &s)
	cluster := kubeconfig.Cluster{Server: srv.URL, CertificateAuthorityData: b64(caPEM(srv))}
	dir := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755)
		return path
	}
	ok := script("ok", `case "$KUBERNETES_EXEC_INFO" in *'"apiVersion":"client.authentication.k8s.io/v1"'*) ;; *) exit 3;; esac
echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"'"$TOKEN"'"}}'`)
	failing := script("failing", `echo 'error: no token for agent 1234: not in a job' >&2
echo '  run: kubectl gitlab login' >&2
exit 1`)
	exec := func(command string) *kubeconfig.Exec {
		return &kubeconfig.Exec{APIVersion: "client.authentication.k8s.io/v1", Command: command, InstallHint: "install it with krew",
			Env: []kubeconfig.EnvVar{{Name: "TOKEN", Value: "pat:1:" + secret}}}
	}
	if err := askVersion(t, ClientConfig{Cluster: cluster, User: kubeconfig.User{Exec: exec(ok)}}); err != nil || s.auth != "Bearer pat:1:"+secret {
		t.Fatalf("%v, auth %q", err, s.auth)
	}
	err := askVersion(t, ClientConfig{Cluster: cluster, User: kubeconfig.User{Exec: exec(failing)}})
	if err == nil || err.Error() != "the exec plugin "+failing+" failed (exit code 1): no token for agent 1234: not in a job" || fixOf(err) != "run: kubectl gitlab login" {
		t.Errorf("failing plugin: %v / %q", err, fixOf(err))
	}
	err = askVersion(t, ClientConfig{Cluster: cluster, User: kubeconfig.User{Exec: exec("kubectl-gitlab-nowhere")}})
	if err == nil || !strings.Contains(err.Error(), `"kubectl-gitlab-nowhere" is not found on PATH`) || fixOf(err) != "install it with krew" {
		t.Errorf("missing plugin: %v / %q", err, fixOf(err))
	}
}

func TestSelfSubjectReviewFallsBackToV1beta1(t *testing.T) {
	for _, served := range []string{"v1beta1", ""} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if served == "" || !strings.Contains(r.URL.Path, "/"+served+"/") {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, kasStatus(404, "the server could not find the requested resource"))
				return
			}
			io.WriteString(w, `{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1beta1","status":{"userInfo":{"username":"gitlab:ci_job:1","groups":["gitlab:ci_job"]}}}`)
		}))
		defer srv.Close()
		c, _ := NewClient(ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, InsecureSkipTLSVerify: true}})
		r, err := c.SelfSubjectReview(context.Background())
		switch {
		case served != "" && (err != nil || r.APIVersion != "authentication.k8s.io/v1beta1" || r.UserInfo.Username != "gitlab:ci_job:1"):
			t.Errorf("v1beta1: %+v, %v", r, err)
		case served == "" && (err == nil || !strings.Contains(err.Error(), "serves no SelfSubjectReview") || !strings.Contains(fixOf(err), "1.27")):
			t.Errorf("none: %v", err)
		}
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, kasStatus(403, "token "+r.Header.Get("Authorization")+" is not welcome"))
	}))
	defer srv.Close()
	err := askVersion(t, ClientConfig{Cluster: kubeconfig.Cluster{Server: srv.URL, InsecureSkipTLSVerify: true}, User: kubeconfig.User{Token: "ci:1:" + secret}})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("%v", err)
	}
}

func TestDescribeAccess(t *testing.T) {
	cases := []struct {
		user UserInfo
		mode access.AccessMode
		says string
	}{
		{UserInfo{Username: "gitlab:ci_job:4242", Groups: []string{"gitlab:ci_job"}}, access.AccessCIJob, "CI job 4242"},
		{UserInfo{Username: "system:serviceaccount:gitlab-agent:agentk"}, access.AccessAgent, "gitlab-agent/agentk"},
		{UserInfo{Username: "gitlab:user:alice", Groups: []string{"gitlab:user"}}, access.AccessUser, "GitLab user alice"},
		{UserInfo{Username: "deployer"}, access.AccessImpersonate, "static identity"},
		{UserInfo{Username: "system:serviceaccount:apps:deployer", Extra: map[string][]string{"agent.gitlab.com/id": {"1"}}}, access.AccessImpersonate, "static"},
	}
	for _, c := range cases {
		if got := DescribeAccess(c.user); got.Mode != c.mode || !strings.Contains(got.Description, c.says) {
			t.Errorf("%s: %+v", c.user.Username, got)
		}
	}
}

func TestDescribeExecHidesSecrets(t *testing.T) {
	got := DescribeExec("tool", []string{"get-token", "--token", secret, "--password=" + secret, "--token-store=file", "--agent-id=1"})
	if strings.Contains(got, secret) || got != "tool get-token --token REDACTED --password=REDACTED --token-store=file --agent-id=1" {
		t.Errorf("%s", got)
	}
}
