package kas

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/version"
)

// DefaultTimeout bounds each request of a Client. KAS holds a request for
// an agent that is not connected for 20 s before it answers 502
// (cmd/kas/kasapp/router_kas.go, routingTunnelFindTimeout in KAS 16.5):
// the client waits that out, and then some.
const DefaultTimeout = 30 * time.Second

// Progress tells people that a request waits for KAS: one line on W when
// an authenticated request has had no answer for After (default 2 s).
type Progress struct {
	W     io.Writer
	After time.Duration
}

// maxTokenFileSize bounds a kubeconfig user's tokenFile.
const maxTokenFileSize = 1 << 20

// ClientConfig is how to reach the API server of one kubeconfig context:
// for an agent context, KAS's k8s-proxy, which forwards to the agent's
// cluster. It is a small REST client built from our own kubeconfig model,
// so that the binary does not link client-go.
type ClientConfig struct {
	// Context names the kubeconfig context, for messages and fixes.
	Context string
	Cluster kubeconfig.Cluster
	// ClusterFile and UserFile are where the entries were defined: kubectl
	// resolves their relative paths against those files' directories.
	ClusterFile string
	User        kubeconfig.User
	UserFile    string
	// Transport, when set, replaces the one built from the cluster's TLS
	// settings (tests that fake answers).
	Transport http.RoundTripper
	// Exec runs exec credential plugins; nil runs them as processes.
	Exec ExecRunner
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// Progress, when set, reports a long wait (on a terminal).
	Progress *Progress
}

// ConfigForContext reads a context's cluster and user from the kubeconfig.
func ConfigForContext(set *kubeconfig.Set, name string) (ClientConfig, error) {
	ctx, _, ok := set.Context(name)
	if !ok {
		return ClientConfig{}, &Error{Reason: ReasonKubeconfig, Context: name, Message: fmt.Sprintf("no context named %q", name),
			Hint: "kubectl gitlab get-contexts --all lists the contexts"}
	}
	cluster, clusterFile, ok := set.Cluster(ctx.Cluster)
	if !ok {
		return ClientConfig{}, &Error{Reason: ReasonKubeconfig, Context: name, Message: fmt.Sprintf("context %q names cluster %q, which is not defined", name, ctx.Cluster),
			Hint: "fix the context, or write agent contexts anew: kubectl gitlab update-kubeconfig"}
	}
	cfg := ClientConfig{Context: name, Cluster: cluster, ClusterFile: clusterFile}
	if ctx.User != "" {
		user, userFile, ok := set.User(ctx.User)
		if !ok {
			return ClientConfig{}, &Error{Reason: ReasonKubeconfig, Context: name, Message: fmt.Sprintf("context %q names user %q, which is not defined", name, ctx.User),
				Hint: "fix the context, or write agent contexts anew: kubectl gitlab update-kubeconfig"}
		}
		cfg.User, cfg.UserFile = user, userFile
	}
	return cfg, nil
}

// Client sends requests as a kubeconfig context does: the cluster's URL
// (with KAS's path prefix) and TLS settings, the user's credential.
type Client struct {
	cfg     ClientConfig
	server  *url.URL
	http    *http.Client
	secrets []string // redacted from every message

	credOnce sync.Once
	cred     UserCredential
	credErr  error

	waitOnce sync.Once // the progress line is said once
}

// UserCredential is what a kubeconfig user's requests authenticate with,
// resolved: a token, an exec plugin's credential, a client certificate.
// Token, ClientKeyData and Certificate are secrets.
type UserCredential struct {
	credential.Credential
	// Source says where it came from, for messages: "token", "tokenFile
	// /path", "exec kubectl-gitlab get-token --agent-id=1234",
	// "client certificate", or "none".
	Source string
	// Certificate is the client certificate an exec plugin gave, loaded.
	Certificate *tls.Certificate
}

