package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// manyAgents is a project with n agents, agent-000 … in GitLab's (name)
// order, IDs from 1000.
func manyAgents(n int) []testkas.Agent {
	agents := make([]testkas.Agent, n)
	for i := range agents {
		agents[i] = testkas.Agent{ID: int64(1000 + i), Name: fmt.Sprintf("agent-%03d", i), ConfigProjectID: 77, ConfigProjectPath: "group/agents"}
	}
	return agents
}

// TestProjectAgentsFollowsPages: 250 agents are three pages of 100 at
// testkas, which pages as GitLab does; every one comes back, in order.
func TestProjectAgentsFollowsPages(t *testing.T) {
	for _, n := range []int{1, 45, 100, 101, 250} {
		kas := testkas.Start(t, testkas.Config{Agents: manyAgents(n),
			PATs: []testkas.PAT{{Token: "glpat-user", ID: 9, Scopes: []string{"read_api"}}}})
		c, _ := newTestClient(t, kas, PrivateToken("glpat-user"))
		agents, err := c.ProjectAgents(context.Background(), "group/agents")
		if err != nil {
			t.Fatal(err)
		}
		if len(agents) != n {
			t.Fatalf("%d agents: got %d", n, len(agents))
		}
		for i, a := range agents {
			if a.ID != int64(1000+i) {
				t.Fatalf("%d agents: agent %d is %d", n, i, a.ID)
			}
		}
		if want := max(1, (n+99)/100); len(kas.Requests()) != want {
			t.Errorf("%d agents: %d requests, want %d", n, len(kas.Requests()), want)
		}
	}
}

// pagingServer is a loopback server that answers every page with one item and
// the headers headers(page) gives.
func pagingServer(t *testing.T, headers func(page int) map[string]string) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page = %q", r.URL.Query().Get("per_page"))
		}
		for k, v := range headers(page) {
			w.Header().Set(k, v)
		}
		fmt.Fprintf(w, `[{"id":%d,"name":"a%d"}]`, page, page)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func pagingClient(t *testing.T, srv *httptest.Server) *Client {
	c, err := NewClient(srv.URL, PrivateToken("glpat-user"), srv.Client().Transport, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListAllAgainstHostileServers(t *testing.T) {
	t.Run("never ends", func(t *testing.T) {
		srv, hits := pagingServer(t, func(p int) map[string]string { return map[string]string{"X-Next-Page": strconv.Itoa(p + 1)} })
		_, err := pagingClient(t, srv).ProjectAgents(context.Background(), "g/p")
		var pe *PaginationError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "still sending pages after 100") {
			t.Fatalf("error = %v", err)
		}
		if hits.Load() != maxPages {
			t.Errorf("%d requests, want %d", hits.Load(), maxPages)
		}
	})
	t.Run("next page goes back", func(t *testing.T) {
		srv, hits := pagingServer(t, func(p int) map[string]string { return map[string]string{"X-Next-Page": "1"} })
		_, err := pagingClient(t, srv).ProjectAgents(context.Background(), "g/p")
		if err == nil || !strings.Contains(err.Error(), `next page "1" does not come after page 1`) || hits.Load() != 1 {
			t.Fatalf("error = %v after %d requests", err, hits.Load())
		}
	})
	t.Run("Link to another origin", func(t *testing.T) {
		other, otherHits := pagingServer(t, func(int) map[string]string { return nil })
		srv, _ := pagingServer(t, func(p int) map[string]string {
			return map[string]string{"Link": "<" + other.URL + `/api/v4/projects/g%2Fp/cluster_agents?page=2>; rel="next"`}
		})
		_, err := pagingClient(t, srv).ProjectAgents(context.Background(), "g/p")
		if err == nil || !strings.Contains(err.Error(), "Link to another origin") {
			t.Fatalf("error = %v", err)
		}
		if otherHits.Load() != 0 {
			t.Errorf("the other origin was asked")
		}
	})
	t.Run("Link on the same origin, no X-Next-Page", func(t *testing.T) {
		var srv *httptest.Server
		srv, hits := pagingServer(t, func(p int) map[string]string {
			if p == 3 {
				return map[string]string{"Link": "<" + srv.URL + `/api/v4/x?page=1>; rel="first"`}
			}
			return map[string]string{"Link": "<" + srv.URL + fmt.Sprintf(`/api/v4/x?page=%d>; rel="next", <%s/api/v4/x?page=1>; rel="first"`, p+1, srv.URL)}
		})
		agents, err := pagingClient(t, srv).ProjectAgents(context.Background(), "g/p")
		if err != nil || len(agents) != 3 || hits.Load() != 3 {
			t.Fatalf("agents %v, %v after %d requests", agents, err, hits.Load())
		}
	})
	t.Run("X-Total-Pages is not trusted", func(t *testing.T) {
		srv, _ := pagingServer(t, func(p int) map[string]string {
			next := ""
			if p < 4 {
				next = strconv.Itoa(p + 1)
			}
			return map[string]string{"X-Next-Page": next, "X-Total-Pages": "1", "X-Total": "1"}
		})
		agents, err := pagingClient(t, srv).ProjectAgents(context.Background(), "g/p")
		if err != nil || len(agents) != 4 {
			t.Fatalf("agents %v, %v", agents, err)
		}
	})
}
