package cmd

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/hostile"
)

// The hostile server answers each path as GitLab or KAS would, on every
// listener: a client that follows a redirect gets a plausible success.
const (
	hostilePAT     = "glpat-hostileSecret"
	stolenRotation = "glpat-rotatedAtTheAttacker"
	patSelfPath    = "/api/v4/personal_access_tokens/self"
	rotatePath     = "/api/v4/personal_access_tokens/self/rotate"
	reviewPath     = "/k8s-proxy/apis/authentication.k8s.io/v1/selfsubjectreviews"
)

var (
	redirectStatuses = []int{301, 302, 303, 307, 308}
	otherOrigins     = []hostile.Listener{hostile.OtherHost, hostile.OriginHTTP, hostile.OtherPort}
)

func patSelfJSON(scopes string, expires string) string {
	return fmt.Sprintf(`{"id":9,"name":"laptop","revoked":false,"active":true,"scopes":[%s],"expires_at":%q}`, scopes, expires)
}

// withHostile makes the harness trust the hostile server's CA for GitLab.
func (h *harness) withHostile(s *hostile.Server) *harness {
	h.transport = s.Transport()
	h.secrets = append(h.secrets, hostilePAT, stolenRotation)
	return h
}

// onlyOriginSaw fails when a listener other than the origin saw a request.
func onlyOriginSaw(t *testing.T, s *hostile.Server) {
	t.Helper()
	for _, r := range s.Requests() {
		if r.Listener != hostile.Origin {
			t.Errorf("%s saw %s %s (token sent: %v)", r.Listener, r.Method, r.Path, r.Carries(hostilePAT) || r.Carries(jobToken))
		}
	}
}

// TestLoginFollowsNoRedirectElsewhere: a GitLab URL that redirects the
// token check to another host, to http or to another port gets no token
// there, and login fails instead of keeping the token under the
// redirecting URL.
func TestLoginFollowsNoRedirectElsewhere(t *testing.T) {
	s := hostile.Start(t)
	s.Answer("GET", "/landed"+patSelfPath, 200, patSelfJSON(`"k8s_proxy"`, "2027-01-31"))
	for _, status := range redirectStatuses {
		for _, to := range otherOrigins {
			t.Run(fmt.Sprintf("%d to %s", status, to), func(t *testing.T) {
				s.Reset()
				s.Redirect("GET", patSelfPath, status, to, "/landed"+patSelfPath)
				h := newHarness(t).withHostile(s)
				r := h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", s.URL, "--token-stdin")
				r.expectErr(t, ExitFailed, fmt.Sprintf("%d %s, a redirect to %s/landed", status, http.StatusText(status), s.URLs[to]), "not followed", "use the URL of the server itself")
				onlyOriginSaw(t, s)
				if len(h.keyring.items) != 0 {
					t.Errorf("login kept a token")
				}
			})
		}
	}
}

// TestLoginFollowsRedirectsWithinGitLab: a redirect on GitLab's own
// origin (a path moved behind a relative URL root) is followed, with the
// token, as curl, gh and net/http do.
func TestLoginFollowsRedirectsWithinGitLab(t *testing.T) {
	s := hostile.Start(t)
	s.Redirect("GET", patSelfPath, http.StatusMovedPermanently, hostile.Origin, "/gitlab"+patSelfPath)
	s.Answer("GET", "/gitlab"+patSelfPath, 200, patSelfJSON(`"k8s_proxy"`, "2027-01-31"))
	h := newHarness(t).withHostile(s)
	h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", s.URL, "--token-stdin").expect(t, 0, "Logged in to "+s.URL)
	saw := s.Saw(hostile.Origin)
	if len(saw) != 2 || !saw[1].Carries(hostilePAT) || saw[1].Path != "/gitlab"+patSelfPath {
		t.Errorf("the redirect within the origin was not followed with the token: %+v", saw)
	}
	onlyOriginSaw(t, s)
}

