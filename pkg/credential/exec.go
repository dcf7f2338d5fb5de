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

// ExecInfo is KUBERNETES_EXEC_INFO: what kubectl tells an exec plugin.
type ExecInfo struct {
	APIVersion  string
	Interactive bool
	// Cluster is spec.cluster, present when the kubeconfig's exec entry
	// sets provideClusterInfo: true.
	Cluster *ExecCluster
}

// ExecCluster is the cluster kubectl describes to an exec plugin, with the
// field names of client-go's clientauthentication.Cluster.
type ExecCluster struct {
	Server                   string `json:"server"`
	TLSServerName            string `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string `json:"proxy-url,omitempty"`
}

// execInfoJSON is KUBERNETES_EXEC_INFO on the wire.
type execInfoJSON struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		Cluster     *ExecCluster `json:"cluster,omitempty"`
		Interactive bool         `json:"interactive"`
	} `json:"spec"`
}

// ExecInfoError is a KUBERNETES_EXEC_INFO that cannot be used.
type ExecInfoError struct{ Msg string }

func (e *ExecInfoError) Error() string { return "KUBERNETES_EXEC_INFO: " + e.Msg }

// Marshal renders KUBERNETES_EXEC_INFO as kubectl sets it.
func (i ExecInfo) Marshal() (string, error) {
	var in execInfoJSON
	in.Kind, in.APIVersion = "ExecCredential", i.APIVersion
	in.Spec.Cluster, in.Spec.Interactive = i.Cluster, i.Interactive
	data, err := json.Marshal(in)
	return string(data), err
}

// ParseExecInfo decodes KUBERNETES_EXEC_INFO. Empty means the plugin runs
// outside kubectl (by hand); it answers in v1 then.
func ParseExecInfo(env string) (ExecInfo, error) {
	if strings.TrimSpace(env) == "" {
		return ExecInfo{APIVersion: V1}, nil
	}
	var in execInfoJSON
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
	switch {
	case in.APIVersion == "":
		return ExecInfo{}, &ExecInfoError{Msg: "has no apiVersion"}
	case !Supported(in.APIVersion):
		return ExecInfo{}, &ExecInfoError{Msg: fmt.Sprintf("apiVersion %q is not supported; this plugin speaks %s and %s: set exec.apiVersion in the kubeconfig to one of them", in.APIVersion, V1, V1beta1)}
	}
	return ExecInfo{APIVersion: in.APIVersion, Interactive: in.Spec.Interactive, Cluster: in.Spec.Cluster}, nil
}

// Supported tells the ExecCredential API versions kubectl and this plugin
// speak.
func Supported(apiVersion string) bool { return apiVersion == V1 || apiVersion == V1beta1 }

// Credential is an ExecCredential's status: what a plugin hands kubectl.
// Token and ClientKeyData are secrets.
type Credential struct {
	Token string
	// ClientCertificateData and ClientKeyData are PEM, when the plugin
	// gives a client certificate (get-token never does).
	ClientCertificateData string
	ClientKeyData         string
	// Expires is when the credential stops working; zero when unknown.
	Expires time.Time
}

// AgentToken parses the token as a KAS agent token (ci:/pat:), if it is one.
func (c Credential) AgentToken() (Token, bool) {
	t, err := ParseToken(c.Token)
	return t, err == nil
}

// execCredentialJSON is an ExecCredential on the wire, as kubectl reads it.
type execCredentialJSON struct {
	Kind       string      `json:"kind"`
	APIVersion string      `json:"apiVersion"`
	Spec       struct{}    `json:"spec"`
	Status     *execStatus `json:"status"`
}

type execStatus struct {
	ExpirationTimestamp   *time.Time `json:"expirationTimestamp,omitempty"`
	Token                 string     `json:"token,omitempty"`
	ClientCertificateData string     `json:"clientCertificateData,omitempty"`
	ClientKeyData         string     `json:"clientKeyData,omitempty"`
}

// ExecCredential renders the reply in the apiVersion kubectl asked for.
func (c Credential) ExecCredential(apiVersion string) ([]byte, error) {
	out := execCredentialJSON{Kind: "ExecCredential", APIVersion: apiVersion,
		Status: &execStatus{Token: c.Token, ClientCertificateData: c.ClientCertificateData, ClientKeyData: c.ClientKeyData}}
	if !c.Expires.IsZero() {
		exp := c.Expires.UTC().Truncate(time.Second)
		out.Status.ExpirationTimestamp = &exp
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ExecCredentialError is a plugin's answer that kubectl would refuse. Its
// message says what is wrong and never quotes the answer, which holds the
// credential.
type ExecCredentialError struct{ Msg string }

func (e *ExecCredentialError) Error() string { return e.Msg }

// ParseExecCredential reads a plugin's answer to a request in apiVersion,
// as kubectl checks it.
func ParseExecCredential(data []byte, apiVersion string) (Credential, error) {
	var got execCredentialJSON
	fail := func(format string, args ...any) (Credential, error) {
		return Credential{}, &ExecCredentialError{Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case json.Unmarshal(data, &got) != nil:
		return fail("printed something that is not an ExecCredential (not JSON)")
	case got.Kind != "ExecCredential":
		return fail("printed kind %q, not ExecCredential", got.Kind)
	case got.APIVersion != apiVersion:
		return fail("answered in apiVersion %q, not the %q the kubeconfig asks for", got.APIVersion, apiVersion)
	case got.Status == nil:
		return fail("printed an ExecCredential without status")
	}
	c := Credential{Token: got.Status.Token, ClientCertificateData: got.Status.ClientCertificateData, ClientKeyData: got.Status.ClientKeyData}
	if got.Status.ExpirationTimestamp != nil {
		c.Expires = *got.Status.ExpirationTimestamp
	}
	if c.Token == "" && c.ClientCertificateData == "" && c.ClientKeyData == "" {
		return fail("printed an ExecCredential with neither a token nor a client certificate")
	}
	return c, nil
}
