package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ExplainOptions describes the CI job to explain. Only Project is required;
// the IDs only make the impersonated identity exact.
type ExplainOptions struct {
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
	File            string   `json:"file"`
	Project         string   `json:"project"`
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
	var errs []error
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
	groups := opts.jobGroups()
	if len(opts.GroupIDs) > 0 && len(opts.GroupIDs) != len(groups) {
		return nil, fmt.Errorf("%d group IDs for %d groups (%s): give one ID per group, outermost first", len(opts.GroupIDs), len(groups), strings.Join(groups, ", "))
	}
	ex := &Explanation{
		File:            cfg.File,
		Project:         opts.Project,
		AgentProject:    opts.AgentProject,
		Groups:          groups,
		Environment:     opts.Environment,
		EnvironmentTier: opts.EnvironmentTier,
		ProtectedBranch: opts.ProtectedBranch,
		Candidates:      []Candidate{},
	}
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
	for _, d := range cfg.Problems {
		if d.Severity == SeverityError {
			ex.ConfigErrors = append(ex.ConfigErrors, d)
		}
	}
	if len(ex.ConfigErrors) > 0 {
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
		out = append(out, Candidate{Kind: KindInstance, Line: ci.Instance.Pos.Line, Column: ci.Instance.Pos.Column, Why: "every project of the instance", entry: ci.Instance})
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

func (ex *Explanation) noteMissingContext() {
	ex.note("GitLab leaves this agent out of the job's KUBECONFIG, so `kubectl config use-context <agent project>:<agent name>` fails with `no context exists`, and KAS answers 403 to a token for it.")
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
		id = Identity{Description: "undetermined: access_as of " + ex.Entry.Label() + " does not name exactly one identity, and GitLab cannot use it (run lint)"}
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
	b.WriteByte('\n')
	if ex.Entry != nil {
		field("entry", ex.Entry.Label()+" at "+ex.Entry.at(ex.File))
	} else {
		field("entry", "none")
	}
	for _, c := range ex.Candidates {
		if c.Status != StatusApplies {
			field(c.Status, c.Label()+" at "+c.at(ex.File)+": "+c.Why)
		}
	}
	if ex.Allowed {
		field("result", "ALLOWED: "+ex.Reason)
	} else {
		field("result", "DENIED: "+ex.Reason)
	}
	if ex.Allowed {
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

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
