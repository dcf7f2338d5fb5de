// Package hostile is a loopback server that treats the plugin's HTTP
// clients as an attacker would: it redirects to another host (127.0.0.2),
// to plain http on the same host and port, or to another port, with any
// 3xx status, and every listener answers as the real server would, so that
// a client that follows a redirect gets a plausible success. Every
// listener records what it saw: tests assert that no secret reached
// another origin, and that nothing passed for the server's answer.
//
// The server's certificate covers 127.0.0.1, 127.0.0.2 and localhost, so
// a client that trusts CAFile would complete the TLS handshake with every
// listener: only its redirect policy keeps the token from them.
package hostile

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpki"
)

// Listener names one of the server's listeners.
type Listener string

const (
	// Origin is https://127.0.0.1:P, the server the client is pointed at.
	Origin Listener = "origin"
	// OriginHTTP is http://127.0.0.1:P: the same host and port, plain
	// http (one port serves both, told apart by the first byte).
	OriginHTTP Listener = "origin-http"
	// OtherHost is https://127.0.0.2:Q.
	OtherHost Listener = "other-host"
	// OtherPort is https://127.0.0.1:R.
	OtherPort Listener = "other-port"
)

// Listeners are all of them, the origin first.
var Listeners = []Listener{Origin, OriginHTTP, OtherHost, OtherPort}

// Request is what a listener saw.
type Request struct {
	Listener Listener
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     string
}

// Carries reports whether the request held secret anywhere: a header, the
// query or the body.
func (r Request) Carries(secret string) bool {
	if strings.Contains(r.RawQuery, secret) || strings.Contains(r.Body, secret) {
		return true
	}
	for _, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				return true
			}
		}
	}
	return false
}

// Server is a running hostile server.
type Server struct {
	// URL is the origin's base URL, https://127.0.0.1:P.
	URL string
	// URLs are every listener's base URL.
	URLs   map[Listener]string
	CAPEM  []byte
	CAFile string

	mu        sync.Mutex
	requests  []Request
	redirects map[string]redirect
	answers   map[string]answer
	closers   []func()
}

type redirect struct {
	status int
	to     Listener
	toPath string
}

type answer struct {
	status int
	body   string
}

// Start starts the listeners for a test and stops them when it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("hostile: %v", err)
	}
	t.Cleanup(s.Close)
	s.CAFile = filepath.Join(t.TempDir(), "hostile-ca.pem")
	if err := os.WriteFile(s.CAFile, s.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func start() (*Server, error) {
	ca, err := testpki.NewAuthority("hostile CA")
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.Issue(pkix.Name{CommonName: "hostile"}, x509.ExtKeyUsageServerAuth,
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)}, []string{"localhost"})
	if err != nil {
		return nil, err
	}
	leaf, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	s := &Server{CAPEM: ca.CertPEM, URLs: map[Listener]string{}, redirects: map[string]redirect{}, answers: map[string]answer{}}

	origin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tlsConns, plainConns := newConnQueue(origin.Addr()), newConnQueue(origin.Addr())
	go split(origin, tlsConns, plainConns)
	s.closers = append(s.closers, func() { origin.Close() })
	s.serve(Origin, tls.NewListener(tlsConns, tlsConfig))
	s.serve(OriginHTTP, plainConns)
	s.URLs[Origin] = "https://" + origin.Addr().String()
	s.URLs[OriginHTTP] = "http://" + origin.Addr().String()

	for name, addr := range map[Listener]string{OtherHost: "127.0.0.2:0", OtherPort: "127.0.0.1:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.serve(name, tls.NewListener(l, tlsConfig))
		s.URLs[name] = "https://" + l.Addr().String()
	}
	s.URL = s.URLs[Origin]
	return s, nil
}

func (s *Server) serve(name Listener, l net.Listener) {
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handle(name, w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go srv.Serve(l)
	s.closers = append(s.closers, func() { srv.Close() })
}

// Transport trusts the server's CA, and so every listener: only a
// client's redirect policy keeps a token from them.
func (s *Server) Transport() http.RoundTripper {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
}

// Close stops every listener.
func (s *Server) Close() {
	for _, c := range s.closers {
		c()
	}
}

// Redirect makes the origin (over https and over plain http) answer
// method path with status and a Location on the listener to, at toPath.
func (s *Server) Redirect(method, path string, status int, to Listener, toPath string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirects[method+" "+path] = redirect{status: status, to: to, toPath: toPath}
}

// Answer makes every listener answer method path with status and a JSON
// body, as the real server would.
func (s *Server) Answer(method, path string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[method+" "+path] = answer{status: status, body: body}
}

// Requests is what every listener saw, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Saw is what one listener saw.
func (s *Server) Saw(l Listener) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Listener == l {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets what the listeners saw.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) handle(name Listener, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.requests = append(s.requests, Request{Listener: name, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	red, redirects := s.redirects[r.Method+" "+r.URL.Path]
	ans, answers := s.answers[r.Method+" "+r.URL.Path]
	target := s.URLs[red.to]
	s.mu.Unlock()
	switch {
	case redirects && (name == Origin || name == OriginHTTP):
		w.Header().Set("Location", target+red.toPath)
		w.WriteHeader(red.status)
	case answers:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ans.status)
		io.WriteString(w, ans.body)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"404 Not Found"}`)
	}
}

// split hands each connection of l to tlsConns when it starts with a TLS
// handshake record, else to plainConns.
func split(l net.Listener, tlsConns, plainConns *connQueue) {
	defer tlsConns.Close()
	defer plainConns.Close()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			br := bufio.NewReader(conn)
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			first, err := br.Peek(1)
			conn.SetReadDeadline(time.Time{})
			if err != nil {
				conn.Close()
				return
			}
			c := &peekedConn{Conn: conn, r: br}
			if first[0] == 0x16 { // TLS record type handshake
				tlsConns.put(c)
			} else {
				plainConns.put(c)
			}
		}()
	}
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connQueue is a net.Listener fed by split.
type connQueue struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (q *connQueue) put(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.closed:
		c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.closed:
		return nil, errors.New("closed")
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
