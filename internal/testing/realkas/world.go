package realkas

import (
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// World is what the fake GitLab knows: groups, projects and who is a
// member with which role, agents and their config.yaml, running CI jobs and
// personal access tokens. Who may use an agent is not set here: it follows,
// as in GitLab, from the agent's config.yaml (ci_access, user_access) and
// the roles.
type World struct {
	Groups   []Group
	Projects []Project
	Users    []User
	Agents   []Agent
	Jobs     []Job
	PATs     []PAT
}

// Role is a member's access level, as GitLab numbers them.
type Role int

// GitLab's roles (Gitlab::Access).
const (
	Guest      Role = 10
	Reporter   Role = 20
	Developer  Role = 30
	Maintainer Role = 40
	Owner      Role = 50
)

// roleNames are GitLab's role names in the order of
// Gitlab::Access.sym_options_with_owner, which KAS puts into
// gitlab:project_role:<id>:<role> groups.
var roleNames = []struct {
	name  string
	level Role
}{{"guest", Guest}, {"reporter", Reporter}, {"developer", Developer}, {"maintainer", Maintainer}, {"owner", Owner}}

// Group is a GitLab group; its parent is the group whose path is this
// path's directory.
type Group struct {
	ID      int64
	Path    string          // full path, e.g. group1/group1-1
	Members map[string]Role // by username; inherited by subgroups and projects
}

// Project is a GitLab project; its namespace is the group whose path is
// this path's directory (or a user's namespace if there is none).
type Project struct {
	ID      int64
	Path    string // full path, e.g. group1/group1-1/project1
	Members map[string]Role
}

// User is a GitLab user.
type User struct {
	ID       int64
	Username string
}

// Agent is a GitLab agent for Kubernetes: agentk runs with Token and KAS
// reads Config from .gitlab/agents/<Name>/config.yaml in the configuration
// project's default branch (through the fake Gitaly).
type Agent struct {
	ID        int64
	Name      string
	ProjectID int64  // the configuration project
	Token     string // agentk's token
	Config    string // config.yaml; "" for no file
}

// Job is a running CI job: its token is CI_JOB_TOKEN.
type Job struct {
	Token       string
	ID          int64
	PipelineID  int64
	ProjectID   int64
	Username    string       // who runs it
	Environment *Environment // nil when the job deploys nowhere
}

// Environment is a job's deployment environment.
type Environment struct {
	Name string // e.g. review/feature-1; ci_access environments match it
	Slug string
	Tier string // production, staging, testing, development or other
}

// PAT is a personal access token.
type PAT struct {
	Token     string
	ID        int64
	Name      string
	Username  string
	Scopes    []string
	Revoked   bool
	ExpiresAt string // YYYY-MM-DD; "" for never
}

// clone copies the world deep enough that changing the copy's entities and
// members leaves the original as it was.
func (w World) clone() World {
	c := World{Users: slices.Clone(w.Users), Agents: slices.Clone(w.Agents), Jobs: slices.Clone(w.Jobs)}
	for _, g := range w.Groups {
		g.Members = maps.Clone(g.Members)
		c.Groups = append(c.Groups, g)
	}
	for _, p := range w.Projects {
		p.Members = maps.Clone(p.Members)
		c.Projects = append(c.Projects, p)
	}
	for _, p := range w.PATs {
		p.Scopes = slices.Clone(p.Scopes)
		c.PATs = append(c.PATs, p)
	}
	for i, j := range c.Jobs {
		if j.Environment != nil {
			env := *j.Environment
			c.Jobs[i].Environment = &env
		}
	}
	return c
}

// find returns the first element of list that match accepts, or nil.
func find[T any](list []T, match func(*T) bool) *T {
	for i := range list {
		if match(&list[i]) {
			return &list[i]
		}
	}
	return nil
}

func (w *World) user(name string) *User {
	return find(w.Users, func(u *User) bool { return u.Username == name })
}

func (w *World) project(id int64) *Project {
	return find(w.Projects, func(p *Project) bool { return p.ID == id })
}

// projectByPath and groupByPath find by full path, as GitLab does:
// whatever the case.
func (w *World) projectByPath(path string) *Project {
	return find(w.Projects, func(p *Project) bool { return strings.EqualFold(p.Path, path) })
}

func (w *World) groupByPath(path string) *Group {
	return find(w.Groups, func(g *Group) bool { return strings.EqualFold(g.Path, path) })
}

func (w *World) agent(id int64) *Agent {
	return find(w.Agents, func(a *Agent) bool { return a.ID == id })
}

// agentByToken, job and pat find by secret; "" finds nothing.
func (w *World) agentByToken(token string) *Agent {
	return find(w.Agents, func(a *Agent) bool { return token != "" && a.Token == token })
}

func (w *World) job(token string) *Job {
	return find(w.Jobs, func(j *Job) bool { return token != "" && j.Token == token })
}

func (w *World) pat(token string) *PAT {
	return find(w.PATs, func(p *PAT) bool { return token != "" && p.Token == token })
}

// ancestors are the groups a path sits in, innermost first (GitLab's
// self_and_ancestors(hierarchy_order: :asc) of the project's group).
func (w *World) ancestors(fullPath string) []*Group {
	var out []*Group
	for dir := path.Dir(fullPath); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if g := w.groupByPath(dir); g != nil {
			out = append(out, g)
		}
	}
	return out
}

// rootNamespace is the first element of a full path: the top-level group or
// user namespace.
func rootNamespace(fullPath string) string {
	root, _, _ := strings.Cut(fullPath, "/")
	return strings.ToLower(root)
}

// projectAccess is the user's highest role in the project, direct or
// inherited from its groups (max_member_access_for_project).
func (w *World) projectAccess(p *Project, username string) Role {
	best := p.Members[username]
	for _, g := range w.ancestors(p.Path) {
		best = max(best, g.Members[username])
	}
	return best
}

// groupAccess is the user's highest role in the group or its ancestors
// (max_member_access_for_group).
func (w *World) groupAccess(g *Group, username string) Role {
	best := g.Members[username]
	for _, a := range w.ancestors(g.Path) {
		best = max(best, a.Members[username])
	}
	return best
}

// rolesUpTo lists the role names at or below level, as GitLab reports
// roles_in_project and the roles of user_access.
func rolesUpTo(level Role) []string {
	out := []string{}
	for _, r := range roleNames {
		if r.level <= level {
			out = append(out, r.name)
		}
	}
	return out
}

// expired: a token expires at the start of its expires_at day, UTC.
func (p *PAT) expired(now time.Time) bool {
	if p.ExpiresAt == "" {
		return false
	}
	day, err := time.Parse(time.DateOnly, p.ExpiresAt)
	return err == nil && !now.UTC().Before(day)
}
