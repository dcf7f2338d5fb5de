package kas

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

func ptr(s string) *string { return &s }

// TestProxyURLFromMetadata: GitLab's own derivation, the cases of
// gitlabhq/gitlabhq spec/lib/gitlab/kas_spec.rb (.tunnel_url) and RFC
// 3986's URI.join; a plain-http or hostile URL is refused.
func TestProxyURLFromMetadata(t *testing.T) {
	cases := []struct {
		name       string
		enabled    bool
		ext, proxy *string
		want       string
		err        string
	}{
		{"17.6+, Omnibus", true, ptr("wss://gitlab.example.com/-/kubernetes-agent/"), ptr("https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/"), "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", ""},
		{"17.6+, verbatim without slash", true, nil, ptr("https://kas.example.com/k8s-proxy"), "https://kas.example.com/k8s-proxy", ""},
		{"legacy wss with slash", true, ptr("wss://gitlab.example.com/-/kubernetes-agent/"), nil, "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy", ""},
		{"legacy wss without slash: URI.join replaces the last segment", true, ptr("wss://gitlab.example.com/-/kubernetes-agent"), nil, "https://gitlab.example.com/-/k8s-proxy", ""},
		{"legacy wss own host", true, ptr("wss://kas.gitlab.example.com"), nil, "https://kas.gitlab.example.com/k8s-proxy", ""},
		{"legacy grpcs own host, port kept, query dropped", true, ptr("grpcs://kas.example.com:8150?x=1"), nil, "https://kas.example.com:8150/k8s-proxy", ""},
		{"legacy ws is http", true, ptr("ws://kas.gitlab.example.com"), nil, "", "the KAS URL http://kas.gitlab.example.com/k8s-proxy from GitLab's /api/v4/metadata is plain http"},
		{"legacy grpc is http", true, ptr("grpc://kas.gitlab.example.com"), nil, "", "is plain http"},
		{"gitlab.com", true, ptr("wss://kas.gitlab.com"), ptr("https://kas.gitlab.com/k8s-proxy/"), "https://kas.gitlab.com/k8s-proxy/", ""},
		{"proxy URL plain http", true, nil, ptr("http://kas.example.com/k8s-proxy/"), "", "is plain http"},
		{"proxy URL with a password", true, nil, ptr("https://user:hunter2@kas.example.com/k8s-proxy/"), "", "carries a user name or password"},
		{"proxy URL with a query", true, nil, ptr("https://kas.example.com/k8s-proxy/?x=1"), "", "has a query or fragment"},
		{"proxy URL with a fragment", true, nil, ptr("https://kas.example.com/k8s-proxy/#x"), "", "has a query or fragment"},
		{"proxy URL without host", true, nil, ptr("https:///k8s-proxy/"), "", "has no host"},
		{"proxy URL of another scheme", true, nil, ptr("file:///etc/passwd"), "", "is not https"},
		{"externalUrl not a URL", true, ptr("::"), nil, "", "kas.externalUrl is not a URL"},
		{"externalUrl without a scheme", true, ptr("//kas.example.com/"), nil, "", "kas.externalUrl is not a URL"},
		{"disabled", false, nil, nil, "", "disabled"},
		{"enabled but no URL", true, nil, nil, "", "disabled"},
	}
	for _, c := range cases {
		var m gitlab.Metadata
		m.KAS.Enabled, m.KAS.ExternalURL, m.KAS.ExternalK8sProxyURL = c.enabled, c.ext, c.proxy
		got, err := ProxyURLFromMetadata(&m)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %q, %v; want an error with %q", c.name, got, err, c.err)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the password is in the message: %v", c.name, err)
		}
		var ue *ProxyURLError
		if errors.As(err, &ue) && ue.FromUser() {
			t.Errorf("%s: GitLab's URL counted as the user's", c.name)
		}
	}
}

