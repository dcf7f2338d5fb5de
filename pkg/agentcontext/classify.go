package agentcontext

import (
	"path/filepath"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// Auth says how an agent context authenticates.
type Auth string

const (
	AuthCIToken  Auth = "ci-token"  // token: ci:<id>:<job token>, as GitLab writes it
	AuthPATToken Auth = "pat-token" // token: pat:<id>:<personal access token>
	AuthExec     Auth = "exec"      // exec entry running kubectl-gitlab get-token
	AuthOther    Auth = "other"     // not an agent context
)

// Info describes a context for listing and choosing. It holds no secret.
type Info struct {
	Name      string
	Agent     bool // reached through a GitLab agent
	AgentID   int64
	Auth      Auth
	Namespace string
	Cluster   string
	User      string
	// Server is the cluster's URL redacted (internal/redact): a URL with
	// user:token@ or a private_token query holds a secret. To connect or
	// to copy it, read the cluster itself (kubeconfig.Set.Cluster).
	Server string
	CA     string // embedded, file, insecure, system
	File   string // where the context is defined
	// GitLabURL is the instance an exec entry's get-token names
	// (--gitlab-url, written on workstations), as written: compare it
	// with SameGitLab; "" otherwise.
	GitLabURL string
}

// AgentOf tells whether a user authenticates to KAS as an agent, and as
// which. A ci:/pat: token or an exec entry that runs kubectl-gitlab
// get-token counts; a client certificate (gitlab-deploy) or any other token
// does not.
func AgentOf(u kubeconfig.User) (id int64, auth Auth, ok bool) {
	if u.Exec != nil {
		if id, ok := execAgentID(u.Exec); ok {
			return id, AuthExec, true
		}
		return 0, AuthOther, false
	}
	if u.Token != "" {
		t, err := credential.ParseToken(u.Token)
		if err != nil {
			return 0, AuthOther, false
		}
		if t.Kind == credential.KindPAT {
			return t.AgentID, AuthPATToken, true
		}
		return t.AgentID, AuthCIToken, true
	}
	return 0, AuthOther, false
}

// GetTokenArgs recognizes an exec command that runs this plugin's
// get-token ("kubectl-gitlab get-token …" or "kubectl gitlab get-token …")
// and returns its arguments from "get-token" on. ExecUser writes the first
// form.
func GetTokenArgs(command string, args []string) ([]string, bool) {
	switch strings.TrimSuffix(filepath.Base(command), ".exe") {
	case PluginCommand:
	case "kubectl":
		if len(args) == 0 || args[0] != "gitlab" {
			return nil, false
		}
		args = args[1:]
	default:
		return nil, false
	}
	if len(args) == 0 || args[0] != "get-token" {
		return nil, false
	}
	return args, true
}

// execAgentID reads --agent-id from an exec entry that runs get-token.
func execAgentID(e *kubeconfig.Exec) (int64, bool) {
	args, ok := GetTokenArgs(e.Command, e.Args)
	if !ok {
		return 0, false
	}
	for _, v := range flagValues(args, "--agent-id") {
		if id, err := credential.ParseAgentID(v); err == nil {
			return id, true
		}
	}
	return 0, false
}

// execGitLabURL reads --gitlab-url from an exec entry that runs
// get-token; "" when it has none. It is not parsed here: Describe runs
// for every context of kubeconfigs with thousands.
func execGitLabURL(e *kubeconfig.Exec) string {
	args, _ := GetTokenArgs(e.Command, e.Args)
	if v := flagValues(args, "--gitlab-url"); len(v) > 0 {
		return v[len(v)-1] // the last one counts, as for any flag
	}
	return ""
}

// SameGitLab reports whether a --gitlab-url names the instance whose
// canonical URL is canonical.
func SameGitLab(gitlabURL, canonical string) bool {
	u, err := gitlab.NormalizeURL(gitlabURL)
	return err == nil && u == canonical
}

// flagValues are the values of a flag given as "--name value" or
// "--name=value".
func flagValues(args []string, name string) []string {
	var out []string
	for i, a := range args {
		switch {
		case a == name && i+1 < len(args):
			out = append(out, args[i+1])
		case strings.HasPrefix(a, name+"="):
			out = append(out, strings.TrimPrefix(a, name+"="))
		}
	}
	return out
}

// All describes every context of the kubeconfig, sorted by name.
func All(set *kubeconfig.Set) []Info {
	var out []Info
	for _, name := range set.ContextNames() {
		out = append(out, Describe(set, name))
	}
	return out
}

// Agents describes the agent contexts, sorted by name.
func Agents(set *kubeconfig.Set) []Info {
	var out []Info
	for _, name := range set.ContextNames() {
		if info := Describe(set, name); info.Agent {
			out = append(out, info)
		}
	}
	return out
}

// Describe tells what a context is.
func Describe(set *kubeconfig.Set, name string) Info {
	ctx, file, _ := set.Context(name)
	info := Info{Name: name, Namespace: ctx.Namespace, Cluster: ctx.Cluster, User: ctx.User, File: file, Auth: AuthOther}
	if u, _, ok := set.User(ctx.User); ok {
		info.AgentID, info.Auth, info.Agent = AgentOf(u)
		if info.Auth == AuthExec {
			info.GitLabURL = execGitLabURL(u.Exec)
		}
	}
	if c, _, ok := set.Cluster(ctx.Cluster); ok {
		info.Server = redact.URL(c.Server)
		switch {
		case c.CertificateAuthorityData != "":
			info.CA = "embedded"
		case c.CertificateAuthority != "":
			info.CA = "file"
		case c.InsecureSkipTLSVerify:
			info.CA = "insecure"
		default:
			info.CA = "system"
		}
	}
	return info
}

// OfAgent finds the first agent context (by name) that authenticates as
// agentID: GitLab's own context for it in a job's kubeconfig.
func OfAgent(set *kubeconfig.Set, agentID int64) (Info, bool) {
	for _, c := range Agents(set) {
		if c.AgentID == agentID {
			return c, true
		}
	}
	return Info{}, false
}

// Where names the kubeconfig files for messages: --kubeconfig, else
// $KUBECONFIG, else the default file.
func Where(set *kubeconfig.Set) string {
	switch {
	case set.Paths.Explicit != "":
		return set.Paths.Explicit
	case set.Paths.Env != "":
		return "$KUBECONFIG (" + set.Paths.Env + ")"
	}
	return set.Files[0].Path
}