// CheckServerURL checks that a cluster's server is an https URL. Its
// messages show the URL redacted.
func CheckServerURL(server string) (*url.URL, error) {
	u, err := url.Parse(server)
	shown := redact.URL(server)
	switch {
	case server == "":
		return nil, &Error{Reason: ReasonKubeconfig, Message: "the cluster has no server URL", Hint: "write agent contexts anew: kubectl gitlab update-kubeconfig"}
	case err != nil || u.Host == "":
		return nil, &Error{Reason: ReasonKubeconfig, Message: fmt.Sprintf("the cluster's server %q is not a URL", shown), Hint: "write agent contexts anew: kubectl gitlab update-kubeconfig"}
	case u.Scheme == "http":
		return nil, &Error{Reason: ReasonPlainHTTP, URL: shown, Message: fmt.Sprintf("the server URL %s is plain http, not https", shown)}
	case u.Scheme != "https":
		return nil, &Error{Reason: ReasonKubeconfig, Message: fmt.Sprintf("the server URL %s is not https", shown), Hint: "use the https:// k8s-proxy URL (kubectl gitlab update-kubeconfig writes it)"}
	}
	return u, nil
}

// NewClient checks the configuration and makes a client. Nothing is sent
// and no exec plugin runs until a request is made.
func NewClient(cfg ClientConfig) (*Client, error) {
	server, err := CheckServerURL(cfg.Cluster.Server)
	if err != nil {
		return nil, withContext(err, cfg.Context)
	}
	c := &Client{cfg: cfg, server: server}
	transport := cfg.Transport
	if transport == nil {
		tlsConfig, err := c.tlsConfig()
		if err != nil {
			return nil, withContext(err, cfg.Context)
		}
		t := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     tlsConfig,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        10,
			IdleConnTimeout:     30 * time.Second,
		}
		if p := cfg.Cluster.ProxyURL; p != "" {
			pu, err := url.Parse(p)
			if err != nil || pu.Host == "" {
				return nil, &Error{Reason: ReasonKubeconfig, Context: cfg.Context, Message: fmt.Sprintf("the cluster's proxy-url %q is not a URL", p),
					Hint: "set proxy-url to http://, https:// or socks5:// host:port, or remove it"}
			}
			t.Proxy = http.ProxyURL(pu)
		}
		transport = t
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	// The token goes to the server's origin only, and no redirect leaves
	// it or turns the SelfSubjectReview's POST into a GET.
	if c.http, err = httpsafe.NewClient(server, httpsafe.Policy{}, transport, timeout); err != nil {
		return nil, withContext(err, cfg.Context)
	}
	return c, nil
}

// Server is the server URL, with KAS's path prefix, redacted: for
// messages.
func (c *Client) Server() string { return redact.URL(c.server.String()) }

func withContext(err error, context string) error {
	var e *Error
	if errors.As(err, &e) && e.Context == "" {
		e.Context = context
	}
	return err
}

// tlsConfig applies certificate-authority(-data), insecure-skip-tls-verify,
// tls-server-name and a client certificate, as client-go does: a named CA
// replaces the system roots; none means the system roots (and
// SSL_CERT_FILE, which Go honours).
func (c *Client) tlsConfig() (*tls.Config, error) {
	cl := c.cfg.Cluster
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cl.TLSServerName}
	caPEM, caSource, err := dataOrFile(cl.CertificateAuthorityData, "certificate-authority-data", cl.CertificateAuthority, c.cfg.ClusterFile)
	if err != nil {
		return nil, err
	}
	if caPEM != nil {
		if cl.InsecureSkipTLSVerify {
			return nil, &Error{Reason: ReasonKubeconfig, Message: "the cluster sets both a certificate authority and insecure-skip-tls-verify, which kubectl refuses",
				Hint: "remove insecure-skip-tls-verify (kubectl gitlab use-context --certificate-authority embeds the CA)"}
		}
		bundle, err := ParseCABundle(caSource, caPEM)
		if err != nil {
			return nil, &Error{Reason: ReasonKubeconfig, Message: "the cluster's CA: " + err.Error(), Err: err,
				Hint: "embed a PEM CA certificate: kubectl gitlab use-context " + quoteArg(c.cfg.Context) + " --certificate-authority FILE"}
		}
		conf.RootCAs = bundle.Pool()
	}
	conf.InsecureSkipVerify = cl.InsecureSkipTLSVerify

	u := c.cfg.User
	certPEM, _, err := dataOrFile(u.ClientCertificateData, "client-certificate-data", u.ClientCertificateFile, c.cfg.UserFile)
	if err != nil {
		return nil, err
	}
	keyPEM, _, err := dataOrFile(u.ClientKeyData, "client-key-data", u.ClientKeyFile, c.cfg.UserFile)
	if err != nil {
		return nil, err
	}
	switch {
	case certPEM != nil && keyPEM != nil:
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// X509KeyPair's messages describe, never quote, the key.
			return nil, &Error{Reason: ReasonKubeconfig, Message: "the user's client certificate and key do not load: " + err.Error(),
				Hint: "check client-certificate(-data) and client-key(-data) of the context's user"}
		}
		conf.Certificates = []tls.Certificate{cert}
	case certPEM != nil || keyPEM != nil:
		return nil, &Error{Reason: ReasonKubeconfig, Message: "the user has a client certificate without a key, or a key without a certificate",
			Hint: "set both client-certificate(-data) and client-key(-data), or neither"}
	default:
		// An exec plugin may hand out a client certificate.
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if c.cred.Certificate != nil {
				return c.cred.Certificate, nil
			}
			return &tls.Certificate{}, nil
		}
	}
	return conf, nil
}

