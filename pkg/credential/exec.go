package credential

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The ExecCredential API versions kubectl speaks.
const (
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
)

// ExecInfo is what kubectl tells an exec plugin in KUBERNETES_EXEC_INFO.
type ExecInfo struct {
	APIVersion  string
	Interactive bool
	// Server is spec.cluster.server, present when the kubeconfig sets
	// provideClusterInfo: true.
	Server string
}

// ExecInfoError is a KUBERNETES_EXEC_INFO that cannot be used.
type ExecInfoError struct{ Msg string }

func (e *ExecInfoError) Error() string { return "KUBERNETES_EXEC_INFO: " + e.Msg }

// ParseExecInfo decodes KUBERNETES_EXEC_INFO. Empty means the plugin runs
// outside kubectl (by hand); it answers in v1 then.
func ParseExecInfo(env string) (ExecInfo, error) {
	if strings.TrimSpace(env) == "" {
		return ExecInfo{APIVersion: V1}, nil
	}
	var in struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Interactive bool `json:"interactive"`
			Cluster     *struct {
				Server string `json:"server"`
			} `json:"cluster"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(env), &in); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return ExecInfo{}, &ExecInfoError{Msg: fmt.Sprintf("not valid JSON (at byte %d)", syntax.Offset)}
		}
		return ExecInfo{}, &ExecInfoError{Msg: "not an ExecCredential: " + err.Error()}
	}
	if in.Kind != "" && in.Kind != "ExecCredential" {
		return ExecInfo{}, &ExecInfoError{Msg: fmt.Sprintf("kind is %q, want ExecCredential", in.Kind)}
	}
	switch in.APIVersion {
	case V1, V1beta1:
	case "":
		return ExecInfo{}, &ExecInfoError{Msg: "has no apiVersion"}
	default:
		return ExecInfo{}, &ExecInfoError{Msg: fmt.Sprintf("apiVersion %q is not supported; this plugin speaks %s and %s: set exec.apiVersion in the kubeconfig to one of them", in.APIVersion, V1, V1beta1)}
	}
	info := ExecInfo{APIVersion: in.APIVersion, Interactive: in.Spec.Interactive}
	if in.Spec.Cluster != nil {
		info.Server = in.Spec.Cluster.Server
	}
	return info, nil
}

// Credential is what get-token hands kubectl.
type Credential struct {
	Token string
	// Expires is when the token stops working; zero when unknown.
	Expires time.Time
}

// ExecCredential renders the reply in the apiVersion kubectl asked for.
func (c Credential) ExecCredential(apiVersion string) ([]byte, error) {
	type status struct {
		ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
		Token               string `json:"token"`
	}
	out := struct {
		Kind       string   `json:"kind"`
		APIVersion string   `json:"apiVersion"`
		Spec       struct{} `json:"spec"`
		Status     status   `json:"status"`
	}{Kind: "ExecCredential", APIVersion: apiVersion, Status: status{Token: c.Token}}
	if !c.Expires.IsZero() {
		out.Status.ExpirationTimestamp = c.Expires.UTC().Format(time.RFC3339)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
