package kas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// Where KAS's k8s-proxy is. GitLab knows it as Gitlab::Kas.tunnel_url
// (gitlabhq/gitlabhq lib/gitlab/kas.rb): external_k8s_proxy_url verbatim
// when the instance sets it (Omnibus does, with a trailing slash:
// https://<host>/-/kubernetes-agent/k8s-proxy/), else
// URI.join(external_url, "k8s-proxy") with https for wss and grpcs and
// http for ws and grpc (the Helm chart: https://kas.<domain>/k8s-proxy).
// It writes that URL into every job's kubeconfig (cluster gitlab) and,
// since 17.6, says it in /api/v4/metadata as kas.externalK8sProxyUrl.

// ErrDisabled says the GitLab instance has no agent server.
var ErrDisabled = fixable.New("ask the GitLab administrator to enable the agent server, or pass --kas-url if it runs elsewhere",
	"the agent server (KAS) is disabled on this GitLab instance (metadata: kas.enabled is false)")

// ProxyURLSource says where a k8s-proxy URL came from.
type ProxyURLSource string

// The sources, in the order FindProxyURL tries them.
const (
	FromFlag       ProxyURLSource = "--kas-url"
	FromGitLab     ProxyURLSource = "cluster gitlab of the job's kubeconfig, as GitLab wrote it"
	FromEnv        ProxyURLSource = "$K8S_PROXY_URL"
	FromMetadata   ProxyURLSource = "GitLab's /api/v4/metadata"
	FromRecorded   ProxyURLSource = "GitLab's /api/v4/metadata, as login --web recorded it"
	FromKubeconfig ProxyURLSource = "the kubeconfig"
	FromGuess      ProxyURLSource = "a guess from the GitLab URL"
)

// MetadataAccess says whether a token may read /api/v4/metadata.
type MetadataAccess int

const (
	// MetadataDenied: a job token, a token whose scopes are known to
	// lack one that may read it, or no token. It is not asked.
	MetadataDenied MetadataAccess = iota
	// MetadataAllowed: the token's scopes include one that may read it.
	MetadataAllowed
	// MetadataUnknown: the scopes are not known ($GITLAB_TOKEN); a 401
	// or 403 then means "may not".
	MetadataUnknown
)

// MetadataAccessOf tells, from a personal access token's scopes (known
// is false when they are not), whether it may read /api/v4/metadata.
func MetadataAccessOf(scopes []string, known bool) MetadataAccess {
	switch {
	case !known:
		return MetadataUnknown
	case gitlab.MayReadMetadata(scopes):
		return MetadataAllowed
	}
	return MetadataDenied
}

// FindProxyURL finds the k8s-proxy URL to write, from the first of:
// --kas-url; in a job, the server GitLab wrote into cluster gitlab (never
// overwritten) and $K8S_PROXY_URL (what GitLab's docs have a job set when
// it has no agent context); /api/v4/metadata, when the token may read it;
// the URL login --web recorded from it; the server the kubeconfig
// already has for these contexts; and last a
// guess from the GitLab URL, which Find says out loud (ProxyURL.Note).
type FindProxyURL struct {
	Flag string
	// GitLabWrote is the server of the job kubeconfig's cluster gitlab.
	GitLabWrote string
	// Env is $K8S_PROXY_URL, in a job.
	Env string
	// Client asks GitLab; Metadata says whether it may ask /metadata and
	// Why, when it may not, says why (for the note).
	Client   *gitlab.Client
	Metadata MetadataAccess
	Why      string
	// Recorded is what login --web recorded from /api/v4/metadata
	// (tokenstore.KASURLs), checked again: the file could be edited.
	Recorded string
	// Previous is the server the kubeconfig already gives the contexts'
	// cluster (an earlier run, perhaps with --kas-url).
	Previous string
	// Override names how to give the URL, for the note: "--kas-url URL".
	Override string
}

