package access

import (
	"fmt"
	"strings"
)

// MaxEntries is how many projects, and how many groups, GitLab reads from
// ci_access and from user_access; it silently drops the rest
// (AUTHORIZED_ENTITY_LIMIT in Clusters::Agents::Authorizations::CiAccess and
// UserAccess::RefreshService, app/services/clusters/agents/authorizations/).
const MaxEntries = 500

// LintOptions says what the configuration is checked against.
type LintOptions struct {
	// AgentProject is the full path of the project that holds the agent
	// configuration (`group/agents`). With it, entries outside its top-level
	// group are reported.
	AgentProject string
	// GitLabCom checks for GitLab.com, which offers neither
	// protected_branches_only nor instance-level authorization.
	GitLabCom bool
	// InstanceLevelAuthorization says an administrator enabled instance
	// level authorization (self-managed only), which lets entries reach
	// outside the agent project's top-level group.
	InstanceLevelAuthorization bool
	// GitLabVersion is the GitLab (and KAS) release checked against; zero
	// is NewestVersion. Fields of later releases are reported.
	GitLabVersion Version
	// Tier is the GitLab tier; on Free, entries that need Premium are
	// reported.
	Tier Tier
}

// Validate checks the options, for a command's Validate step. Lint itself
// accepts any options: a bad agent project path only skips the check that
// needs it, with a warning.
func (o LintOptions) Validate() error {
	if o.AgentProject != "" {
		if msg := checkFullPath(o.AgentProject, KindProject); msg != "" {
			return fmt.Errorf("agent project path %q %s", o.AgentProject, msg)
		}
	}
	return nil
}

// Lint parses an agent configuration file and checks it as KAS and GitLab
// read it. It never fails; the result tells whether there are errors.
func Lint(filename string, data []byte, opts LintOptions) *LintResult {
	return LintConfig(Parse(filename, data), opts)
}

// LintConfig checks a parsed configuration.
func LintConfig(cfg *Config, opts LintOptions) *LintResult {
	d := diagnostics{file: cfg.File}
	d.list = append(d.list, cfg.Problems...)
	if err := opts.Validate(); err != nil {
		// A bad option is the caller's problem, not the file's; say so once
		// and skip the check that needs it.
		d.warnf(CodeInvalidPath, Pos{Line: 1}, "%v, so entries were not checked against its top-level group", err)
		opts.AgentProject = ""
	}
	version := opts.GitLabVersion.orNewest()
	for _, nf := range cfg.newer {
		if version.Less(nf.field.since) {
			tooNew(&d, nf, version)
		}
	}
	if ci := cfg.CIAccess; ci != nil {
		lintEntryList(&d, ci.Projects, KindProject, opts)
		lintEntryList(&d, ci.Groups, KindGroup, opts)
		if ci.Instance != nil {
			if opts.GitLabCom {
				d.warnf(CodeNotOnGitLabCom, ci.Instance.Pos, "GitLab.com does not offer instance-level authorization, so `instance` authorizes nothing there; list the projects and groups instead")
			}
			lintEntry(&d, ci.Instance, opts)
		}
	}
	if ua := cfg.UserAccess; ua != nil {
		lintUserAccess(&d, ua, opts, version)
	}
	list := uniqueDiagnostics(d.list)
	sortDiagnostics(list)
	r := &LintResult{File: cfg.File, Diagnostics: list, Config: cfg}
	r.Errors = countSeverity(list, SeverityError)
	r.Warnings = countSeverity(list, SeverityWarning)
	r.OK = r.Errors == 0
	r.Rejected = cfg.Rejected()
	return r
}

// tooNew warns about a field that the given GitLab does not know yet.
func tooNew(d *diagnostics, nf newerField, version Version) {
	when := "GitLab " + nf.field.since.String()
	if nf.field.sinceUnsure {
		when = "a GitLab release after 16.5 (GitLab's documentation does not say which)"
	}
	d.warnf(CodeNeedsNewerGitLab, nf.at, "`%s` exists since %s (%s), and GitLab %s does not know it: a KAS that does not know a field rejects the whole file, and a GitLab that does not implement a setting ignores it; upgrade GitLab, or remove it", nf.where, when, nf.field.doc, version)
}

func lintEntryList(d *diagnostics, entries []Entry, kind EntryKind, opts LintOptions) {
	list := "ci_access." + string(kind) + "s"
	if len(entries) > MaxEntries {
		d.errorf(CodeTooManyEntries, entries[MaxEntries].Pos, "%s has %d entries, and GitLab reads only the first %d: this one and the %d after it are ignored; split them over several agents or authorize a common group instead", list, len(entries), MaxEntries, len(entries)-MaxEntries-1)
	}
	first := make(map[string]*Entry)
	for i := range entries {
		e := &entries[i]
		if e.ID != "" {
			key := strings.ToLower(e.ID)
			if prev, dup := first[key]; dup {
				d.errorf(CodeDuplicateEntry, e.IDPos, "`%s` is listed twice in %s (also at line %d); GitLab keeps only the last entry for a path (paths compare case-insensitively), so the other one's settings are ignored: merge them into one entry", e.ID, list, prev.IDPos.Line)
			} else {
				first[key] = e
			}
		}
		lintEntry(d, e, opts)
	}
}

func entryWhere(e *Entry) string {
	if e.Kind == KindInstance {
		return "ci_access.instance"
	}
	return fmt.Sprintf("ci_access.%ss[%d]", e.Kind, e.Index)
}

