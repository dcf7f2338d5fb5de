package access

// Pos is where a node starts in the configuration file, 1-based. A zero Pos
// means the node is absent.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// IsZero reports whether p marks an absent node.
func (p Pos) IsZero() bool { return p.Line == 0 }

// Config is the part of an agent configuration file that decides CI/CD
// access. Other top-level keys of the agent configuration (gitops,
// user_access, observability, …) are accepted and ignored.
type Config struct {
	// File is the name the file was read under; diagnostics start with it.
	File string
	// CIAccess is nil when the file has no ci_access key.
	CIAccess *CIAccess
	// Problems are what Parse found wrong while reading the file: syntax
	// errors, wrong value types, unknown keys. GitLab ignores unknown keys, so
	// a Config with problems still describes what GitLab would do, as far as
	// it could be read.
	Problems []Diagnostic
}

// HasErrors reports whether reading the file found an error.
func (c *Config) HasErrors() bool { return countSeverity(c.Problems, SeverityError) > 0 }

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
	// KindProject is an entry of ci_access.projects: one project.
	KindProject EntryKind = "project"
	// KindGroup is an entry of ci_access.groups: every project in the group
	// and its subgroups.
	KindGroup EntryKind = "group"
	// KindInstance is ci_access.instance: every project of the instance.
	KindInstance EntryKind = "instance"
	// KindImplicit is not written in the file: GitLab always authorizes the
	// agent's own configuration project, acting as the agent.
	KindImplicit EntryKind = "implicit"
)

// Entry is one authorization: an item of projects or groups, or instance.
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

	// Positions of the keys, zero when the key is absent.
	IDPos, DefaultNamespacePos, EnvironmentsPos, ProtectedBranchesOnlyPos Pos

	// wrongType names the keys whose value Parse rejected, so that Lint
	// does not report them a second time (for instance as missing).
	wrongType map[string]bool
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

// AccessAs is an entry's access_as.
type AccessAs struct {
	Pos Pos
	// Modes lists every mode key written, in file order. GitLab accepts
	// exactly one; Lint reports none or several.
	Modes []ModeKey
	// Impersonate is set when an impersonate key was written.
	Impersonate *Impersonation
}

// ModeKey is one mode key of access_as and where it was written.
type ModeKey struct {
	Mode AccessMode
	Pos  Pos
}

// Mode is the single mode written, or "" when there is none or more than one.
func (a *AccessAs) Mode() AccessMode {
	if len(a.Modes) != 1 {
		return ""
	}
	return a.Modes[0].Mode
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

	wrongType map[string]bool
}

// ExtraField is one item of impersonate.extra: a Kubernetes user-info extra
// key and its values.
type ExtraField struct {
	Key    string   `json:"key"`
	Values []string `json:"val"`
	Pos    Pos      `json:"-"`
}

// entryMode is the mode an entry acts as: agent when access_as is absent.
func (e *Entry) mode() AccessMode {
	if e.AccessAs == nil {
		return AccessAgent
	}
	return e.AccessAs.Mode()
}
