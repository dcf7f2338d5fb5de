package kubeconfig

import "strings"

// Config is the part of one kubeconfig file that the plugin reads. It is
// decoded by walking the YAML tree, not through client-go, because the
// plugin's start-up time matters and edits need the tree anyway.
type Config struct {
	CurrentContext string
	Clusters       []NamedCluster
	Users          []NamedUser
	Contexts       []NamedContext
}

// NamedCluster is a clusters[] entry.
type NamedCluster struct {
	Name    string
	Cluster Cluster
	Line    int
}

// Cluster is how to reach an API server (here: KAS's k8s-proxy).
type Cluster struct {
	Server                   string
	CertificateAuthority     string
	CertificateAuthorityData string
	InsecureSkipTLSVerify    bool
	TLSServerName            string
	ProxyURL                 string
}

// NamedUser is a users[] entry.
type NamedUser struct {
	Name string
	User User
	Line int
}

// User is how to authenticate. Token and ClientKeyData hold secrets: never
// print them.
type User struct {
	Token             string
	TokenFile         string
	ClientCertificate bool // client-certificate or client-certificate-data is set
	Exec              *Exec
	AuthProvider      bool
	Username          string

	// Client certificate and key as files or base64 data (gitlab-deploy).
	ClientCertificateFile string
	ClientCertificateData string
	ClientKeyFile         string
	ClientKeyData         string
	// Client impersonation (as, as-uid, as-groups, as-user-extra), which KAS
	// refuses when it impersonates itself.
	As          string
	AsUID       string
	AsGroups    []string
	AsUserExtra map[string][]string
}

// Exec is an exec credential plugin entry.
type Exec struct {
	APIVersion         string
	Command            string
	Args               []string
	Env                []EnvVar
	InstallHint        string
	InteractiveMode    string
	ProvideClusterInfo bool
}

// EnvVar is one exec.env entry.
type EnvVar struct{ Name, Value string }

// NamedContext is a contexts[] entry.
type NamedContext struct {
	Name    string
	Context Context
	Line    int
}

// Context ties a cluster, a user and a namespace together.
type Context struct {
	Cluster   string
	User      string
	Namespace string
}

// SameServer tells two cluster server URLs that kubectl uses alike: it
// joins request paths onto either, with or without a trailing slash.
func SameServer(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}
