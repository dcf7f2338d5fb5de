// Package kas knows the GitLab agent server (KAS): where its k8s-proxy
// lives, how to trust it, and what its errors mean.
package kas

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
)

// CABundle is a validated PEM bundle of one or more CA certificates.
type CABundle struct {
	PEM    []byte
	Source string // where it came from, for messages
	Certs  []*x509.Certificate
}

// Pool is a pool of the bundle's certificates alone: a kubeconfig's CA
// replaces the system's roots, as in client-go.
func (b *CABundle) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range b.Certs {
		pool.AddCert(c)
	}
	return pool
}

// GitLabTransport is an HTTP transport to GitLab that trusts the system's
// roots, SSL_CERT_FILE and, when given, the KAS CA bundle too: KAS often
// shares GitLab's host and certificate.
func GitLabTransport(ca *CABundle) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if ca != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, c := range ca.Certs {
			pool.AddCert(c)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return t
}

// PEMOrNil is the bundle's PEM text; nil for no bundle.
func (b *CABundle) PEMOrNil() []byte {
	if b == nil {
		return nil
	}
	return b.PEM
}

// CAError is a CA bundle that cannot be used; the plugin writes nothing then.
type CAError struct {
	Source string
	Msg    string
	Err    error // the cause, if any
}

func (e *CAError) Error() string {
	if e.Err != nil {
		return e.Source + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Source + ": " + e.Msg
}

func (e *CAError) Unwrap() error { return e.Err }

// Fix says which bundle is wanted.
func (e *CAError) Fix() string {
	return "pass the PEM file of the CA that signed KAS's certificate (--certificate-authority FILE or $KAS_CERTIFICATE); nothing was written"
}

// maxCABundleSize bounds a CA bundle file; a system's whole bundle of
// public CAs is some 200 KiB.
const maxCABundleSize = 4 << 20

// LoadCAFile reads and validates a CA bundle file.
func LoadCAFile(path string) (*CABundle, error) {
	data, err := atomicfile.ReadFile(path, maxCABundleSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &CAError{Source: path, Msg: "no such file"}
	case err != nil:
		return nil, &CAError{Source: path, Msg: "cannot read", Err: errors.Unwrap(err)}
	}
	return ParseCABundle(path, data)
}

// LoadCAValue reads $KAS_CERTIFICATE, which holds either a path (a File-type
// CI/CD variable) or the PEM text itself (a plain variable).
func LoadCAValue(name, value string) (*CABundle, error) {
	if strings.Contains(value, "-----BEGIN") {
		return ParseCABundle("$"+name+" (PEM text)", []byte(value))
	}
	if strings.TrimSpace(value) == "" {
		return nil, &CAError{Source: "$" + name, Msg: "is set but empty"}
	}
	b, err := LoadCAFile(value)
	if err != nil {
		var ce *CAError
		if errors.As(err, &ce) {
			ce.Source = "$" + name + " = " + ce.Source
		}
		return nil, err
	}
	return b, nil
}

// ParseCABundle checks that data is PEM and that every block in it is a
// certificate. Messages never quote the data: a wrong file may hold a key.
func ParseCABundle(source string, data []byte) (*CABundle, error) {
	b := &CABundle{Source: source}
	rest := bytes.TrimSpace(data)
	if len(rest) == 0 {
		return nil, &CAError{Source: source, Msg: "is empty; expected PEM certificates (-----BEGIN CERTIFICATE-----)"}
	}
	for n := 1; len(rest) > 0; n++ {
		block, tail := pem.Decode(rest)
		if block == nil {
			if n == 1 {
				return nil, &CAError{Source: source, Msg: "is not PEM; expected one or more -----BEGIN CERTIFICATE----- blocks"}
			}
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("has data after certificate %d that is not PEM", n-1)}
		}
		if block.Type != "CERTIFICATE" {
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("block %d is a %s, not a CERTIFICATE; pass the CA certificate, never a key", n, block.Type)}
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &CAError{Source: source, Msg: fmt.Sprintf("certificate %d cannot be parsed", n), Err: err}
		}
		b.Certs = append(b.Certs, cert)
		b.PEM = append(b.PEM, pem.EncodeToMemory(block)...)
		rest = bytes.TrimSpace(tail)
	}
	return b, nil
}
