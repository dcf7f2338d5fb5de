package cmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
)

// jobGitLab reads the GitLab URL and job token of a CI job.
func (d *Deps) jobGitLab() (baseURL, jobToken string, ok bool) {
	jobToken = d.Getenv("CI_JOB_TOKEN")
	baseURL = d.Getenv("CI_API_V4_URL")
	if baseURL == "" {
		baseURL = d.Getenv("CI_SERVER_URL")
	}
	return baseURL, jobToken, jobToken != "" && baseURL != ""
}

// inJob tells whether this runs in a GitLab CI job.
func (d *Deps) inJob() bool {
	_, _, ok := d.jobGitLab()
	return ok
}

// gitlabClient makes a client that trusts the system's CAs, SSL_CERT_FILE,
// and the KAS CA bundle if one was given (KAS often shares GitLab's host
// and certificate).
func (d *Deps) gitlabClient(baseURL string, auth gitlab.Auth, ca *kas.CABundle) (*gitlab.Client, error) {
	transport := d.Transport
	if transport == nil {
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
		transport = t
	}
	return gitlab.NewClient(baseURL, auth, transport)
}

// kasURL finds the k8s-proxy URL: the instance's metadata, else what the
// job's kubeconfig already points at, else derived from the GitLab URL.
func resolveKASURL(ctx context.Context, client *gitlab.Client, fallback string) (string, error) {
	md, err := client.Metadata(ctx)
	if err == nil {
		u, err := kas.ProxyURLFromMetadata(md)
		if errors.Is(err, kas.ErrDisabled) {
			return "", failed("ask the GitLab administrator to enable the agent server, or pass --kas-url if it runs elsewhere", "%w", err)
		}
		return u, err
	}
	var apiErr *gitlab.APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != http.StatusUnauthorized && apiErr.Status != http.StatusForbidden && apiErr.Status != http.StatusNotFound) {
		return "", gitlabFailure(err)
	}
	// Not allowed to read metadata (e.g. a job token on some versions).
	if fallback != "" {
		return fallback, nil
	}
	return kas.ProxyURLFromGitLab(client.BaseURL()), nil
}

// gitlabFailure turns a GitLab API error into an exit-1 error with a fix.
func gitlabFailure(err error) error {
	var apiErr *gitlab.APIError
	var netErr *gitlab.NetworkError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return failed("the token was not accepted: in a job, CI_JOB_TOKEN is valid only while the job runs; elsewhere check GITLAB_TOKEN or run kubectl gitlab login", "%w", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden:
		return failed("the token lacks the rights for this call (a project's agents need the Developer role and the read_api scope)", "%w", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return failed("check the project path or ID and the GitLab URL", "%w", err)
	case errors.As(err, &netErr):
		if strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "certificate") {
			return failed("GitLab's certificate is not trusted: pass its CA with --certificate-authority or $KAS_CERTIFICATE, or set SSL_CERT_FILE", "%w", err)
		}
		return failed("check the GitLab URL and the network; the request was retried", "%w", err)
	}
	return failed("", "%w", err)
}

// onPath reports whether kubectl will find a command through PATH.
func (d *Deps) onPath(name string) bool {
	for _, dir := range filepath.SplitList(d.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}
