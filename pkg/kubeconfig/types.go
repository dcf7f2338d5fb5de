package kubeconfig

import (
	"fmt"
	"strings"
)

// Config is the part of one kubeconfig file that the plugin reads. It is
// decoded by walking the YAML tree, not through client-go, because the
// plugin's start-up time matters and edits need the tree anyway.
type Config struct {
	CurrentContext string
	Clusters       []NamedCluster
	Users          []NamedUser
	Contexts       []NamedContext
	// Misread are the values kubectl reads otherwise than as written.
	Misread []Misread
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

// Misread is an unquoted value that kubectl takes for a number or a
// boolean where a string belongs (client-go reads YAML 1.1 into JSON, then
// into its types): kubectl then refuses the whole file, although this
// plugin reads the value as the text it is. Ruby's YAML, which writes a
// CI job's kubeconfig, leaves 1e3 and 0o17 unquoted (namespaces that
// Kubernetes allows).
type Misread struct {
	File string
	Line int
	// Field is the key (namespace, server, name, exec.args[]); Kind and
	// Name the entry it is in (context, "group/agents:prod"; Name is ""
	// for the name itself), both "" at the top of the file.
	Field, Kind, Name string
	Value             string
	// As is what kubectl reads: "a number" or "true or false".
	As string
}

// field names the field for people: the namespace of context "x", the
// name of a context, current-context.
func (m Misread) field() string {
	switch {
	case m.Kind == "":
		return m.Field
	case m.Name == "":
		return m.Field + " of a " + m.Kind
	}
	return fmt.Sprintf("%s of %s %q", m.Field, m.Kind, m.Name)
}

func (m Misread) String() string {
	what := "the " + m.field()
	if m.Kind == "" {
		what = m.field()
	}
	return fmt.Sprintf("%s:%d: %s, %s, is unquoted: kubectl reads it as %s and refuses the whole file", m.File, m.Line, what, m.Value, m.As)
}