func lintEntry(d *diagnostics, e *Entry, opts LintOptions) {
	where := entryWhere(e)
	if e.ID != "" {
		lintPath(d, e.ID, e.IDPos, e.Kind, where, opts, "")
	}
	if e.DefaultNamespace != "" {
		if msg := checkDNSLabel(e.DefaultNamespace); msg != "" {
			d.errorf(CodeInvalidNamespace, e.DefaultNamespacePos, "`default_namespace` %q in %s is not a Kubernetes namespace name: it %s; GitLab writes it into the job's kubeconfig as it is, and kubectl fails on it", e.DefaultNamespace, where, msg)
		}
	}
	if !e.EnvironmentsPos.IsZero() && len(e.Environments) == 0 {
		d.warnf(CodeEmptyEnvironments, e.EnvironmentsPos, "`environments` in %s is empty, which GitLab reads as no restriction: every job may use the agent, with or without an environment; list the environments, or remove the key", where)
	}
	for _, env := range e.Environments {
		if msg := checkEnvironment(env.Pattern, true); msg != "" {
			d.errorf(CodeInvalidEnvironment, env.Pos, "environment pattern in %s: %s", where, msg)
			continue
		}
		if strings.ContainsAny(env.Pattern, "${}") {
			d.warnf(CodeLiteralVariable, env.Pos, "environment pattern %q in %s looks like a CI/CD variable, but the agent configuration expands no variables: GitLab compares it as written; use `*` to match many environments", env.Pattern, where)
		}
	}
	if e.ProtectedBranchesOnly && opts.GitLabCom {
		d.warnf(CodeNotOnGitLabCom, e.ProtectedBranchesOnlyPos, "GitLab.com does not offer `protected_branches_only` (self-managed and Dedicated only), so do not rely on it there; restrict by `environments` and protect those environments instead")
	}
	if opts.Tier == TierFree && e.AccessAs != nil && (e.AccessAs.Mode == AccessCIJob || e.AccessAs.Mode == AccessImpersonate) {
		d.warnf(CodePaidFeature, e.AccessAs.ModePos, "`access_as: {%s: …}` in %s needs GitLab Premium: on Free, GitLab drops this entry before it picks the most specific one, so a less specific entry (or none) applies to its jobs", e.AccessAs.Mode, where)
	}
}

// lintPath checks an entry's project or group path, and whether GitLab
// looks for it at all (the agent project's top-level group).
func lintPath(d *diagnostics, id string, at Pos, kind EntryKind, where string, opts LintOptions, instanceNote string) {
	if msg := checkFullPath(id, kind); msg != "" {
		d.errorf(CodeInvalidPath, at, "`id` %q in %s %s; GitLab matches full paths only, so this entry authorizes nothing", id, where, msg)
		return
	}
	if opts.AgentProject == "" || opts.InstanceLevelAuthorization || samePath(topLevel(id), topLevel(opts.AgentProject)) {
		return
	}
	instance := "unless an administrator enabled instance-level authorization (self-managed GitLab 18.1 and later)"
	if instanceNote != "" {
		instance = instanceNote
	}
	if opts.GitLabCom {
		instance = "and GitLab.com has no instance-level authorization"
	}
	d.warnf(CodeOutsideTopLevel, at, "%s `%s` is outside `%s`, the top-level group of the agent project `%s`; GitLab ignores it %s: install another agent for that hierarchy", kind, id, topLevel(opts.AgentProject), opts.AgentProject, instance)
}

// userAccessAsOptional is the release from which user_access without
// access_as means the agent (doc/user/clusters/agent/user_access.md).
var userAccessAsOptional = Version{18, 3}

func lintUserAccess(d *diagnostics, ua *UserAccess, opts LintOptions, version Version) {
	if ua.AccessAs == nil && version.Less(userAccessAsOptional) {
		d.errorf(CodeNoUserAccessAs, ua.Pos, "`user_access` has no `access_as`, and GitLab %s refuses every user then (403 \"`access_as` is not found under the `user_access` keyword\"; GitLab 18.3 and later use the agent's identity); add `access_as: {agent: {}}` or `access_as: {user: {}}`", version)
	}
	if opts.Tier == TierFree && ua.AccessAs != nil && ua.AccessAs.Mode == AccessUser {
		d.warnf(CodePaidFeature, ua.AccessAs.ModePos, "`user_access.access_as: {user: {}}` needs GitLab Premium: on Free, GitLab refuses every user (403); use `agent: {}`, or upgrade")
	}
	for _, list := range []struct {
		entries []UserEntry
		kind    EntryKind
	}{{ua.Projects, KindProject}, {ua.Groups, KindGroup}} {
		name := "user_access." + string(list.kind) + "s"
		if len(list.entries) > MaxEntries {
			d.errorf(CodeTooManyEntries, list.entries[MaxEntries].Pos, "%s has %d entries, and GitLab reads only the first %d: this one and the %d after it are ignored", name, len(list.entries), MaxEntries, len(list.entries)-MaxEntries-1)
		}
		first := map[string]Pos{}
		for _, e := range list.entries {
			if e.ID == "" {
				continue
			}
			where := fmt.Sprintf("%s[%d]", name, e.Index)
			key := strings.ToLower(e.ID)
			if prev, dup := first[key]; dup {
				d.warnf(CodeDuplicateEntry, e.IDPos, "`%s` is listed twice in %s (also at line %d); GitLab reads it once: remove one", e.ID, name, prev.Line)
			} else {
				first[key] = e.IDPos
			}
			lintPath(d, e.ID, e.IDPos, e.Kind, where, opts, "unless an administrator enabled instance-level authorization (self-managed GitLab 18.4 and later for user_access)")
		}
	}
}
