package testkas

import (
	"crypto/tls"
	"net"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testca"
)

// newCA makes a self-signed CA and a serving certificate for 127.0.0.1 and
// localhost, as a self-managed KAS with a private CA would have. They are
// valid for 90 days (like Let's Encrypt's), so that a check for a
// certificate about to expire does not fire.
func newCA() (caPEM []byte, serving tls.Certificate, err error) {
	ca, err := testca.NewCA("testkas CA")
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leaf, err := testca.Issue(testca.ServingTemplate("kas.testkas.local", []string{"localhost"}, net.IPv4(127, 0, 0, 1), net.IPv6loopback), ca)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return ca.PEM, leaf.TLS(), nil
}