// dataOrFile reads a kubeconfig's base64 "-data" field, else its file
// field (relative to the kubeconfig file's directory).
func dataOrFile(data, dataField, file, definedIn string) ([]byte, string, error) {
	if data != "" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		if err != nil {
			return nil, "", &Error{Reason: ReasonKubeconfig, Message: dataField + " is not base64",
				Hint: "the -data fields hold base64 of the PEM file (base64 -w0 FILE)"}
		}
		return b, dataField, nil
	}
	if file == "" {
		return nil, "", nil
	}
	if !filepath.IsAbs(file) && definedIn != "" {
		file = filepath.Join(filepath.Dir(definedIn), file)
	}
	b, err := atomicfile.ReadFile(file, maxCABundleSize) // a PEM file, as a CA bundle
	if err != nil {
		return nil, "", &Error{Reason: ReasonKubeconfig, Message: "cannot read " + file + ": " + errors.Unwrap(err).Error(), Err: err,
			Hint: "fix the path in the kubeconfig (relative paths are relative to the kubeconfig file)"}
	}
	return b, file, nil
}

// Credential resolves the user's credential once: token, tokenFile, an
// exec plugin (run now), a client certificate, or none.
func (c *Client) Credential(ctx context.Context) (UserCredential, error) {
	c.credOnce.Do(func() {
		c.cred, c.credErr = c.resolveCredential(ctx)
		if c.cred.Token != "" {
			c.secrets = append(c.secrets, c.cred.Token)
			if t, ok := c.cred.AgentToken(); ok {
				c.secrets = append(c.secrets, t.Secret)
			}
		}
	})
	return c.cred, c.credErr
}

func (c *Client) resolveCredential(ctx context.Context) (UserCredential, error) {
	u := c.cfg.User
	switch {
	case u.Token != "":
		return UserCredential{Source: "token", Credential: credential.Credential{Token: u.Token}}, nil
	case u.TokenFile != "":
		path := u.TokenFile
		if !filepath.IsAbs(path) && c.cfg.UserFile != "" {
			path = filepath.Join(filepath.Dir(c.cfg.UserFile), path)
		}
		data, err := atomicfile.ReadFile(path, maxTokenFileSize)
		if err != nil {
			return UserCredential{}, &Error{Reason: ReasonCredential, Context: c.cfg.Context, Message: "cannot read the user's tokenFile " + path + ": " + errors.Unwrap(err).Error(), Err: err,
				Hint: "fix tokenFile in the kubeconfig, or use an exec context: kubectl gitlab update-kubeconfig"}
		}
		token := strings.TrimSpace(string(data))
		if token == "" {
			return UserCredential{}, &Error{Reason: ReasonCredential, Context: c.cfg.Context, Message: "the user's tokenFile " + path + " is empty"}
		}
		return UserCredential{Source: "tokenFile " + path, Credential: credential.Credential{Token: token}}, nil
	case u.Exec != nil:
		return c.execCredential(ctx)
	case u.ClientCertificateFile != "" || u.ClientCertificateData != "":
		return UserCredential{Source: "client certificate"}, nil
	}
	return UserCredential{Source: "none"}, nil
}

