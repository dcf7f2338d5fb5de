package testapiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testapiserver"
)

const namespace = "ci-apps"

// ciJobIdentity is what KAS sends for a CI job under `access_as: {ci_job: {}}`
// (the example of GitLab's docs: job 4242 of project 150 in groups 23 and 25,
// environment prod of tier production, through agent 1234).
var ciJobIdentity = struct {
	user   string
	groups []string
	extra  map[string]string
}{
	user: "gitlab:ci_job:4242",
	groups: []string{
		"gitlab:ci_job",
		"gitlab:group:23", "gitlab:group_env_tier:23:production",
		"gitlab:group:25", "gitlab:group_env_tier:25:production",
		"gitlab:project:150", "gitlab:project_env:150:prod", "gitlab:project_env_tier:150:production",
	},
	extra: map[string]string{
		"agent.gitlab.com/id":                "1234",
		"agent.gitlab.com/config_project_id": "77",
		"agent.gitlab.com/project_id":        "150",
		"agent.gitlab.com/ci_pipeline_id":    "77",
		"agent.gitlab.com/ci_job_id":         "4242",
		"agent.gitlab.com/username":          "alice",
		"agent.gitlab.com/environment_slug":  "prod",
		"agent.gitlab.com/environment_tier":  "production",
	},
}

// TestBinaries alone builds the binaries; CI can run it first with a long
// -timeout so that a cold build does not eat into other packages' timeouts.
func TestBinaries(t *testing.T) {
	apiserver, etcd := testapiserver.Binaries(t)
	for _, path := range []string{apiserver, etcd} {
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
	}
}

func TestServer(t *testing.T) {
	s := testapiserver.Start(t)
	admin := s.Client("e2e-admin", testapiserver.AdminGroup)

	// The CI job may only read pods, and only in its namespace.
	call(t, admin, nil, s.URL, "POST", "/api/v1/namespaces",
		`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+namespace+`"}}`, http.StatusCreated)
	call(t, admin, nil, s.URL, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+namespace+"/roles", `{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": {"name": "pod-reader"},
		"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}`, http.StatusCreated)
	call(t, admin, nil, s.URL, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+namespace+"/rolebindings", `{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": {"name": "ci-jobs-read-pods"},
		"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
		"subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "gitlab:ci_job"}]}`, http.StatusCreated)
	s.WaitForAccess(t, testapiserver.Access{User: ciJobIdentity.user, Groups: []string{"gitlab:ci_job"}, Verb: "list", Resource: "pods", Namespace: namespace})

	t.Run("impersonated CI job", func(t *testing.T) {
		// The headers that KAS adds on behalf of a CI job, as on the wire.
		headers := http.Header{}
		headers.Set("Impersonate-User", ciJobIdentity.user)
		for _, g := range ciJobIdentity.groups {
			headers.Add("Impersonate-Group", g)
		}
		for key, value := range ciJobIdentity.extra {
			// Extra keys are percent-encoded: "/" may not appear in a header name.
			headers.Add("Impersonate-Extra-"+strings.ReplaceAll(key, "/", "%2F"), value)
		}

		call(t, admin, headers, s.URL, "GET", "/api/v1/namespaces/"+namespace+"/pods", "", http.StatusOK)
		call(t, admin, headers, s.URL, "GET", "/api/v1/pods", "", http.StatusForbidden)
		call(t, admin, headers, s.URL, "POST", "/api/v1/namespaces/"+namespace+"/configmaps",
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"not-allowed"}}`, http.StatusForbidden)

		body := call(t, admin, headers, s.URL, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
			`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`, http.StatusCreated)
		var review struct {
			Status struct {
				UserInfo struct {
					Username string              `json:"username"`
					Groups   []string            `json:"groups"`
					Extra    map[string][]string `json:"extra"`
				} `json:"userInfo"`
			} `json:"status"`
		}
		if err := json.Unmarshal(body, &review); err != nil {
			t.Fatalf("decoding SelfSubjectReview: %v\n%s", err, body)
		}
		got := review.Status.UserInfo
		if got.Username != ciJobIdentity.user {
			t.Errorf("username = %q, want %q", got.Username, ciJobIdentity.user)
		}
		// kube-apiserver adds system:authenticated to impersonated users.
		wantGroups := append(slices.Clone(ciJobIdentity.groups), "system:authenticated")
		if !slices.Equal(got.Groups, wantGroups) {
			t.Errorf("groups = %q, want %q", got.Groups, wantGroups)
		}
		if len(got.Extra) != len(ciJobIdentity.extra) {
			t.Errorf("extra = %q, want %q", got.Extra, ciJobIdentity.extra)
		}
		for key, want := range ciJobIdentity.extra {
			if values := got.Extra[key]; !slices.Equal(values, []string{want}) {
				t.Errorf("extra[%q] = %q, want [%q]", key, values, want)
			}
		}
	})

	t.Run("client certificate for any identity", func(t *testing.T) {
		ciJob := s.Client(ciJobIdentity.user, "gitlab:ci_job")
		call(t, ciJob, nil, s.URL, "GET", "/api/v1/namespaces/"+namespace+"/pods", "", http.StatusOK)
		call(t, ciJob, nil, s.URL, "GET", "/api/v1/namespaces/default/pods", "", http.StatusForbidden)
		call(t, ciJob, nil, s.URL, "GET", "/api/v1/namespaces/"+namespace+"/secrets", "", http.StatusForbidden)
	})

	t.Run("kubectl", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Fatalf("the end-to-end tests need kubectl on PATH: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, "get", "ns", "-o", "name")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+s.AdminKubeconfig(t))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get ns: %v\n%s", err, out)
		}
		for _, want := range []string{"namespace/default", "namespace/" + namespace} {
			if !strings.Contains(string(out), want) {
				t.Errorf("kubectl get ns printed no %s:\n%s", want, out)
			}
		}
	})
}

// call sends one request and fails the test unless it gets wantStatus.
func call(t *testing.T, client *http.Client, headers http.Header, server, method, path, body string, wantStatus int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, server+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for key, values := range headers {
		req.Header[key] = values
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, resp.StatusCode, wantStatus, bytes.TrimSpace(respBody))
	}
	return respBody
}
