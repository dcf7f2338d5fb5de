package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ExplainOptions describes the CI job, or with User the GitLab user, to
// explain. For a job only Project is required; the IDs only make the
// impersonated identity exact.
type ExplainOptions struct {
	// GitLabVersion is the GitLab (and KAS) release; zero is NewestVersion.
	GitLabVersion Version
	// Tier is the GitLab tier. On Free, GitLab drops the ci_access entries
	// that use ci_job or impersonate before it picks the most specific one,
	// and refuses user_access with access_as user. Unknown is taken as
	// Premium, with a note where it matters.
	Tier Tier

	// User switches to user_access: the GitLab username of someone who uses
	// the agent with a personal access token (or the dashboard).
	User string
	// Role is the user's role in every project and group user_access lists
	// (guest, planner, reporter, developer, maintainer, owner).
	Role string
	// Memberships are the user's roles by project or group path; a group's
	// role also holds for the groups and projects under it.
	Memberships []Membership
	// IDs are project and group IDs by path, for the impersonated groups of
	// user_access.
	IDs map[string]int64

	// AgentProject is the full path of the project that holds the agent
	// configuration. GitLab always authorizes that project itself, and
	// ignores entries outside its top-level group unless instance-level
	// authorization is on.
	AgentProject string
	// Project is the full path of the job's project.
	Project string
	// Groups adds group paths the project belongs to; the ancestors in
	// Project's path are always included unless UserNamespace is set.
	Groups []string
	// UserNamespace says Project's top-level namespace is a user, not a
	// group, so its path shows no groups.
	UserNamespace bool
	// Environment is the name of the job's environment; "" for none.
	Environment string
	// EnvironmentSlug overrides the slug derived from Environment.
	EnvironmentSlug string
	// EnvironmentTier is the environment's tier (production, staging, …).
	EnvironmentTier string
	// ProtectedBranch says the job runs on a protected branch (or tag).
	ProtectedBranch bool
	// InstanceLevelAuthorization says an administrator enabled
	// instance-level authorization. It is assumed when the configuration has
	// ci_access.instance, which does nothing otherwise.
	InstanceLevelAuthorization bool

	// IDs for the impersonated identity; zero is unknown.
	ProjectID int64
	// GroupIDs are the IDs of the groups (see Groups), outermost first.
	GroupIDs       []int64
	JobID          int64
	PipelineID     int64
	AgentID        int64
	AgentProjectID int64
	// Username is the GitLab user the job runs as.
	Username string
}

// Denial says why a job does not get the agent.
type Denial string

const (
	// DeniedNotAuthorized: no entry names the project, its groups, or the
	// instance.
	DeniedNotAuthorized Denial = "not-authorized"
	// DeniedEnvironment: the applicable entry lists environments and the
	// job's is not among them (or it has none).
	DeniedEnvironment Denial = "environment-not-matched"
	// DeniedUnprotectedBranch: the applicable entry has
	// protected_branches_only and the job's branch is not protected.
	DeniedUnprotectedBranch Denial = "unprotected-branch"
	// DeniedConfigRejected: KAS rejects the file, so it grants nothing; the
	// agent keeps its previous configuration.
	DeniedConfigRejected Denial = "config-rejected"
	// DeniedNoUserAccess: the file has no user_access.
	DeniedNoUserAccess Denial = "no-user-access"
	// DeniedNoAccessAs: user_access has no access_as, which GitLab before
	// 18.3 refuses.
	DeniedNoAccessAs Denial = "no-access-as"
	// DeniedNeedsPremium: user_access acts as the user, a Premium feature,
	// on GitLab Free.
	DeniedNeedsPremium Denial = "needs-premium"
	// DeniedNotMember: the user is not a Developer or higher in any project
	// or group that user_access lists.
	DeniedNotMember Denial = "not-a-member"
)

// Candidate statuses.
const (
	StatusApplies    = "applies"
	StatusSuperseded = "superseded"
	StatusIgnored    = "ignored"
)

