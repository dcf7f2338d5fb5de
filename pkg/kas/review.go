package kas

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// UserInfo is who the cluster sees: a SelfSubjectReview's status.userInfo.
type UserInfo struct {
	Username string              `json:"username" yaml:"username"`
	UID      string              `json:"uid,omitempty" yaml:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty" yaml:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty" yaml:"extra,omitempty"`
}

// Review is the answer to a SelfSubjectReview.
type Review struct {
	// APIVersion is the authentication.k8s.io version that answered.
	APIVersion string
	UserInfo   UserInfo
}

// SelfSubjectReview asks the cluster who the request is from:
// authentication.k8s.io/v1 (Kubernetes 1.28+), else v1beta1 (1.27).
func (c *Client) SelfSubjectReview(ctx context.Context) (*Review, error) {
	var lastErr error
	for _, v := range []string{"v1", "v1beta1"} {
		apiVersion := "authentication.k8s.io/" + v
		in := map[string]any{"apiVersion": apiVersion, "kind": "SelfSubjectReview", "metadata": map[string]any{}}
		var out struct {
			Status struct {
				UserInfo UserInfo `json:"userInfo"`
			} `json:"status"`
		}
		err := c.Do(ctx, http.MethodPost, "/apis/authentication.k8s.io/"+v+"/selfsubjectreviews", in, &out)
		var e *Error
		if errors.As(err, &e) && e.Reason == ReasonNotFound {
			lastErr = err
			continue
		}
		if err != nil {
			return nil, err
		}
		if out.Status.UserInfo.Username == "" {
			// Every authenticated request has a user: what answered is not
			// the API server (a proxy's or a login page's JSON).
			return nil, &Error{Reason: ReasonServerError, URL: c.Server(), Context: c.cfg.Context,
				Message: "the answer to the SelfSubjectReview (" + apiVersion + ") has no status.userInfo.username: it did not come from the cluster's API server",
				Hint:    "check that the server URL is KAS's k8s-proxy (kubectl gitlab update-kubeconfig writes it), and what answers there (kubectl gitlab doctor)"}
		}
		return &Review{APIVersion: apiVersion, UserInfo: out.Status.UserInfo}, nil
	}
	var e *Error
	if errors.As(lastErr, &e) {
		e.Message = "the cluster serves no SelfSubjectReview (authentication.k8s.io/v1 or v1beta1): " + e.Message
		e.Hint = "SelfSubjectReview needs Kubernetes 1.27 or later (1.26 with the APISelfSubjectReview feature gate)"
	}
	return nil, lastErr
}

// ServerVersion is the cluster's GET /version.
type ServerVersion struct {
	GitVersion string `json:"gitVersion"`
	Platform   string `json:"platform"`
}

// Version asks the cluster behind the agent for its version: an answer
// means KAS accepted the token and the agent is connected.
func (c *Client) Version(ctx context.Context) (*ServerVersion, error) {
	var v ServerVersion
	if err := c.Get(ctx, "/version", &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ResourceRule is one rule of a SelfSubjectRulesReview.
type ResourceRule struct {
	Verbs         []string `json:"verbs"`
	APIGroups     []string `json:"apiGroups,omitempty"`
	Resources     []string `json:"resources,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}

// Rules is what the identity may do in one namespace.
type Rules struct {
	Namespace     string
	ResourceRules []ResourceRule
	Incomplete    bool
}

// SelfSubjectRulesReview asks what the identity may do in namespace.
func (c *Client) SelfSubjectRulesReview(ctx context.Context, namespace string) (*Rules, error) {
	in := map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
		"metadata": map[string]any{}, "spec": map[string]any{"namespace": namespace}}
	var out struct {
		Status struct {
			ResourceRules []ResourceRule `json:"resourceRules"`
			Incomplete    bool           `json:"incomplete"`
		} `json:"status"`
	}
	if err := c.Do(ctx, http.MethodPost, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", in, &out); err != nil {
		return nil, err
	}
	return &Rules{Namespace: namespace, ResourceRules: out.Status.ResourceRules, Incomplete: out.Status.Incomplete}, nil
}

// selfReview tells the resources every authenticated identity may create
// (system:basic-user): rules that grant nothing in a namespace.
func selfReview(resource string) bool {
	switch resource {
	case "selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews":
		return true
	}
	return false
}

// Granted leaves out the rules every authenticated identity has.
func (r *Rules) Granted() []ResourceRule {
	var out []ResourceRule
	for _, rule := range r.ResourceRules {
		var resources []string
		for _, res := range rule.Resources {
			if !selfReview(res) {
				resources = append(resources, res)
			}
		}
		if len(resources) == 0 {
			continue
		}
		rule.Resources = resources
		out = append(out, rule)
	}
	return out
}

// Summary says in one line what the rules grant, e.g.
// "get,list,watch pods; * *".
func Summary(rules []ResourceRule, max int) string {
	var parts []string
	for _, r := range rules {
		res := slices.Sorted(slices.Values(r.Resources))
		parts = append(parts, strings.Join(r.Verbs, ",")+" "+strings.Join(res, ","))
	}
	if max > 0 && len(parts) > max {
		parts = append(parts[:max], "…")
	}
	return strings.Join(parts, "; ")
}
