package kas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// ErrDisabled says the GitLab instance has no agent server.
var ErrDisabled = fixable.New("ask the GitLab administrator to enable the agent server, or pass --kas-url if it runs elsewhere",
	"the agent server (KAS) is disabled on this GitLab instance (metadata: kas.enabled is false)")

// DiscoverProxyURL finds the k8s-proxy URL: the instance's metadata, else
// (when the token may not read it, as a job token on some versions)
// fallback, e.g. what a job's kubeconfig already points at, else the URL
// derived from the GitLab URL.
func DiscoverProxyURL(ctx context.Context, client *gitlab.Client, fallback string) (string, error) {
	md, err := client.Metadata(ctx)
	if err == nil {
		return ProxyURLFromMetadata(md)
	}
	var apiErr *gitlab.APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != http.StatusUnauthorized && apiErr.Status != http.StatusForbidden && apiErr.Status != http.StatusNotFound) {
		return "", err
	}
	if fallback != "" {
		return fallback, nil
	}
	return ProxyURLFromGitLab(client.BaseURL()), nil
}

// ProxyURLFromMetadata finds the k8s-proxy URL in GET /api/v4/metadata:
// kas.externalK8sProxyUrl (GitLab 17.6+), else kas.externalUrl with the
// scheme made https and k8s-proxy/ appended.
func ProxyURLFromMetadata(m *gitlab.Metadata) (string, error) {
	if !m.KAS.Enabled {
		return "", ErrDisabled
	}
	if p := m.KAS.ExternalK8sProxyURL; p != nil && *p != "" {
		return withSlash(*p), nil
	}
	if e := m.KAS.ExternalURL; e != nil && *e != "" {
		u, err := url.Parse(*e)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("metadata kas.externalUrl %q is not a URL", *e)
		}
		u.Scheme = "https"
		u.Path = withSlash(u.Path) + "k8s-proxy/"
		return u.String(), nil
	}
	return "", ErrDisabled
}

// ProxyURLFromGitLab derives the k8s-proxy URL from the GitLab URL, as
// GitLab's defaults place it: kas.gitlab.com for GitLab.com, else
// /-/kubernetes-agent/k8s-proxy/ on the GitLab host.
func ProxyURLFromGitLab(base *url.URL) string {
	if host := strings.ToLower(base.Hostname()); host == "gitlab.com" || host == "www.gitlab.com" {
		return "https://kas.gitlab.com/k8s-proxy/"
	}
	u := *base
	u.Scheme = "https"
	u.Path = withSlash(u.Path) + "-/kubernetes-agent/k8s-proxy/"
	u.RawPath = ""
	return u.String()
}

func withSlash(p string) string {
	if !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}
