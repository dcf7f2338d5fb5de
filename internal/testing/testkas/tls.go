package testkas

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpki"
)

// newCA makes a self-signed CA and a serving certificate for 127.0.0.1,
// ::1 and localhost, as a self-managed KAS with a private CA would have.
// They are valid for 90 days (like Let's Encrypt's), so that a check for a
// certificate about to expire does not fire.
func newCA() (caPEM []byte, serving tls.Certificate, err error) {
	ca, err := testpki.NewAuthority("testkas CA")
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	certPEM, keyPEM, err := ca.Issue(pkix.Name{CommonName: "kas.testkas.local"}, x509.ExtKeyUsageServerAuth,
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"})
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	serving, err = tls.X509KeyPair(certPEM, keyPEM)
	return ca.CertPEM, serving, err
}