// TestRotationFollowsNoRedirect: get-token's rotation (POST …/rotate)
// neither sends the token elsewhere nor lets a redirect turn it into a
// GET; the stored token stays, and is used.
func TestRotationFollowsNoRedirect(t *testing.T) {
	s := hostile.Start(t)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	s.Answer("GET", patSelfPath, 200, patSelfJSON(`"k8s_proxy","self_rotate"`, tomorrow))
	rotated := `{"id":10,"name":"laptop","active":true,"scopes":["k8s_proxy","self_rotate"],"expires_at":"2027-06-01","token":"` + stolenRotation + `"}`
	for _, method := range []string{"GET", "POST"} {
		s.Answer(method, "/landed"+rotatePath, 200, rotated)
	}
	targets := append([]hostile.Listener{hostile.Origin}, otherOrigins...)
	for _, status := range redirectStatuses {
		for _, to := range targets {
			if to == hostile.Origin && (status == 307 || status == 308) {
				continue // keeps the POST on GitLab's origin: followed, as it should be
			}
			t.Run(fmt.Sprintf("%d to %s", status, to), func(t *testing.T) {
				h := newHarness(t).withHostile(s)
				h.now = time.Now()
				h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", s.URL, "--token-stdin").expect(t, 0)
				s.Reset()
				s.Redirect("POST", rotatePath, status, to, "/landed"+rotatePath)
				r := h.run("get-token", "--agent-id", "1234")
				r.expect(t, 0, "pat:1234:"+hostilePAT)
				if !strings.Contains(r.stderr, "could not renew") || !strings.Contains(r.stderr, "not followed") {
					t.Errorf("no warning that names the redirect:\n%s", r.stderr)
				}
				onlyOriginSaw(t, s)
				for _, r := range s.Requests() {
					if r.Path == "/landed"+rotatePath {
						t.Errorf("the redirect was followed: %s %s", r.Method, r.Path)
					}
				}
				if r := h.run("get-token", "--agent-id", "1234"); strings.Contains(r.stdout, stolenRotation) {
					t.Errorf("the rotated token from the redirect's target was kept")
				}
			})
		}
	}
}

// hostileKASKubeconfig is a job kubeconfig whose cluster is the hostile
// server's origin, its CA embedded: the client trusts every listener.
func hostileKASKubeconfig(h *harness, s *hostile.Server) string {
	h.t.Helper()
	path := h.kubeconfig("job-agents.yaml", s.URL+"/k8s-proxy")
	text := strings.Replace(mustRead(h.t, path), "    server: ", "    certificate-authority-data: "+base64.StdEncoding.EncodeToString(s.CAPEM)+"\n    server: ", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		h.t.Fatal(err)
	}
	h.env["KUBECONFIG"] = path
	h.run("use-context", "group/agents:prod").expect(h.t, 0)
	return path
}

// TestWhoamiFollowsNoRedirect: KAS's SelfSubjectReview (a POST) that a
// server redirects elsewhere, or turns into a GET, fails: the bearer token
// goes nowhere else, and an empty identity is not taken for an answer.
func TestWhoamiFollowsNoRedirect(t *testing.T) {
	s := hostile.Start(t)
	s.Answer("GET", "/landed", 200, `{}`)
	s.Answer("POST", "/landed", 201, `{"kind":"SelfSubjectReview","status":{"userInfo":{"username":"attacker"}}}`)
	for _, status := range redirectStatuses {
		for _, to := range append([]hostile.Listener{hostile.Origin}, otherOrigins...) {
			if to == hostile.Origin && (status == 307 || status == 308) {
				continue
			}
			t.Run(fmt.Sprintf("%d to %s", status, to), func(t *testing.T) {
				h := newHarness(t)
				hostileKASKubeconfig(h, s)
				s.Reset()
				s.Redirect("POST", reviewPath, status, to, "/landed")
				r := h.run("whoami")
				r.expectErr(t, ExitFailed, fmt.Sprintf("%d %s, a redirect to %s/landed", status, http.StatusText(status), s.URLs[to]), "not followed")
				if strings.Contains(r.stdout, "attacker") {
					t.Errorf("the identity came from the redirect's target:\n%s", r.stdout)
				}
				onlyOriginSaw(t, s)
			})
		}
	}
}