// Candidate is an entry that names the job's project, one of its groups, or
// the instance.
type Candidate struct {
	Kind   EntryKind `json:"kind"`
	ID     string    `json:"id,omitempty"`
	Index  int       `json:"index"`
	Line   int       `json:"line,omitempty"`
	Column int       `json:"column,omitempty"`
	// Status is applies (the most specific usable entry: GitLab uses only
	// this one), superseded (a less specific entry), or ignored (GitLab
	// drops it).
	Status string `json:"status"`
	// Why says what the entry matches and, unless it applies, why it does
	// not count.
	Why   string `json:"why"`
	entry *Entry
}

// Label names the entry as in the file: `projects[1] example/app`.
func (c Candidate) Label() string {
	switch c.Kind {
	case KindInstance:
		return "instance"
	case KindImplicit:
		return "implicit authorization of " + c.ID
	}
	return fmt.Sprintf("%ss[%d] %s", c.Kind, c.Index, c.ID)
}

func (c Candidate) at(file string) string {
	if c.Line == 0 {
		return "not in the file"
	}
	return fmt.Sprintf("%s:%d:%d", file, c.Line, c.Column)
}

// Explanation is what GitLab makes of one CI job and one agent
// configuration.
type Explanation struct {
	File          string `json:"file"`
	GitLabVersion string `json:"gitlabVersion"`
	Tier          Tier   `json:"tier,omitempty"`
	// User is set when this explains user_access for a user; the job
	// fields are then empty.
	User string `json:"user,omitempty"`
	// Memberships are the user's roles in user_access's entries.
	Memberships []UserCandidate `json:"memberships,omitempty"`

	Project         string   `json:"project,omitempty"`
	AgentProject    string   `json:"agentProject,omitempty"`
	Groups          []string `json:"groups"`
	Environment     string   `json:"environment,omitempty"`
	EnvironmentSlug string   `json:"environmentSlug,omitempty"`
	EnvironmentTier string   `json:"environmentTier,omitempty"`
	ProtectedBranch bool     `json:"protectedBranch"`

	// Candidates are every entry naming the project, its groups or the
	// instance, most specific first.
	Candidates []Candidate `json:"candidates"`
	// Entry is the candidate that applies; nil when none does.
	Entry *Candidate `json:"entry,omitempty"`

	Allowed bool `json:"allowed"`
	// Rejected is true when KAS rejects the file: it then grants nothing,
	// and the agent keeps its previous configuration.
	Rejected bool `json:"rejected"`
	// Denial is empty when Allowed.
	Denial Denial `json:"denial,omitempty"`
	// Reason says in one sentence why the job gets the agent or not.
	Reason string `json:"reason"`

	// DefaultNamespace is the namespace of the job's kubeconfig context.
	DefaultNamespace string `json:"defaultNamespace,omitempty"`
	// Identity is who the job is in the cluster; nil when not Allowed.
	Identity *Identity `json:"identity,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
	// ConfigErrors are errors Parse found: the explanation covers only what
	// GitLab could read.
	ConfigErrors []Diagnostic `json:"configErrors,omitempty"`
}

// Validate checks the options without a configuration, for a command's
// Validate step; Explain checks them too.
func (o *ExplainOptions) Validate() error {
	if o.User != "" {
		return o.validateUser()
	}
	var errs []error
	if o.Role != "" || len(o.Memberships) > 0 || len(o.IDs) > 0 {
		errs = append(errs, errors.New("a role, membership or ID by path was given without a user: pass the user's GitLab username too (they explain user_access)"))
	}
	if o.Project == "" {
		errs = append(errs, errors.New("no project given: pass the full path of the job's project, as in group/project"))
	} else if msg := checkFullPath(o.Project, KindProject); msg != "" {
		errs = append(errs, fmt.Errorf("project path %q %s", o.Project, msg))
	}
	if o.AgentProject != "" {
		if msg := checkFullPath(o.AgentProject, KindProject); msg != "" {
			errs = append(errs, fmt.Errorf("agent project path %q %s", o.AgentProject, msg))
		}
	}
	for _, g := range o.Groups {
		if msg := checkFullPath(g, KindGroup); msg != "" {
			errs = append(errs, fmt.Errorf("group path %q %s", g, msg))
		}
	}
	if o.Environment != "" {
		if msg := checkEnvironment(o.Environment, false); msg != "" {
			errs = append(errs, fmt.Errorf("environment: %s; pass the environment's name as in .gitlab-ci.yml (environment:name), with variables expanded", msg))
		}
	} else if o.EnvironmentSlug != "" || o.EnvironmentTier != "" {
		errs = append(errs, errors.New("an environment slug or tier was given without an environment name: pass the name too"))
	}
	if o.EnvironmentTier != "" {
		if err := checkTier(o.EnvironmentTier); err != nil {
			errs = append(errs, err)
		}
	}
	for _, v := range append([]int64{o.ProjectID, o.JobID, o.PipelineID, o.AgentID, o.AgentProjectID}, o.GroupIDs...) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("ID %d is negative; GitLab IDs are positive numbers", v))
			break
		}
	}
	return errors.Join(errs...)
}

// jobGroups is the project's groups, outermost first: its path's ancestors
// then the extra ones, without repeats.
func (o *ExplainOptions) jobGroups() []string {
	var out []string
	if !o.UserNamespace {
		out = ancestorGroups(o.Project)
	}
	for _, g := range o.Groups {
		dup := false
		for _, have := range out {
			dup = dup || samePath(have, g)
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out
}

// Explain works out, the way GitLab does, whether a CI job gets the agent,
// through which entry, in which namespace and as whom.
//
// GitLab first picks the single most specific entry for the project: its
// own projects entry, else the implicit authorization of the agent's own
// project, else the entry of its deepest group, else instance. Only then
// does it apply that entry's environments and protected_branches_only, so a
// less specific entry never rescues a job that the most specific one
// refuses. It returns an error only for invalid options.
func Explain(cfg *Config, opts ExplainOptions) (*Explanation, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &Config{}
	}
	var ex *Explanation
	var err error
	if opts.User != "" {
		ex = explainUser(cfg, opts)
	} else if ex, err = explainJob(cfg, opts); err != nil {
		return nil, err
	}
	ex.versionNotes(cfg, opts)
	if cfg.Rejected() {
		ex.reject()
	}
	return ex, nil
}

// newExplanation starts an explanation with what every kind shares.
func newExplanation(cfg *Config, opts ExplainOptions) *Explanation {
	ex := &Explanation{
		File:          cfg.File,
		GitLabVersion: opts.GitLabVersion.orNewest().String(),
		Tier:          opts.Tier,
		AgentProject:  opts.AgentProject,
		Candidates:    []Candidate{},
	}
	for _, d := range cfg.Problems {
		if d.Severity == SeverityError {
			ex.ConfigErrors = append(ex.ConfigErrors, d)
		}
	}
	return ex
}

// versionNotes says which fields of the file the GitLab release does not
// know.
func (ex *Explanation) versionNotes(cfg *Config, opts ExplainOptions) {
	version := opts.GitLabVersion.orNewest()
	for _, nf := range cfg.newer {
		if version.Less(nf.field.since) {
			ex.note("GitLab %s does not know `%s` (added in %s): its KAS rejects the whole file, or GitLab ignores the setting; run `kubectl gitlab access lint --gitlab-version %s`.", version, nf.where, sinceText(nf.field), version)
		}
	}
}

func sinceText(f *field) string {
	if f.sinceUnsure {
		return "a release after 16.5"
	}
	return f.since.String()
}

// reject turns the verdict into the file's rejection, keeping what the
// file would do as a note.
func (ex *Explanation) reject() {
	wouldBe := "deny it: " + ex.Reason
	if ex.Allowed {
		wouldBe = "let it in: " + ex.Reason
	}
	n := 0
	for _, d := range ex.ConfigErrors {
		if d.Rejects {
			n++
		}
	}
	ex.Rejected, ex.Allowed, ex.Denial, ex.Identity, ex.DefaultNamespace = true, false, DeniedConfigRejected, nil, ""
	ex.Reason = fmt.Sprintf("KAS rejects this file (%s; run `kubectl gitlab access lint`), so GitLab keeps the agent's previous configuration: this file grants nothing until it is fixed", plural(n, "error"))
	notes := []string{"Once the file is fixed, it would " + wouldBe + "."}
	for _, n := range ex.Notes {
		if n != missingContextNote { // what happens now depends on the previous configuration
			notes = append(notes, n)
		}
	}
	ex.Notes = notes
}

// explainJob explains ci_access for a CI job.
func explainJob(cfg *Config, opts ExplainOptions) (*Explanation, error) {
	groups := opts.jobGroups()
	if len(opts.GroupIDs) > 0 && len(opts.GroupIDs) != len(groups) {
		return nil, fmt.Errorf("%d group IDs for %d groups (%s): give one ID per group, outermost first", len(opts.GroupIDs), len(groups), strings.Join(groups, ", "))
	}
	ex := newExplanation(cfg, opts)
	ex.Project, ex.Groups, ex.Environment = opts.Project, groups, opts.Environment
	ex.EnvironmentTier, ex.ProtectedBranch = opts.EnvironmentTier, opts.ProtectedBranch
	if ex.Groups == nil {
		ex.Groups = []string{}
	}
	if opts.Environment != "" {
		ex.EnvironmentSlug = opts.EnvironmentSlug
		if ex.EnvironmentSlug == "" {
			ex.EnvironmentSlug = EnvironmentSlug(opts.Environment)
			if ex.EnvironmentSlug != opts.Environment {
				ex.note("The environment slug %s is derived from the name with GitLab's rule; an environment created by an older GitLab may have another: check it on the Environments page and pass it explicitly.", ex.EnvironmentSlug)
			}
		}
	}
	if len(ex.ConfigErrors) > 0 && !cfg.Rejected() {
		ex.note("The configuration has %s (run `kubectl gitlab access lint`); this explains what GitLab makes of the parts it can read.", plural(len(ex.ConfigErrors), "error"))
	}

	ci := cfg.CIAccess
	if ci == nil {
		ci = &CIAccess{}
	}
	instanceOn := opts.InstanceLevelAuthorization || ci.Instance != nil
	if ci.Instance != nil && !opts.InstanceLevelAuthorization {
		ex.note("ci_access.instance is set, so instance-level authorization is assumed to be enabled (self-managed only); without it GitLab ignores `instance` and every entry outside the agent project's top-level group.")
	}
	ex.Candidates = candidates(ci, opts, groups, instanceOn)
	ex.noteTier(opts)
	ex.decide(opts)
	if ex.Allowed && ex.Identity == nil {
		ex.identify(opts, groups)
	}
	return ex, nil
}

func (ex *Explanation) note(format string, args ...any) {
	ex.Notes = append(ex.Notes, fmt.Sprintf(format, args...))
}

// candidates lists the entries for the project in GitLab's order of
// precedence, and marks which applies.
func candidates(ci *CIAccess, opts ExplainOptions, groups []string, instanceOn bool) []Candidate {
	out := []Candidate{}
	outside := func(id string) bool {
		return opts.AgentProject != "" && !instanceOn && !samePath(topLevel(id), topLevel(opts.AgentProject))
	}
	// add appends the entries of list with this path. GitLab reads the first
	// MaxEntries entries, and of those with the same path keeps the last.
	add := func(list []Entry, path, why string) {
		var found []*Entry
		for i := range list {
			if list[i].ID != "" && samePath(list[i].ID, path) {
				found = append(found, &list[i])
			}
		}
		last := -1
		for i, e := range found {
			if e.Index < MaxEntries {
				last = i
			}
		}
		for i, e := range found {
			c := Candidate{Kind: e.Kind, ID: e.ID, Index: e.Index, Line: e.Pos.Line, Column: e.Pos.Column, Why: why, entry: e}
			switch {
			case e.Index >= MaxEntries:
				c.Status, c.Why = StatusIgnored, fmt.Sprintf("%s; but GitLab reads only the first %d entries of the list", why, MaxEntries)
			case i != last:
				c.Status, c.Why = StatusIgnored, why+"; but the path is listed again later, and GitLab keeps only the last entry"
			case outside(e.ID):
				c.Status, c.Why = StatusIgnored, fmt.Sprintf("%s; but it is outside %s, the top-level group of the agent project, and instance-level authorization is off", why, topLevel(opts.AgentProject))
			case !opts.Tier.paid() && needsPremium(e):
				c.Status, c.Why = StatusIgnored, fmt.Sprintf("%s; but its access_as %s needs Premium, and GitLab Free drops the entry before it picks the most specific one", why, e.mode())
			}
			out = append(out, c)
		}
	}
	add(ci.Projects, opts.Project, "the job's project")
	if opts.AgentProject != "" && samePath(opts.AgentProject, opts.Project) {
		implicit := &Entry{Kind: KindImplicit, ID: opts.AgentProject}
		out = append(out, Candidate{Kind: KindImplicit, ID: opts.AgentProject, Why: "GitLab always authorizes the agent's own configuration project, as the agent", entry: implicit})
	}
	byDepth := append([]string(nil), groups...)
	sort.SliceStable(byDepth, func(i, j int) bool { return depth(byDepth[i]) > depth(byDepth[j]) })
	for _, g := range byDepth {
		add(ci.Groups, g, fmt.Sprintf("group %s of the job's project (depth %d)", g, depth(g)))
	}
	if ci.Instance != nil {
		c := Candidate{Kind: KindInstance, Line: ci.Instance.Pos.Line, Column: ci.Instance.Pos.Column, Why: "every project of the instance", entry: ci.Instance}
		if !opts.Tier.paid() && needsPremium(ci.Instance) {
			c.Status, c.Why = StatusIgnored, c.Why+fmt.Sprintf("; but its access_as %s needs Premium, and GitLab Free drops the entry", ci.Instance.mode())
		}
		out = append(out, c)
	}
	applied := false
	for i := range out {
		if out[i].Status == StatusIgnored {
			continue
		}
		if !applied {
			out[i].Status, applied = StatusApplies, true
			out[i].Why += "; the most specific entry, so the only one GitLab uses"
			continue
		}
		out[i].Status = StatusSuperseded
		out[i].Why += "; superseded by the more specific entry"
	}
	return out
}

// needsPremium reports whether GitLab Free drops the entry: Rails keeps only
// entries whose access_as is absent, empty or agent unless the project has
// the cluster_agents_ci_impersonation feature (Premium)
// (Clusters::Agents::Authorizations::CiAccess::ConfigScopes,
// with_available_ci_access_fields, and its EE override).
func needsPremium(e *Entry) bool {
	m := e.mode()
	return m == AccessCIJob || m == AccessImpersonate
}

// noteTier says, when the tier is unknown, what Free would change.
func (ex *Explanation) noteTier(opts ExplainOptions) {
	if opts.Tier != TierUnknown {
		return
	}
	for _, c := range ex.Candidates {
		if c.Status == StatusApplies && needsPremium(c.entry) {
			ex.note("%s acts as %s, a Premium feature; this assumes Premium or Ultimate. On GitLab Free the entry is dropped before the most specific one is picked (pass --tier free to see what applies then).", c.Label(), c.entry.mode())
		}
	}
}

// decide applies the entry's restrictions to the job.
func (ex *Explanation) decide(opts ExplainOptions) {
	for i := range ex.Candidates {
		if ex.Candidates[i].Status == StatusApplies {
			ex.Entry = &ex.Candidates[i]
		}
	}
	if ex.Entry == nil {
		ex.Denial = DeniedNotAuthorized
		scope := "the project"
		if len(ex.Groups) > 0 {
			scope += " nor any of its groups (" + strings.Join(ex.Groups, ", ") + ")"
		}
		ex.Reason = fmt.Sprintf("no entry of ci_access authorizes %s: neither %s nor the instance is listed", opts.Project, scope)
		if opts.AgentProject == "" {
			ex.note("Without the agent project's path the implicit authorization of the agent's own project, and the top-level group rule, are not taken into account.")
		}
		ex.noteMissingContext()
		return
	}
	e, label := ex.Entry.entry, ex.Entry.Label()
	var refusals []string
	var denial Denial
	if len(e.Environments) > 0 {
		patterns := make([]string, len(e.Environments))
		for i, p := range e.Environments {
			patterns[i] = p.Pattern
		}
		list := strings.Join(patterns, ", ")
		matched := ""
		var how envMatch
		for _, p := range e.Environments {
			if m := environmentMatch(p.Pattern, opts.Environment); m != matchNone {
				matched, how = p.Pattern, m
				break
			}
		}
		switch {
		case opts.Environment == "":
			denial = DeniedEnvironment
			refusals = append(refusals, fmt.Sprintf("the job has no environment, and %s allows only the environments %s", label, list))
		case matched == "":
			denial = DeniedEnvironment
			refusals = append(refusals, fmt.Sprintf("environment %s matches none of %s in %s", opts.Environment, list, label))
		case how == matchInside:
			ex.note("Environment %s matches %s only because GitLab's wildcard match is not anchored: it looks for the pattern anywhere in the name.", opts.Environment, matched)
		}
	}
	if e.ProtectedBranchesOnly && !opts.ProtectedBranch {
		if denial == "" {
			denial = DeniedUnprotectedBranch
		}
		refusals = append(refusals, fmt.Sprintf("%s has protected_branches_only: true and the job's branch is not protected", label))
	}
	if denial != "" {
		ex.Denial = denial
		ex.Reason = strings.Join(refusals, "; and ")
		for _, c := range ex.Candidates {
			if c.Status == StatusSuperseded && admits(c.entry, opts) {
				ex.note("The less specific %s would let this job in, but GitLab uses only the most specific entry: change %s instead.", c.Label(), label)
				break
			}
		}
		ex.noteMissingContext()
		return
	}
	ex.Allowed = true
	ex.DefaultNamespace = e.DefaultNamespace
	ex.Reason = fmt.Sprintf("%s authorizes the job", label)
	if len(e.Environments) > 0 {
		ex.Reason += " in environment " + opts.Environment
	}
	if e.ProtectedBranchesOnly {
		ex.Reason += " on a protected branch"
	}
}

// admits reports whether an entry's restrictions let the job through.
func admits(e *Entry, opts ExplainOptions) bool {
	if e.ProtectedBranchesOnly && !opts.ProtectedBranch {
		return false
	}
	if len(e.Environments) == 0 {
		return true
	}
	for _, p := range e.Environments {
		if MatchEnvironment(p.Pattern, opts.Environment) {
			return true
		}
	}
	return false
}

const missingContextNote = "GitLab leaves this agent out of the job's KUBECONFIG, so `kubectl config use-context <agent project>:<agent name>` fails with `no context exists`, and KAS answers 403 to a token for it."

func (ex *Explanation) noteMissingContext() {
	if ex.User == "" {
		ex.Notes = append(ex.Notes, missingContextNote)
	}
}

// identify works out who the job is in the cluster.
func (ex *Explanation) identify(opts ExplainOptions, groups []string) {
	e := ex.Entry.entry
	var id Identity
	switch e.mode() {
	case AccessAgent:
		id = agentIdentity()
	case AccessCIJob:
		id = CIJobIdentity(CIJob{
			JobID: opts.JobID, PipelineID: opts.PipelineID, ProjectID: opts.ProjectID,
			Groups: groups, GroupIDs: opts.GroupIDs,
			HasEnvironment: opts.Environment != "", EnvironmentSlug: ex.EnvironmentSlug, EnvironmentTier: opts.EnvironmentTier,
			Username: opts.Username, AgentID: opts.AgentID, ConfigProjectID: opts.AgentProjectID,
		})
		if !id.Exact {
			ex.note("Placeholders such as <job id> stand for IDs that were not given; pass them for the exact identity.")
		}
		ex.note("Kubernetes grants this identity only what RBAC binds to its groups; `kubectl gitlab access rbac` writes such a binding.")
	case AccessImpersonate:
		id = staticIdentity(e.AccessAs.Impersonate)
	default:
		id = Identity{Description: "undetermined: access_as of " + ex.Entry.Label() + " names no identity, and KAS rejects the file (run lint)"}
	}
	ex.Identity = &id
}

// WriteJSON writes the explanation as one indented JSON object.
func (ex *Explanation) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // placeholders such as <job id> stay readable
	return enc.Encode(ex)
}

// WriteText writes the explanation for a person.
func (ex *Explanation) WriteText(w io.Writer) error {
	var b strings.Builder
	field := func(name, value string) { fmt.Fprintf(&b, "%-13s %s\n", name+":", value) }
	list := func(name string, values []string) {
		for i, v := range values {
			if i == 0 {
				field(name, v)
			} else {
				fmt.Fprintf(&b, "%-13s %s\n", "", v)
			}
		}
	}
	if ex.User != "" {
		field("user", ex.User)
	} else {
		field("project", ex.Project)
		if len(ex.Groups) > 0 {
			field("groups", strings.Join(ex.Groups, ", "))
		}
		switch {
		case ex.Environment == "":
			field("environment", "(none)")
		default:
			env := ex.Environment + " (slug " + ex.EnvironmentSlug
			if ex.EnvironmentTier != "" {
				env += ", tier " + ex.EnvironmentTier
			}
			field("environment", env+")")
		}
		branch := "unprotected"
		if ex.ProtectedBranch {
			branch = "protected"
		}
		field("branch", branch)
	}
	tier := string(ex.Tier)
	if tier == "" {
		tier = "premium or ultimate (assumed)"
	}
	field("gitlab", ex.GitLabVersion+", "+tier)
	b.WriteByte('\n')
	if ex.User != "" {
		if len(ex.Memberships) == 0 {
			field("entries", "none")
		}
		for i, c := range ex.Memberships {
			state := "not authorized"
			if c.Authorized {
				state = "authorized"
			}
			name := ""
			if i == 0 {
				name = "entries"
			}
			fmt.Fprintf(&b, "%-13s %s at %s:%d:%d: %s (%s)\n", nameOrBlank(name), c.Label(), ex.File, c.Line, c.Column, state, c.Why)
		}
	} else if ex.Entry != nil {
		field("entry", ex.Entry.Label()+" at "+ex.Entry.at(ex.File))
	} else {
		field("entry", "none")
	}
	for _, c := range ex.Candidates {
		if c.Status != StatusApplies {
			field(c.Status, c.Label()+" at "+c.at(ex.File)+": "+c.Why)
		}
	}
	switch {
	case ex.Allowed:
		field("result", "ALLOWED: "+ex.Reason)
	case ex.Rejected:
		field("result", "REJECTED: "+ex.Reason)
	default:
		field("result", "DENIED: "+ex.Reason)
	}
	if ex.Allowed && ex.User == "" {
		ns := ex.DefaultNamespace
		if ns == "" {
			ns = "(none set: the context has no namespace, so kubectl uses `default`)"
		}
		field("namespace", ns)
	}
	if id := ex.Identity; id != nil {
		field("access as", fmt.Sprintf("%s: %s", orDash(string(id.AccessAs)), id.Description))
		if id.Username != "" {
			field("  user", id.Username)
		}
		if id.UID != "" {
			field("  uid", id.UID)
		}
		list("  groups", id.Groups)
		extras := make([]string, len(id.Extra))
		for i, x := range id.Extra {
			extras[i] = x.Key + "=" + strings.Join(x.Values, ",")
		}
		list("  extra", extras)
	}
	for _, d := range ex.ConfigErrors {
		field("config error", d.String())
	}
	if len(ex.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range ex.Notes {
			b.WriteString("  - " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func nameOrBlank(name string) string {
	if name == "" {
		return ""
	}
	return name + ":"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
