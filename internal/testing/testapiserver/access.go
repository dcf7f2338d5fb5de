package testapiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// accessTimeout bounds the wait for new RBAC objects to take effect.
const accessTimeout = 30 * time.Second

// Access is one request whose authorization a test waits for.
type Access struct {
	User      string
	Groups    []string
	Verb      string
	APIGroup  string // "" is the core group
	Resource  string
	Namespace string // "" for cluster-wide
}

func (a Access) String() string {
	where := "cluster-wide"
	if a.Namespace != "" {
		where = "in namespace " + a.Namespace
	}
	return fmt.Sprintf("%s %s.%s %s for user %q in groups %q", a.Verb, a.Resource, a.APIGroup, where, a.User, a.Groups)
}

// WaitForAccess returns once the API server allows every access. The RBAC
// authorizer reads Roles and bindings through informers, so an object that
// was just created takes effect a moment later; a test that checks right
// away is flaky. It asks with SubjectAccessReviews, which go through the
// same authorizer as the requests themselves.
func (s *Server) WaitForAccess(t testing.TB, accesses ...Access) {
	t.Helper()
	deadline := time.Now().Add(accessTimeout)
	for _, a := range accesses {
		for {
			allowed, err := s.allowed(a)
			if err != nil {
				t.Fatalf("testapiserver: asking whether %s is allowed: %v", a, err)
			}
			if allowed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testapiserver: %s still not allowed after %v", a, accessTimeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (s *Server) allowed(a Access) (bool, error) {
	review := map[string]any{
		"apiVersion": "authorization.k8s.io/v1",
		"kind":       "SubjectAccessReview",
		"spec": map[string]any{
			"user":   a.User,
			"groups": a.Groups,
			"resourceAttributes": map[string]string{
				"verb": a.Verb, "group": a.APIGroup, "resource": a.Resource, "namespace": a.Namespace,
			},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return false, err
	}
	resp, err := s.admin.Post(s.URL+"/apis/authorization.k8s.io/v1/subjectaccessreviews", "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusCreated {
		return false, fmt.Errorf("status %d: %s", resp.StatusCode, reply)
	}
	var result struct {
		Status struct {
			Allowed bool `json:"allowed"`
		} `json:"status"`
	}
	if err := json.Unmarshal(reply, &result); err != nil {
		return false, fmt.Errorf("decoding the review: %v: %s", err, reply)
	}
	return result.Status.Allowed, nil
}
