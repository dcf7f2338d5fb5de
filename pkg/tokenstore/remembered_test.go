package tokenstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPerInstanceFiles: the OAuth application and KAS's URL are kept per
// canonical GitLab URL, one instance's value never touching another's; a
// file written before (version first) reads the same; a broken one is
// refused with a fix, and nothing is overwritten.
func TestPerInstanceFiles(t *testing.T) {
	dir := t.TempDir()
	old := `{"version": 1, "applications": {"https://gitlab.example.com": {"client_id": "app-1"}}}`
	os.WriteFile(filepath.Join(dir, OAuthAppsFileName), []byte(old), 0o600)
	apps := NewOAuthApps(dir)
	if id, err := apps.ClientID("https://GitLab.example.com/"); err != nil || id != "app-1" {
		t.Fatalf("ClientID = %q, %v", id, err)
	}
	if err := apps.Remember("https://other.example", "app-2"); err != nil {
		t.Fatal(err)
	}
	if id, _ := apps.ClientID("https://gitlab.example.com"); id != "app-1" {
		t.Errorf("another instance's application changed it: %q", id)
	}

	urls := NewKASURLs(dir)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if got, err := urls.Get("https://gitlab.example.com"); err != nil || got.URL != "" {
		t.Fatalf("Get before Record = %+v, %v", got, err)
	}
	urls.Record("https://gitlab.example.com", "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", now)
	urls.Record("https://gitlab.example.com", "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", now.Add(time.Hour))
	urls.Record("https://other.example", "https://kas.other.example/k8s-proxy", now)
	got, err := urls.Get("https://gitlab.example.com/")
	if err != nil || got.URL != "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/" || !got.RecordedAt.Equal(now) {
		t.Errorf("Get = %+v, %v: want the first recording kept", got, err)
	}

	os.WriteFile(urls.Where(), []byte(`{"version":1,"instances":[]}`), 0o600)
	if _, err := urls.Get("https://gitlab.example.com"); err == nil || !strings.Contains(err.Error(), "not the JSON that kubectl-gitlab writes") {
		t.Errorf("Get of a broken file = %v", err)
	}
	if err := urls.Record("https://gitlab.example.com", "https://x.example/k8s-proxy", now); err == nil {
		t.Errorf("Record over a broken file succeeded")
	}
	if data, _ := os.ReadFile(urls.Where()); string(data) != `{"version":1,"instances":[]}` {
		t.Errorf("the broken file was overwritten: %s", data)
	}
}
