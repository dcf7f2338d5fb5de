package access

import (
	"fmt"
	"strings"
)

// MaxEntries is how many projects, and how many groups, GitLab reads from
// ci_access; it silently drops the rest.
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

// Lint parses an agent configuration file and checks it against GitLab's
// rules for ci_access. It never fails; the result tells whether there are
// errors.
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
	if ci := cfg.CIAccess; ci != nil {
		lintEntryList(&d, ci.Projects, ci.ProjectsPos, KindProject, opts)
		lintEntryList(&d, ci.Groups, ci.GroupsPos, KindGroup, opts)
		if ci.Instance != nil {
			if opts.GitLabCom {
				d.warnf(CodeNotOnGitLabCom, ci.Instance.Pos, "GitLab.com does not offer instance-level authorization, so `instance` authorizes nothing there; list the projects and groups instead")
			}
			lintEntry(&d, ci.Instance, opts)
		}
	}
	list := uniqueDiagnostics(d.list)
	sortDiagnostics(list)
	r := &LintResult{File: cfg.File, Diagnostics: list, Config: cfg}
	r.Errors = countSeverity(list, SeverityError)
	r.Warnings = countSeverity(list, SeverityWarning)
	r.OK = r.Errors == 0
	return r
}

func lintEntryList(d *diagnostics, entries []Entry, listPos Pos, kind EntryKind, opts LintOptions) {
	list := string(kind) + "s"
	if len(entries) > MaxEntries {
		d.errorf(CodeTooManyEntries, entries[MaxEntries].Pos, "ci_access.%s has %d entries, and GitLab reads only the first %d: this one and the %d after it are ignored; split them over several agents or authorize a common group instead", list, len(entries), MaxEntries, len(entries)-MaxEntries-1)
	}
	first := make(map[string]*Entry)
	for i := range entries {
		e := &entries[i]
		if e.ID == "" {
			lintEntry(d, e, opts)
			continue
		}
		key := strings.ToLower(e.ID)
		if prev, dup := first[key]; dup {
			d.errorf(CodeDuplicateEntry, e.IDPos, "`%s` is listed twice in ci_access.%s (also at line %d); GitLab keeps only the last entry for a path (paths compare case-insensitively), so the other one's settings are ignored: merge them into one entry", e.ID, list, prev.IDPos.Line)
		} else {
			first[key] = e
		}
		lintEntry(d, e, opts)
	}
}

func lintEntry(d *diagnostics, e *Entry, opts LintOptions) {
	where := fmt.Sprintf("ci_access.%ss[%d]", e.Kind, e.Index)
	if e.Kind == KindInstance {
		where = "ci_access.instance"
	}
	if e.Kind != KindInstance {
		switch {
		case e.IDPos.IsZero():
			d.errorf(CodeMissingID, e.Pos, "%s has no `id`, so GitLab cannot tell which %s it authorizes; add `id: path/to/%s`", where, e.Kind, e.Kind)
		case !e.wrongType["id"]:
			if msg := checkFullPath(e.ID, e.Kind); msg != "" {
				d.errorf(CodeInvalidPath, e.IDPos, "`id` %q in %s %s; GitLab matches full paths only, so this entry authorizes nothing", e.ID, where, msg)
			} else if opts.AgentProject != "" && !opts.InstanceLevelAuthorization && !samePath(topLevel(e.ID), topLevel(opts.AgentProject)) {
				instance := "unless an administrator enabled instance-level authorization (self-managed GitLab 17.11 and later)"
				if opts.GitLabCom {
					instance = "and GitLab.com has no instance-level authorization"
				}
				d.warnf(CodeOutsideTopLevel, e.IDPos, "%s `%s` is outside `%s`, the top-level group of the agent project `%s`; GitLab ignores it %s: install another agent for that hierarchy", e.Kind, e.ID, topLevel(opts.AgentProject), opts.AgentProject, instance)
			}
		}
	}
	if e.DefaultNamespace != "" {
		if msg := checkDNSLabel(e.DefaultNamespace); msg != "" {
			d.errorf(CodeInvalidNamespace, e.DefaultNamespacePos, "`default_namespace` %q in %s is not a Kubernetes namespace name: it %s", e.DefaultNamespace, where, msg)
		}
	}
	if !e.EnvironmentsPos.IsZero() && len(e.Environments) == 0 && !e.wrongType["environments"] {
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
	if e.AccessAs != nil {
		lintAccessAs(d, e.AccessAs, where)
	}
}

func lintAccessAs(d *diagnostics, a *AccessAs, where string) {
	switch len(a.Modes) {
	case 0:
		d.errorf(CodeEmptyAccessAs, a.Pos, "`access_as` in %s names no identity; write one of `agent: {}`, `ci_job: {}` or `impersonate: {username: …}`, or remove `access_as` to act as the agent", where)
	case 1:
	default:
		names := make([]string, len(a.Modes))
		for i, m := range a.Modes {
			names[i] = "`" + string(m.Mode) + "`"
		}
		d.errorf(CodeConflictingAccessAs, a.Modes[1].Pos, "`access_as` in %s names %s, but a job acts as exactly one identity and GitLab rejects the entry; keep one of them", where, strings.Join(names, " and "))
	}
	imp := a.Impersonate
	if imp == nil {
		return
	}
	switch {
	case imp.wrongType["username"]:
	case imp.UsernamePos.IsZero():
		d.errorf(CodeMissingUsername, imp.Pos, "`impersonate` in %s has no `username`, which Kubernetes requires to impersonate anyone; add `username: <user>`", where)
	case imp.Username == "":
		d.errorf(CodeMissingUsername, imp.UsernamePos, "`username` of `impersonate` in %s is empty; Kubernetes requires one", where)
	}
	for i, g := range imp.Groups {
		if strings.TrimSpace(g) == "" {
			d.errorf(CodeInvalidImpersonate, imp.GroupsPos[i], "group %d of `impersonate` in %s is empty; remove it or name a group", i, where)
		}
	}
	for i, f := range imp.Extra {
		if f.Key == "" {
			d.errorf(CodeInvalidImpersonate, f.Pos, "extra %d of `impersonate` in %s has no `key`; write `{key: example.com/name, val: [value]}`", i, where)
		}
		if len(f.Values) == 0 {
			d.errorf(CodeInvalidImpersonate, f.Pos, "extra %d of `impersonate` in %s has no `val`; GitLab requires at least one value", i, where)
		}
		for _, v := range f.Values {
			if v == "" {
				d.errorf(CodeInvalidImpersonate, f.Pos, "extra %d of `impersonate` in %s has an empty value; GitLab requires non-empty values", i, where)
				break
			}
		}
	}
}