// ProxyURL is a k8s-proxy URL and where it came from.
type ProxyURL struct {
	URL    string
	Source ProxyURLSource
	// Note says that the URL is a guess, why, and how to give the right
	// one; commands show it on stderr.
	Note string
}

// Find finds the URL. Every URL but GitLab's own kubeconfig entry is
// checked before it is returned (CheckProxyURL).
func (f FindProxyURL) Find(ctx context.Context) (ProxyURL, error) {
	if f.Flag != "" {
		if err := CheckProxyURL(f.Flag, FromFlag); err != nil {
			return ProxyURL{}, err
		}
		if f.GitLabWrote != "" && !kubeconfig.SameServer(f.Flag, f.GitLabWrote) {
			return ProxyURL{}, &ProxyURLError{Source: FromFlag, URL: f.Flag,
				Problem: "differs from the server GitLab wrote into the job's kubeconfig (cluster gitlab: " + shownURL(f.GitLabWrote) + "), which is never overwritten",
				fix:     "leave out --kas-url: GitLab's server is the one its contexts use"}
		}
		return ProxyURL{URL: f.Flag, Source: FromFlag}, nil
	}
	if f.GitLabWrote != "" {
		return ProxyURL{URL: f.GitLabWrote, Source: FromGitLab}, nil
	}
	if f.Env != "" {
		if err := CheckProxyURL(f.Env, FromEnv); err != nil {
			return ProxyURL{}, err
		}
		return ProxyURL{URL: f.Env, Source: FromEnv}, nil
	}
	why := f.Why
	if f.Metadata != MetadataDenied && f.Client != nil {
		md, err := f.Client.Metadata(ctx)
		if err == nil {
			u, err := ProxyURLFromMetadata(md)
			if err != nil {
				return ProxyURL{}, err
			}
			return ProxyURL{URL: u, Source: FromMetadata}, nil
		}
		var apiErr *gitlab.APIError
		if !errors.As(err, &apiErr) || !metadataRefused(apiErr.Status) {
			return ProxyURL{}, err
		}
		why = fmt.Sprintf("GitLab did not let this token read /api/v4/metadata (%d %s)", apiErr.Status, http.StatusText(apiErr.Status))
		if apiErr.Status == http.StatusNotFound {
			why = "this GitLab has no /api/v4/metadata (it came in 15.2)"
		}
	}
	if f.Recorded != "" {
		if err := CheckProxyURL(f.Recorded, FromRecorded); err != nil {
			return ProxyURL{}, err
		}
		return ProxyURL{URL: f.Recorded, Source: FromRecorded}, nil
	}
	if f.Previous != "" {
		return ProxyURL{URL: f.Previous, Source: FromKubeconfig}, nil
	}
	if f.Client == nil {
		return ProxyURL{}, errors.New("internal error: no GitLab URL to find KAS from")
	}
	guess := ProxyURLFromGitLab(f.Client.BaseURL())
	override := f.Override
	if override == "" {
		override = "--kas-url URL"
	}
	note := "the KAS URL " + guess + " is a guess (where Omnibus puts KAS on GitLab's host): " + why + ".\n" +
		"If KAS has a host of its own (the Helm chart's kas.<domain>, GitLab.com's kas.gitlab.com), pass " + override
	return ProxyURL{URL: guess, Source: FromGuess, Note: note}, nil
}

// metadataRefused tells the answers of a GitLab that will not tell this
// token: 401 (a job token, a token it does not know), 403 (a token
// without read_user, read_api or api: insufficient_scope), 404 (before
// 15.2).
func metadataRefused(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound
}

