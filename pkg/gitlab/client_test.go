package gitlab

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const token = "glcbt-64_clientTestJobToken"

func newTestClient(t *testing.T, kas *testkas.Server, auth Auth) (*Client, *[]time.Duration) {
	t.Helper()
	c, err := NewClient(kas.URL+"/api/v4/", auth, kas.Client().Transport, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return c, &waits
}

func testServer(t *testing.T) *testkas.Server {
	return testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", DefaultNamespace: "apps"}},
		Jobs:   []testkas.Job{{Token: token, ID: 4242, ProjectID: 150, AllowedAgents: []int64{1234}}},
		PATs:   []testkas.PAT{{Token: "glpat-user", ID: 9, Scopes: []string{"k8s_proxy", "read_api"}, Agents: []int64{1234}}},
	})
}

func TestAllowedAgentsRetriesThenSucceeds(t *testing.T) {
	kas := testServer(t)
	c, waits := newTestClient(t, kas, JobToken(token))
	kas.Fail("/api/v4/job/allowed_agents", 503, 503)
	got, err := c.AllowedAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Agents) != 1 || got.Agents[0].ID != 1234 || got.Agents[0].ConfigProject.PathWithNamespace != "group/agents" || got.Agents[0].Configuration.DefaultNamespace != "apps" {
		t.Errorf("agents = %+v", got.Agents)
	}
	if len(*waits) != 2 {
		t.Errorf("waited %v, want two backoffs", *waits)
	}
	reqs := kas.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.JobToken != token || !strings.HasPrefix(r.UserAgent, "kubectl-gitlab/") {
			t.Errorf("request headers: %+v", r)
		}
	}
}

func TestRetriesAreBounded(t *testing.T) {
	kas := testServer(t)
	c, waits := newTestClient(t, kas, JobToken(token))
	kas.Fail("/api/v4/job/allowed_agents", 503, 502, 500, 429, 503)
	_, err := c.AllowedAgents(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 {
		t.Fatalf("error = %v", err)
	}
	if len(kas.Requests()) != 4 || len(*waits) != 3 {
		t.Errorf("%d requests, %d waits; want 4 and 3", len(kas.Requests()), len(*waits))
	}
}

func TestUnauthorizedIsNotRetriedAndHidesToken(t *testing.T) {
	kas := testServer(t)
	c, _ := newTestClient(t, kas, JobToken("glcbt-64_wrongToken"))
	_, err := c.AllowedAgents(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Fatalf("error = %v", err)
	}
	want := "GET /api/v4/job/allowed_agents: 401 Unauthorized: 401 Unauthorized"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if len(kas.Requests()) != 1 {
		t.Errorf("a 401 was retried")
	}
}

func TestConnectionErrorsAreRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := NewClient("https://"+addr, JobToken(token), nil, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	tries := 0
	c.Sleep = func(context.Context, time.Duration) error { tries++; return nil }
	_, err = c.Metadata(context.Background())
	var netErr *NetworkError
	if !errors.As(err, &netErr) || tries != 3 || strings.Contains(err.Error(), token) {
		t.Errorf("error = %v after %d retries", err, tries)
	}
}

func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	kas := testServer(t)
	c, err := NewClient(kas.URL, JobToken(token), http.DefaultTransport, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	tries := 0
	c.Sleep = func(context.Context, time.Duration) error { tries++; return nil }
	_, err = c.Metadata(context.Background())
	if err == nil || !strings.Contains(err.Error(), "x509") || tries != 0 {
		t.Errorf("error = %v after %d retries", err, tries)
	}
}

func TestProjectAgentsAndPAT(t *testing.T) {
	kas := testServer(t)
	c, _ := newTestClient(t, kas, PrivateToken("glpat-user"))
	agents, err := c.ProjectAgents(context.Background(), "group/agents")
	if err != nil || len(agents) != 1 || agents[0].Name != "prod" || agents[0].ID != 1234 {
		t.Fatalf("agents = %+v, %v", agents, err)
	}
	pat, err := c.PersonalAccessTokenSelf(context.Background())
	if err != nil || pat.ID != 9 || !pat.Active || len(pat.Scopes) != 2 {
		t.Fatalf("pat = %+v, %v", pat, err)
	}
	md, err := c.Metadata(context.Background())
	if err != nil || !md.KAS.Enabled || md.KAS.ExternalK8sProxyURL == nil || *md.KAS.ExternalK8sProxyURL != kas.K8sProxyURL {
		t.Fatalf("metadata = %+v, %v", md, err)
	}
	if _, err := c.ProjectAgents(context.Background(), "group/none"); err == nil || !strings.Contains(err.Error(), "/projects/group%2Fnone/cluster_agents: 404") {
		t.Errorf("error = %v", err)
	}
}
