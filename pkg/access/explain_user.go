package access

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Roles of GitLab members, lowest first, with their access levels
// (Gitlab::Access.sym_options_with_owner, lib/gitlab/access.rb; planner
// exists since GitLab 17.7).
var memberRoles = []struct {
	name  string
	level int
	since Version
}{
	{"guest", 10, Version{}},
	{"planner", 15, Version{17, 7}},
	{"reporter", 20, Version{}},
	{"developer", 30, Version{}},
	{"maintainer", 40, Version{}},
	{"owner", 50, Version{}},
}

// developerLevel is the least access level that user_access admits
// (Clusters::Agents::Authorizations::UserAccess::ProjectAuthorization.for_user
// and GroupAuthorization.for_user: Gitlab::Access::DEVELOPER..).
const developerLevel = 30

func roleLevel(role string) (int, bool) {
	for _, r := range memberRoles {
		if r.name == role {
			return r.level, true
		}
	}
	return 0, false
}

func roleNames() string {
	names := make([]string, len(memberRoles))
	for i, r := range memberRoles {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

// rolesUpTo lists the roles at or below a level that a release knows: KAS
// puts one group per role into the impersonated identity.
func rolesUpTo(level int, version Version) []string {
	var out []string
	for _, r := range memberRoles {
		if r.level <= level && !version.Less(r.since) {
			out = append(out, r.name)
		}
	}
	return out
}

// Membership is a user's role in a project or group, given by full path.
type Membership struct {
	Path string
	Role string
}

// ParseMembership reads `group/project=developer`.
func ParseMembership(s string) (Membership, error) {
	path, role, ok := strings.Cut(s, "=")
	if !ok {
		return Membership{}, fmt.Errorf("membership %q is not PATH=ROLE, as in group/project=developer", s)
	}
	return Membership{Path: strings.TrimSpace(path), Role: strings.ToLower(strings.TrimSpace(role))}, nil
}

// ParsePathID reads `group/project=150`.
func ParsePathID(s string) (string, int64, error) {
	path, id, ok := strings.Cut(s, "=")
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if !ok || err != nil || n <= 0 {
		return "", 0, fmt.Errorf("%q is not PATH=ID with a positive ID, as in group/project=150", s)
	}
	return strings.TrimSpace(path), n, nil
}

func (o *ExplainOptions) validateUser() error {
	var errs []error
	if strings.ContainsAny(o.User, " /:@") || strings.TrimSpace(o.User) == "" {
		errs = append(errs, fmt.Errorf("username %q is not a GitLab username (no spaces, `/`, `:` or `@`; pass the name without @)", o.User))
	}
	if o.Project != "" || o.Environment != "" || o.JobID != 0 || o.ProtectedBranch {
		errs = append(errs, errors.New("a CI job's project, environment, branch or job ID was given with a user: user_access is about people, not jobs; leave them out, or leave out the user to explain ci_access"))
	}
	if o.Role == "" && len(o.Memberships) == 0 {
		errs = append(errs, fmt.Errorf("no role given for user %s: pass their role in the listed projects and groups (--role developer) or their memberships (--member group/project=maintainer)", o.User))
	}
	version := o.GitLabVersion.orNewest()
	checkRole := func(role string) {
		if _, ok := roleLevel(role); !ok {
			errs = append(errs, fmt.Errorf("role %q is not one of %s", role, roleNames()))
		} else if role == "planner" && version.Less(Version{17, 7}) {
			errs = append(errs, fmt.Errorf("the planner role exists since GitLab 17.7, not in %s", version))
		}
	}
	if o.Role != "" {
		checkRole(o.Role)
	}
	for _, m := range o.Memberships {
		if msg := checkFullPath(m.Path, KindGroup); msg != "" {
			errs = append(errs, fmt.Errorf("membership path %q %s", m.Path, msg))
		}
		checkRole(m.Role)
	}
	for path, id := range o.IDs {
		if msg := checkFullPath(path, KindGroup); msg != "" {
			errs = append(errs, fmt.Errorf("path %q of an ID %s", path, msg))
		} else if id <= 0 {
			errs = append(errs, fmt.Errorf("ID %d of %s is not positive", id, path))
		}
	}
	if o.AgentProject != "" {
		if msg := checkFullPath(o.AgentProject, KindProject); msg != "" {
			errs = append(errs, fmt.Errorf("agent project path %q %s", o.AgentProject, msg))
		}
	}
	if o.AgentID < 0 || o.AgentProjectID < 0 {
		errs = append(errs, errors.New("agent and agent project IDs are positive numbers"))
	}
	return errors.Join(errs...)
}

// UserCandidate is an entry of user_access and what the user's role there
// makes of it.
type UserCandidate struct {
	Kind   EntryKind `json:"kind"`
	ID     string    `json:"id"`
	Index  int       `json:"index"`
	Line   int       `json:"line,omitempty"`
	Column int       `json:"column,omitempty"`
	// Role is the user's role there, "" for none.
	Role string `json:"role,omitempty"`
	// Authorized: the user is a Developer or higher there, and GitLab reads
	// the entry.
	Authorized bool   `json:"authorized"`
	Why        string `json:"why"`
	level      int
}

// Label names the entry as in the file: `projects[1] group/app`.
func (c UserCandidate) Label() string { return fmt.Sprintf("%ss[%d] %s", c.Kind, c.Index, c.ID) }

// roleAt is the user's role in a project or group: the highest of their
// memberships there and in the groups above it (GitLab's
// max_member_access_for_project / _for_group), or Role for every entry.
func (o *ExplainOptions) roleAt(path string) (string, int) {
	best, level := "", 0
	consider := func(role string) {
		if l, ok := roleLevel(role); ok && l > level {
			best, level = role, l
		}
	}
	if o.Role != "" {
		consider(o.Role)
	}
	for _, m := range o.Memberships {
		if samePath(m.Path, path) || strings.HasPrefix(strings.ToLower(path), strings.ToLower(m.Path)+"/") {
			consider(m.Role)
		}
	}
	return best, level
}

// explainUser explains user_access for a GitLab user, as
// Clusters::Agents::AuthorizeProxyUserService (and its EE override) and
// KAS's constructUserImpersonationConfig
// (internal/module/kubernetes_api/server/proxy.go) decide.
func explainUser(cfg *Config, opts ExplainOptions) *Explanation {
	ex := newExplanation(cfg, opts)
	ex.User = opts.User
	ex.Memberships = []UserCandidate{}
	version := opts.GitLabVersion.orNewest()
	ua := cfg.UserAccess
	if ua == nil {
		ex.Denial = DeniedNoUserAccess
		ex.Reason = "the file has no user_access, so GitLab refuses every user (403 \"`user_access` keyword is not found in agent config file\")"
		return ex
	}
	ex.Memberships = userCandidates(ua, opts)
	mode := AccessAgent
	switch {
	case ua.AccessAs == nil && version.Less(userAccessAsOptional):
		ex.Denial = DeniedNoAccessAs
		ex.Reason = fmt.Sprintf("user_access has no access_as, and GitLab %s refuses every user then (403 \"`access_as` is not found under the `user_access` keyword\"); GitLab 18.3 and later act as the agent", version)
		return ex
	case ua.AccessAs == nil:
		ex.note("user_access has no access_as, so GitLab (18.3 and later) acts as the agent.")
	default:
		mode = ua.AccessAs.Mode
	}
	if mode == AccessUser && !opts.Tier.paid() {
		ex.Denial = DeniedNeedsPremium
		ex.Reason = "user_access acts as the user (access_as: {user: {}}), which needs GitLab Premium: GitLab Free refuses every user (403)"
		return ex
	}
	var authorized []UserCandidate
	for _, c := range ex.Memberships {
		if c.Authorized {
			authorized = append(authorized, c)
		}
	}
	if len(authorized) == 0 {
		ex.Denial = DeniedNotMember
		ex.Reason = fmt.Sprintf("%s is not a Developer or higher in any project or group that user_access lists (403 \"You must be a member of `projects` or `groups` under the `user_access` keyword.\")", opts.User)
		return ex
	}
	ex.Allowed = true
	ex.Reason = fmt.Sprintf("%s is a Developer or higher in %d of the %d entries of user_access", opts.User, len(authorized), len(ex.Memberships))
	if mode == AccessUser && opts.Tier == TierUnknown {
		ex.note("access_as user is a Premium feature; this assumes Premium or Ultimate (pass --tier free to see GitLab Free refuse it).")
	}
	id := agentIdentity()
	if mode == AccessUser {
		id = userIdentity(opts, authorized, version)
		if !id.Exact {
			ex.note("Placeholders such as <id of group/project> stand for IDs that were not given; pass --id PATH=ID for the exact groups.")
		}
		ex.note("Kubernetes grants this identity only what RBAC binds to its user or groups; `kubectl gitlab access rbac --user … / --for-project-id … --role …` writes such bindings.")
	}
	ex.Identity = &id
	return ex
}

// userCandidates lists user_access's entries with the user's role in each.
// GitLab reads the first MaxEntries of each list, and only those in the
// agent project's top-level group unless instance-level authorization is on.
func userCandidates(ua *UserAccess, opts ExplainOptions) []UserCandidate {
	out := []UserCandidate{}
	seen := map[string]bool{}
	for _, list := range [][]UserEntry{ua.Projects, ua.Groups} {
		for _, e := range list {
			if e.ID == "" {
				continue
			}
			c := UserCandidate{Kind: e.Kind, ID: e.ID, Index: e.Index, Line: e.Pos.Line, Column: e.Pos.Column}
			c.Role, c.level = opts.roleAt(e.ID)
			key := string(e.Kind) + ":" + strings.ToLower(e.ID)
			switch {
			case e.Index >= MaxEntries:
				c.Why = fmt.Sprintf("GitLab reads only the first %d entries of the list", MaxEntries)
			case seen[key]:
				c.Why = "listed before; GitLab reads a path once"
			case opts.AgentProject != "" && !opts.InstanceLevelAuthorization && !samePath(topLevel(e.ID), topLevel(opts.AgentProject)):
				c.Why = fmt.Sprintf("outside %s, the top-level group of the agent project, and instance-level authorization is off", topLevel(opts.AgentProject))
			case c.Role == "":
				c.Why = fmt.Sprintf("%s is not a member", opts.User)
			case c.level < developerLevel:
				c.Why = fmt.Sprintf("%s is %s there; user_access needs Developer or higher", opts.User, c.Role)
			default:
				c.Authorized = true
				c.Why = fmt.Sprintf("%s is %s there", opts.User, c.Role)
			}
			seen[key] = true
			out = append(out, c)
		}
	}
	return out
}

// userIdentity is what KAS impersonates for user_access with access_as
// user: `gitlab:user:<username>` in `gitlab:user`, then for every authorized
// project and group one group per role up to the user's
// (`gitlab:project_role:<id>:<role>`, `gitlab:group_role:<id>:<role>`), with
// the agent.gitlab.com extras (proxy.go, impUserGroups and impUserExtra).
func userIdentity(opts ExplainOptions, authorized []UserCandidate, version Version) Identity {
	exact := true
	idOf := func(path string) string {
		for p, id := range opts.IDs {
			if samePath(p, path) {
				return strconv.FormatInt(id, 10)
			}
		}
		exact = false
		return "<id of " + path + ">"
	}
	groups := []string{"gitlab:user"}
	for _, c := range authorized { // projects first, then groups, as KAS lists them

		prefix := "gitlab:project_role:"
		if c.Kind == KindGroup {
			prefix = "gitlab:group_role:"
		}
		id := idOf(c.ID)
		for _, role := range rolesUpTo(c.level, version) {
			groups = append(groups, prefix+id+":"+role)
		}
	}
	userExact := exact
	placeholder := func(v int64, text string) string {
		if v > 0 {
			return strconv.FormatInt(v, 10)
		}
		return text
	}
	one := func(key, value string) ExtraField { return ExtraField{Key: key, Values: []string{value}} }
	return Identity{
		AccessAs:    AccessUser,
		Description: "the GitLab user, impersonated by KAS",
		Username:    "gitlab:user:" + opts.User,
		Groups:      groups,
		Extra: []ExtraField{
			one("agent.gitlab.com/id", placeholder(opts.AgentID, "<agent id>")),
			one("agent.gitlab.com/username", opts.User),
			one("agent.gitlab.com/access_type", "personal_access_token"),
			one("agent.gitlab.com/config_project_id", placeholder(opts.AgentProjectID, "<agent project id>")),
		},
		Exact: userExact,
	}
}