// ProxyURLFromMetadata finds the k8s-proxy URL in GET /api/v4/metadata as
// GitLab itself does (Gitlab::Kas.tunnel_url): kas.externalK8sProxyUrl
// verbatim (GitLab 17.6+), else URI.join(kas.externalUrl, "k8s-proxy")
// with https for wss and grpcs, http otherwise. A plain-http result is
// refused: kubectl sends no credential over it.
func ProxyURLFromMetadata(m *gitlab.Metadata) (string, error) {
	if !m.KAS.Enabled {
		return "", ErrDisabled
	}
	if p := m.KAS.ExternalK8sProxyURL; p != nil && *p != "" {
		return *p, CheckProxyURL(*p, FromMetadata)
	}
	e := m.KAS.ExternalURL
	if e == nil || *e == "" {
		return "", ErrDisabled
	}
	base, err := url.Parse(*e)
	// GitLab's KAS URLs all have a scheme (wss, grpcs, ws, grpc); one
	// without is not resolved against, as "//host/" would be.
	if err != nil || base.Scheme == "" || base.Host == "" {
		return "", &ProxyURLError{Source: FromMetadata, URL: *e, Problem: "kas.externalUrl is not a URL", fix: "pass --kas-url URL (ask the GitLab administrator for KAS's k8s-proxy URL)"}
	}
	// URI.join is RFC 3986 resolution: a base without a trailing slash
	// loses its last segment, query and fragment go.
	u := base.ResolveReference(&url.URL{Path: "k8s-proxy"})
	switch strings.ToLower(base.Scheme) {
	case "wss", "grpcs":
		u.Scheme = "https"
	default:
		u.Scheme = "http"
	}
	return u.String(), CheckProxyURL(u.String(), FromMetadata)
}

// ProxyURLFromGitLab guesses the k8s-proxy URL from the GitLab URL alone:
// GitLab.com's kas.gitlab.com, else where Omnibus puts KAS
// (/-/kubernetes-agent/k8s-proxy/ on GitLab's host, as gitlab_kas.rb in
// omnibus-gitlab writes it).
func ProxyURLFromGitLab(base *url.URL) string {
	if host := strings.ToLower(base.Hostname()); host == "gitlab.com" || host == "www.gitlab.com" {
		return "https://kas.gitlab.com/k8s-proxy"
	}
	u := *base
	u.Scheme = "https"
	u.Path = strings.TrimSuffix(u.Path, "/") + "/-/kubernetes-agent/k8s-proxy/"
	u.RawPath = ""
	return u.String()
}

// CheckProxyURL checks a k8s-proxy URL before it is written: https, a
// host, and no user name, query or fragment (a URL from a server may be
// hostile; kubectl would send the agent token to whatever it names).
func CheckProxyURL(raw string, source ProxyURLSource) error {
	fail := func(problem, fix string) error {
		return &ProxyURLError{Source: source, URL: raw, Problem: problem, fix: fix}
	}
	const example = "the https URL of KAS's k8s-proxy, e.g. https://kas.gitlab.example.com/k8s-proxy or https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/"
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Opaque != "":
		return fail("is not a URL", "give "+example)
	case u.User != nil:
		return fail("carries a user name or password", "give "+example+", without credentials")
	case strings.EqualFold(u.Scheme, "http"):
		return fail("is plain http", PlainHTTPFix+"; or give --kas-url https://…")
	case !strings.EqualFold(u.Scheme, "https"):
		return fail("is not https", "give "+example)
	case u.Host == "" || u.Hostname() == "":
		return fail("has no host", "give "+example)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fail("has a query or fragment", "give "+example)
	}
	return nil
}

// ProxyURLError is a k8s-proxy URL that is not written.
type ProxyURLError struct {
	Source  ProxyURLSource
	URL     string
	Problem string
	fix     string
}

func (e *ProxyURLError) Error() string {
	return fmt.Sprintf("the KAS URL %s from %s %s", shownURL(e.URL), e.Source, e.Problem)
}

// Fix says what to give instead.
func (e *ProxyURLError) Fix() string { return e.fix }

// FromUser tells a URL the user gave (bad input) from one a server gave.
func (e *ProxyURLError) FromUser() bool { return e.Source == FromFlag || e.Source == FromEnv }

// shownURL is a URL for messages, without what may be a credential.
func shownURL(raw string) string { return redact.URL(raw) }