// TestWhoamiRefusesAnEmptyIdentity: an answer without a user name is not
// a SelfSubjectReview (a proxy's page, a redirect's target).
func TestWhoamiRefusesAnEmptyIdentity(t *testing.T) {
	s := hostile.Start(t)
	s.Answer("POST", reviewPath, 201, `{}`)
	h := newHarness(t)
	hostileKASKubeconfig(h, s)
	h.run("whoami").expectErr(t, ExitFailed, "no status.userInfo.username")
}

// TestDoctorFollowsNoRedirect: doctor's probe and token check stop at a
// redirect that leaves KAS's origin, and say so.
func TestDoctorFollowsNoRedirect(t *testing.T) {
	s := hostile.Start(t)
	s.Redirect("GET", "/k8s-proxy/version", http.StatusFound, hostile.OriginHTTP, "/k8s-proxy/version")
	s.Answer("GET", "/k8s-proxy/version", 200, `{"gitVersion":"v1.30.0"}`)
	h := newHarness(t)
	hostileKASKubeconfig(h, s)
	r := h.run("doctor")
	r.expect(t, ExitFailed, "KAS reachable", "a redirect to "+s.URLs[hostile.OriginHTTP]+"/k8s-proxy/version (from https to http): not followed")
	onlyOriginSaw(t, s)
}

// TestPlainHTTPGitLab: no token goes to an http:// GitLab, unless it is on
// this machine and the user opted in with KUBECTL_GITLAB_INSECURE_HTTP=1,
// and then with a word.
func TestPlainHTTPGitLab(t *testing.T) {
	s := hostile.Start(t)
	s.Answer("GET", patSelfPath, 200, patSelfJSON(`"k8s_proxy"`, "2027-01-31"))
	s.Answer("GET", "/api/v4/job/allowed_agents", 200, `{"allowed_agents":[]}`)
	plain := s.URLs[hostile.OriginHTTP]

	h := newHarness(t).withHostile(s)
	h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", plain, "--token-stdin").
		expectErr(t, ExitBadInput, plain+" is plain http", "clear text", "KUBECTL_GITLAB_INSECURE_HTTP=1")
	h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", "http://gitlab.example.com", "--token-stdin").
		expectErr(t, ExitBadInput, "http://gitlab.example.com is plain http")
	h.env["CI_JOB_TOKEN"] = jobToken
	h.env["CI_API_V4_URL"] = plain + "/api/v4"
	h.env["KUBECONFIG"] = filepath.Join(h.dir, "job-config")
	h.run("update-kubeconfig").expectErr(t, ExitBadInput, "plain http")
	if saw := s.Requests(); len(saw) != 0 {
		t.Fatalf("requests went out over plain http: %+v", saw)
	}

	h.env["KUBECTL_GITLAB_INSECURE_HTTP"] = "1"
	h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", "http://gitlab.example.com", "--token-stdin").
		expectErr(t, ExitBadInput, "http://gitlab.example.com is plain http")
	r := h.runWithStdin(hostilePAT+"\n", "login", "--gitlab-url", plain, "--token-stdin")
	r.expect(t, 0, "Logged in to "+plain)
	if !strings.Contains(r.stderr, "warning: KUBECTL_GITLAB_INSECURE_HTTP=1") {
		t.Errorf("no word about the clear text:\n%s", r.stderr)
	}
	if saw := s.Saw(hostile.OriginHTTP); len(saw) != 1 || !saw[0].Carries(hostilePAT) {
		t.Errorf("the opt-in did not let login through: %+v", saw)
	}
}
