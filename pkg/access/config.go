package access

// Pos is where a node starts in the configuration file, 1-based. A zero Pos
// means the node is absent.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// IsZero reports whether p marks an absent node.
func (p Pos) IsZero() bool { return p.Line == 0 }

// Config is an agent configuration file as KAS and GitLab read it: the
// access sections as a model, and every problem found on the way.
type Config struct {
	// File is the name the file was read under; diagnostics start with it.
	File string
	// CIAccess is nil when the file has no ci_access key.
	CIAccess *CIAccess
	// UserAccess is nil when the file has no user_access key.
	UserAccess *UserAccess
	// Problems are what Parse found while reading the file: syntax errors,
	// and everything that makes KAS reject the file (wrong value types,
	// unknown keys, broken validation rules), each with its line. The model
	// holds what could be read.
	Problems []Diagnostic

	// newer are the fields of GitLab releases after 16.5 that the file
	// sets; Lint and Explain compare them with the GitLab version.
	newer []newerField
}

// HasErrors reports whether reading the file found an error.
func (c *Config) HasErrors() bool { return countSeverity(c.Problems, SeverityError) > 0 }

// Rejected reports whether KAS rejects the file: it then keeps the
// previous configuration, and nothing in this one takes effect.
func (c *Config) Rejected() bool {
	for _, d := range c.Problems {
		if d.Rejects {
			return true
		}
	}
	return false
}

// CIAccess is the ci_access section.
type CIAccess struct {
	Pos      Pos
	Projects []Entry
	Groups   []Entry
	// Instance is nil when ci_access has no instance key.
	Instance *Entry
	// ProjectsPos and GroupsPos are the positions of the projects and groups
	// keys, zero when absent.
	ProjectsPos, GroupsPos Pos
}

// EntryKind tells what an authorization entry covers.
type EntryKind string

const (
	// KindProject is an entry of projects: one project.
	KindProject EntryKind = "project"
	// KindGroup is an entry of groups: every project in the group and its
	// subgroups.
	KindGroup EntryKind = "group"
	// KindInstance is ci_access.instance: every project of the instance.
	KindInstance EntryKind = "instance"
	// KindImplicit is not written in the file: GitLab always authorizes the
	// agent's own configuration project, acting as the agent.
	KindImplicit EntryKind = "implicit"
)

// Entry is one authorization of ci_access: an item of projects or groups,
// or instance.
type Entry struct {
	Kind EntryKind
	// Index is the entry's place in its list (0-based); 0 for instance.
	Index int
	// Pos is where the entry's mapping starts.
	Pos Pos
	// ID is the full path of the project or group, as written; empty for
	// instance.
	ID string
	// DefaultNamespace becomes the namespace of the job's kubeconfig context.
	DefaultNamespace string
	// Environments restricts the entry to jobs whose environment name matches
	// one of the patterns; empty means no restriction.
	Environments []EnvironmentPattern
	// ProtectedBranchesOnly restricts the entry to jobs on protected branches.
	ProtectedBranchesOnly bool
	// AccessAs is nil when the entry has no access_as: the job then acts as
	// the agent.
	AccessAs *AccessAs
	// ResourceManagement is resource_management.enabled: GitLab-managed
	// Kubernetes resources for the environments of jobs that use the entry.
	ResourceManagement bool

	// Positions of the keys, zero when the key is absent.
	IDPos, DefaultNamespacePos, EnvironmentsPos, ProtectedBranchesOnlyPos Pos
}

// EnvironmentPattern is one item of environments: an environment name, in
// which `*` matches any run of characters.
type EnvironmentPattern struct {
	Pattern string
	Pos     Pos
}

// AccessMode is the identity a job or user acts as in the cluster: the
// access_as of ci_access and user_access, and what an identity seen through
// an agent tells of it.
type AccessMode string

const (
	// AccessAgent: the agent's own service account (the default).
	AccessAgent AccessMode = "agent"
	// AccessCIJob: KAS impersonates `gitlab:ci_job:<job id>` with groups
	// derived from the job's project, groups and environment.
	AccessCIJob AccessMode = "ci_job"
	// AccessImpersonate: KAS impersonates a fixed identity.
	AccessImpersonate AccessMode = "impersonate"
	// AccessUser: user_access only; KAS impersonates `gitlab:user:<username>`
	// with groups for the user's roles.
	AccessUser AccessMode = "user"
)

// AccessAs is an access_as of ci_access or user_access.
type AccessAs struct {
	Pos Pos
	// Mode is the identity named, or "" when there is none (KAS then
	// rejects the file).
	Mode AccessMode
	// ModePos is where the mode key is written.
	ModePos Pos
	// Impersonate is set for the impersonate mode.
	Impersonate *Impersonation
}

// Impersonation is access_as.impersonate: a static Kubernetes identity.
type Impersonation struct {
	Pos         Pos
	Username    string
	UsernamePos Pos
	UID         string
	Groups      []string
	GroupsPos   []Pos
	Extra       []ExtraField
}

// ExtraField is one item of impersonate.extra: a Kubernetes user-info extra
// key and its values.
type ExtraField struct {
	Key    string   `json:"key"`
	Values []string `json:"val"`
	Pos    Pos      `json:"-"`
}

// mode is the mode an entry acts as: agent when access_as is absent.
func (e *Entry) mode() AccessMode {
	if e.AccessAs == nil {
		return AccessAgent
	}
	return e.AccessAs.Mode
}

// UserAccess is the user_access section: which GitLab users may use the
// agent from outside CI (a personal access token, the Kubernetes
// dashboard), and as whom.
type UserAccess struct {
	Pos Pos
	// AccessAs is nil when user_access has no access_as.
	AccessAs *AccessAs
	Projects []UserEntry
	Groups   []UserEntry
	// ProjectsPos and GroupsPos are the positions of the keys, zero when
	// absent.
	ProjectsPos, GroupsPos Pos
}

// UserEntry is an item of user_access.projects or user_access.groups.
type UserEntry struct {
	Kind  EntryKind
	Index int
	Pos   Pos
	ID    string
	IDPos Pos
}