// Get sends an authenticated GET and decodes the JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Do sends an authenticated request with in as JSON (if not nil) and
// decodes the JSON answer into out (if not nil). Failures are *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	cred, err := c.Credential(ctx)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, method, path, in, cred)
	if err != nil {
		return c.decorate(err, cred)
	}
	if resp.StatusCode >= 300 {
		return c.decorate(DecodeError(resp), cred)
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return c.decorate(DecodeTransportError(c.Server(), err), cred)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Reason: ReasonServerError, StatusCode: resp.StatusCode, URL: c.Server(), Context: c.cfg.Context,
			Message: "the answer to " + method + " " + path + " is not the JSON expected: " + err.Error()}
	}
	return nil
}

// Probe sends GET path without any credential: whether the server is
// reachable and its certificate trusted is known before a secret travels.
func (c *Client) Probe(ctx context.Context, path string) (*ProbeResult, error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil, UserCredential{})
	if err != nil {
		return nil, c.decorate(err, UserCredential{})
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	r := &ProbeResult{StatusCode: resp.StatusCode, Header: resp.Header}
	if resp.TLS != nil {
		r.PeerCertificates = resp.TLS.PeerCertificates
	}
	return r, nil
}

// ProbeResult is the answer to a Probe.
type ProbeResult struct {
	StatusCode       int
	Header           http.Header
	PeerCertificates []*x509.Certificate
}

func (c *Client) send(ctx context.Context, method, path string, in any, cred UserCredential) (*http.Response, error) {
	u := *c.server
	p, query, _ := strings.Cut(path, "?")
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	u.RawPath = ""
	u.RawQuery = query
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kubectl-gitlab/"+version.String())
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cred.Token)
	}
	if cred.Source != "" {
		c.impersonate(req.Header)
	}
	stop := c.reportWait(cred)
	resp, err := c.http.Do(req)
	stop()
	var redirect *httpsafe.RedirectError
	switch {
	case errors.As(err, &redirect):
		return nil, &Error{Reason: ReasonRedirected, StatusCode: redirect.Status, Message: redirect.Error(), Hint: redirect.Fix(), Err: redirect}
	case err != nil:
		return nil, DecodeTransportError(c.Server(), err)
	}
	return resp, nil
}

// reportWait says, once, that a request with an agent token waits for
// KAS, which looks for the agent's connection for up to 20 s. The
// returned stop ends the wait; the line is written before it returns.
func (c *Client) reportWait(cred UserCredential) (stop func()) {
	p := c.cfg.Progress
	token, ok := cred.AgentToken()
	if p == nil || p.W == nil || !ok {
		return func() {}
	}
	after := p.After
	if after == 0 {
		after = 2 * time.Second
	}
	written := make(chan struct{})
	t := time.AfterFunc(after, func() {
		defer close(written)
		c.waitOnce.Do(func() {
			fmt.Fprintf(p.W, "waiting for KAS to find agent %d (it looks for up to 20 s)…\n", token.AgentID)
		})
	})
	return func() {
		if !t.Stop() {
			<-written
		}
	}
}

// impersonate adds the user's as/as-groups/as-uid/as-user-extra as
// client-go does (KAS refuses them when it impersonates itself).
func (c *Client) impersonate(h http.Header) {
	u := c.cfg.User
	if u.As == "" {
		return
	}
	h.Set("Impersonate-User", u.As)
	if u.AsUID != "" {
		h.Set("Impersonate-Uid", u.AsUID)
	}
	for _, g := range u.AsGroups {
		h.Add("Impersonate-Group", g)
	}
	for k, vs := range u.AsUserExtra {
		for _, v := range vs {
			h.Add("Impersonate-Extra-"+url.PathEscape(k), v)
		}
	}
}

// decorate fills in what the client knows about an *Error and removes any
// secret from its message.
func (c *Client) decorate(err error, cred UserCredential) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	e.Context = c.cfg.Context
	if e.URL == "" || e.IsTransport() {
		e.URL = c.Server()
	}
	e.CAConfigured = c.cfg.Cluster.CertificateAuthorityData != "" || c.cfg.Cluster.CertificateAuthority != ""
	if t, ok := cred.AgentToken(); ok {
		e.TokenKind, e.AgentID = string(t.Kind), t.AgentID
	}
	// What a server says is shown on a terminal: one line, no control
	// characters, no secret.
	e.Message = termsafe.Text(c.Redact(e.Message))
	return e
}

// Redact replaces the client's secrets in s.
func (c *Client) Redact(s string) string { return redact.Secrets(s, c.secrets...) }