func TestProxyURLFromGitLab(t *testing.T) {
	cases := map[string]string{
		"https://gitlab.com":                 "https://kas.gitlab.com/k8s-proxy",
		"https://gitlab.com/api/v4":          "https://kas.gitlab.com/k8s-proxy",
		"https://gitlab.example.com":         "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/",
		"https://gitlab.example.com:8443/":   "https://gitlab.example.com:8443/-/kubernetes-agent/k8s-proxy/",
		"https://example.com/gitlab/api/v4/": "https://example.com/gitlab/-/kubernetes-agent/k8s-proxy/",
	}
	for in, want := range cases {
		base, err := gitlab.ParseBaseURL(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := ProxyURLFromGitLab(base); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestFindProxyURL: which source wins, against testkas's GitLab (KAS on
// its own host, so that a guess on GitLab's host is wrong), and which
// asks /metadata at all.
func TestFindProxyURL(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{KASOwnHost: true, Metadata: testkas.MetadataLegacy, PATs: []testkas.PAT{
		{Token: "glpat-read", ID: 1, Scopes: []string{"read_api", "k8s_proxy"}},
		{Token: "glpat-proxy", ID: 2, Scopes: []string{"k8s_proxy"}},
	}})
	client := func(token string) *gitlab.Client {
		c, err := gitlab.NewClient(kas.URL, gitlab.PrivateToken(token), kas.Client().Transport, httpsafe.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	guess := strings.TrimSuffix(kas.URL, "/") + "/-/kubernetes-agent/k8s-proxy/"
	const other = "https://kas.other.example/k8s-proxy"
	cases := []struct {
		name     string
		find     FindProxyURL
		want     string
		source   ProxyURLSource
		asked    bool   // /metadata was asked
		note     string // in the note
		err      string
		userFail bool
	}{
		{name: "flag", find: FindProxyURL{Flag: other, Client: client("glpat-read"), Metadata: MetadataAllowed}, want: other, source: FromFlag},
		{name: "flag as GitLab wrote it", find: FindProxyURL{Flag: kas.K8sProxyURL + "/", GitLabWrote: kas.K8sProxyURL}, want: kas.K8sProxyURL + "/", source: FromFlag},
		{name: "flag against GitLab's", find: FindProxyURL{Flag: other, GitLabWrote: kas.K8sProxyURL}, err: "differs from the server GitLab wrote", userFail: true},
		{name: "flag plain http", find: FindProxyURL{Flag: "http://kas.example/k8s-proxy"}, err: "from --kas-url is plain http", userFail: true},
		{name: "GitLab's, over the environment", find: FindProxyURL{GitLabWrote: kas.K8sProxyURL, Env: other, Client: client("glpat-read"), Metadata: MetadataAllowed}, want: kas.K8sProxyURL, source: FromGitLab},
		{name: "environment", find: FindProxyURL{Env: other, Client: client("glpat-read"), Metadata: MetadataAllowed}, want: other, source: FromEnv},
		{name: "environment with a query", find: FindProxyURL{Env: other + "?a=b"}, err: "from $K8S_PROXY_URL has a query", userFail: true},
		{name: "metadata", find: FindProxyURL{Client: client("glpat-read"), Metadata: MetadataAllowed, Previous: other}, want: kas.K8sProxyURL, source: FromMetadata, asked: true},
		{name: "metadata, scopes unknown", find: FindProxyURL{Client: client("glpat-read"), Metadata: MetadataUnknown}, want: kas.K8sProxyURL, source: FromMetadata, asked: true},
		{name: "k8s_proxy-only, scopes known", find: FindProxyURL{Client: client("glpat-proxy"), Metadata: MetadataDenied, Why: "the scopes say no", Override: "--kas-url URL"},
			want: guess, source: FromGuess, note: "is a guess (where Omnibus puts KAS on GitLab's host): the scopes say no.\nIf KAS has a host of its own"},
		{name: "k8s_proxy-only, scopes unknown", find: FindProxyURL{Client: client("glpat-proxy"), Metadata: MetadataUnknown},
			want: guess, source: FromGuess, asked: true, note: "GitLab did not let this token read /api/v4/metadata (403 Forbidden).\nIf KAS has a host of its own (the Helm chart's kas.<domain>, GitLab.com's kas.gitlab.com), pass --kas-url URL"},
		{name: "k8s_proxy-only, the kubeconfig's", find: FindProxyURL{Client: client("glpat-proxy"), Metadata: MetadataUnknown, Previous: other}, want: other, source: FromKubeconfig, asked: true},
		{name: "unknown token", find: FindProxyURL{Client: client("glpat-unknown"), Metadata: MetadataUnknown}, want: guess, source: FromGuess, asked: true, note: "(401 Unauthorized)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kas.Reset()
			got, err := c.find.Find(context.Background())
			if c.err != "" {
				var ue *ProxyURLError
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &ue) || ue.FromUser() != c.userFail {
					t.Fatalf("%+v, %v; want an error with %q", got, err, c.err)
				}
				return
			}
			if err != nil || got.URL != c.want || got.Source != c.source {
				t.Fatalf("%+v, %v; want %s from %s", got, err, c.want, c.source)
			}
			if (got.Note != "") != (c.source == FromGuess) || !strings.Contains(got.Note, c.note) {
				t.Errorf("note %q, want one with %q", got.Note, c.note)
			}
			asked := false
			for _, r := range kas.Requests() {
				asked = asked || r.Path == "/api/v4/metadata"
			}
			if asked != c.asked {
				t.Errorf("asked /metadata: %v, want %v", asked, c.asked)
			}
		})
	}
}
