package kas

import (
	"errors"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

func ptr(s string) *string { return &s }

func TestProxyURLFromMetadata(t *testing.T) {
	cases := []struct {
		name       string
		enabled    bool
		ext, proxy *string
		want       string
		err        error
	}{
		{"17.6+", true, ptr("wss://gitlab.example.com/-/kubernetes-agent/"), ptr("https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/"), "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", nil},
		{"17.6+ without slash", true, nil, ptr("https://kas.example.com/k8s-proxy"), "https://kas.example.com/k8s-proxy/", nil},
		{"legacy wss", true, ptr("wss://gitlab.example.com/-/kubernetes-agent/"), nil, "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", nil},
		{"legacy grpcs own host", true, ptr("grpcs://kas.example.com"), nil, "https://kas.example.com/k8s-proxy/", nil},
		{"gitlab.com", true, ptr("wss://kas.gitlab.com"), ptr("https://kas.gitlab.com/k8s-proxy/"), "https://kas.gitlab.com/k8s-proxy/", nil},
		{"disabled", false, nil, nil, "", ErrDisabled},
		{"enabled but no URL", true, nil, nil, "", ErrDisabled},
	}
	for _, c := range cases {
		var m gitlab.Metadata
		m.KAS.Enabled, m.KAS.ExternalURL, m.KAS.ExternalK8sProxyURL = c.enabled, c.ext, c.proxy
		got, err := ProxyURLFromMetadata(&m)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestProxyURLFromGitLab(t *testing.T) {
	cases := map[string]string{
		"https://gitlab.com":                 "https://kas.gitlab.com/k8s-proxy/",
		"https://gitlab.com/api/v4":          "https://kas.gitlab.com/k8s-proxy/",
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
