package kas

import (
	"net/url"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// FuzzProxyURLFromMetadata: whatever GitLab's metadata says, a URL that
// comes out is one kubectl may get an agent token for: https, a host, no
// user name, query or fragment; a refused one never shows a password.
func FuzzProxyURLFromMetadata(f *testing.F) {
	for _, s := range [][2]string{
		{"wss://gitlab.example.com/-/kubernetes-agent/", ""}, {"grpcs://kas.example.com:8150", ""}, {"ws://kas", ""},
		{"", "https://kas.example.com/k8s-proxy/"}, {"", "https://u:hunter2@kas/k8s-proxy"}, {"wss://u:hunter2@kas/", ""},
		{"", "https://kas/?a#b"}, {"::", ""}, {"", "https:///x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, external, proxy string) {
		var m gitlab.Metadata
		m.KAS.Enabled = true
		if external != "" {
			m.KAS.ExternalURL = &external
		}
		if proxy != "" {
			m.KAS.ExternalK8sProxyURL = &proxy
		}
		got, err := ProxyURLFromMetadata(&m)
		if err != nil {
			// (Only with the other URL absent: it may be shown, escaped.)
			for _, in := range [][2]string{{external, proxy}, {proxy, external}} {
				if in[1] != "" {
					continue
				}
				// internal/redact decides what may hold a credential.
				if shown := redact.URL(in[0]); !strings.Contains(shown, in[0]) && strings.Contains(err.Error(), in[0]) {
					t.Fatalf("the error shows the URL unredacted: %v", err)
				}
				// A password that is also the host, say, may show.
				if u, perr := url.Parse(in[0]); perr == nil {
					password, ok := u.User.Password()
					rest := *u
					rest.User = nil
					if ok && len(password) >= 4 && !strings.Contains(rest.String(), password) && strings.Contains(err.Error(), password) {
						t.Fatalf("the error shows a password: %v", err)
					}
				}
			}
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			t.Fatalf("%q, %q gave %q", external, proxy, got)
		}
	})
}
