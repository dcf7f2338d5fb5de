package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BindingOptions describes the RBAC binding to write for the identities KAS
// impersonates: CI jobs with `access_as: {ci_job: {}}`, and GitLab users
// with user_access's `access_as: {user: {}}`. The zero value gives the
// GitLab documentation's example: ClusterRoleBinding `ci-job-view` binding
// ClusterRole `view` to group `gitlab:ci_job`, i.e. every CI job.
type BindingOptions struct {
	// Name of the binding; derived from the subjects and role when empty.
	Name string
	// Namespace makes a RoleBinding in that namespace; empty makes a
	// ClusterRoleBinding.
	Namespace string
	// ClusterRole is the role to bind: view (the default), edit, admin or
	// any other ClusterRole.
	ClusterRole string
	// Groups are subjects given verbatim, such as `gitlab:project:150`.
	Groups []string
	// ProjectID adds the group of one project's jobs: `gitlab:project:<id>`,
	// narrowed by Environment to `gitlab:project_env:<id>:<slug>`, or by
	// EnvironmentTier to `gitlab:project_env_tier:<id>:<tier>`.
	ProjectID int64
	// GroupID adds the group of every project in a GitLab group and its
	// subgroups: `gitlab:group:<id>`, narrowed by EnvironmentTier to
	// `gitlab:group_env_tier:<id>:<tier>`. Environment, which has no group
	// form, needs ProjectID.
	GroupID int64
	// Environment is an environment name (its slug is derived as GitLab
	// does) or slug.
	Environment     string
	EnvironmentTier string
	// Role switches ProjectID and GroupID to user_access's groups: the
	// members with this role or a higher one,
	// `gitlab:project_role:<id>:<role>` and `gitlab:group_role:<id>:<role>`.
	Role string
	// Users are GitLab usernames, bound as the users KAS impersonates for
	// user_access: `gitlab:user:<username>`.
	Users []string
}

// RBAC API identifiers.
const (
	rbacAPIGroup   = "rbac.authorization.k8s.io"
	rbacAPIVersion = rbacAPIGroup + "/v1"
)

// Binding is a rbac.authorization.k8s.io/v1 RoleBinding or
// ClusterRoleBinding, with the fields in the order of GitLab's example.
type Binding struct {
	APIVersion string      `json:"apiVersion" yaml:"apiVersion"`
	Kind       string      `json:"kind" yaml:"kind"`
	Metadata   BindingMeta `json:"metadata" yaml:"metadata"`
	RoleRef    RoleRef     `json:"roleRef" yaml:"roleRef"`
	Subjects   []Subject   `json:"subjects" yaml:"subjects"`
	// Notes explain derived values, such as an environment slug; they are
	// not part of the object.
	Notes []string `json:"-" yaml:"-"`
}

// BindingMeta is the object metadata a binding needs.
type BindingMeta struct {
	Name      string `json:"name" yaml:"name"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
}

// RoleRef names the bound role.
type RoleRef struct {
	Name     string `json:"name" yaml:"name"`
	Kind     string `json:"kind" yaml:"kind"`
	APIGroup string `json:"apiGroup" yaml:"apiGroup"`
}

// Subject is a Group or User subject. Like GitLab's example it leaves
// apiGroup out; the API server defaults it to rbac.authorization.k8s.io for
// groups and users.
type Subject struct {
	Name string `json:"name" yaml:"name"`
	Kind string `json:"kind" yaml:"kind"`
}

// NewBinding builds the binding; it returns an error, saying which option is
// wrong and how, for options that cannot make a valid object.
func NewBinding(opts BindingOptions) (*Binding, error) {
	role := opts.ClusterRole
	if role == "" {
		role = "view"
	}
	var errs []error
	if msg := checkRoleName(role); msg != "" {
		errs = append(errs, fmt.Errorf("cluster role %q %s", role, msg))
	}
	if opts.Namespace != "" {
		if msg := checkDNSLabel(opts.Namespace); msg != "" {
			errs = append(errs, fmt.Errorf("namespace %q is not a namespace name: it %s", opts.Namespace, msg))
		}
	}
	subjects, notes, err := bindingSubjects(opts)
	if err != nil {
		errs = append(errs, err)
	}
	name := opts.Name
	if name == "" {
		parts := make([]string, 0, len(subjects)+1)
		for _, s := range subjects {
			parts = append(parts, strings.TrimPrefix(s.Name, "gitlab:"))
		}
		name = dnsName(append(parts, role)...)
	} else if msg := checkDNSSubdomain(name); msg != "" {
		errs = append(errs, fmt.Errorf("binding name %q is not a valid Kubernetes name: it %s; for instance %q would do", name, msg, dnsName(name)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	b := &Binding{
		APIVersion: rbacAPIVersion,
		Kind:       "ClusterRoleBinding",
		Metadata:   BindingMeta{Name: name},
		RoleRef:    RoleRef{Name: role, Kind: "ClusterRole", APIGroup: rbacAPIGroup},
		Notes:      notes,
	}
	if opts.Namespace != "" {
		b.Kind = "RoleBinding"
		b.Metadata.Namespace = opts.Namespace
	}
	b.Subjects = subjects
	return b, nil
}

// bindingSubjects lists the users, then the groups.
func bindingSubjects(opts BindingOptions) ([]Subject, []string, error) {
	var subjects []Subject
	var errs []error
	for i, u := range opts.Users {
		if u == "" || strings.ContainsAny(u, " /:@") {
			errs = append(errs, fmt.Errorf("user %d (%q) is not a GitLab username (no spaces, `/`, `:` or `@`)", i, u))
			continue
		}
		subjects = append(subjects, Subject{Name: "gitlab:user:" + u, Kind: "User"})
	}
	groups, notes, err := bindingGroups(opts)
	if err != nil {
		errs = append(errs, err)
	}
	for _, g := range groups {
		subjects = append(subjects, Subject{Name: g, Kind: "Group"})
	}
	return subjects, notes, errors.Join(errs...)
}

// bindingGroups lists the group subjects: the explicit ones, then the one
// derived from the project or group, or `gitlab:ci_job` when there is none.
func bindingGroups(opts BindingOptions) (groups, notes []string, err error) {
	var errs []error
	seen := map[string]bool{}
	addGroup := func(g string) {
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	for i, g := range opts.Groups {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, fmt.Errorf("group %d is empty: name a group such as gitlab:project:150", i))
			continue
		}
		addGroup(g)
	}
	if opts.ProjectID < 0 || opts.GroupID < 0 {
		errs = append(errs, errors.New("project and group IDs are positive numbers"))
	}
	if opts.EnvironmentTier != "" {
		if err := checkTier(opts.EnvironmentTier); err != nil {
			errs = append(errs, err)
		}
	}
	slug := ""
	if opts.Environment != "" {
		if msg := checkEnvironment(opts.Environment, false); msg != "" {
			errs = append(errs, fmt.Errorf("environment: %s", msg))
		}
		slug = EnvironmentSlug(opts.Environment)
		if slug != opts.Environment {
			notes = append(notes, fmt.Sprintf("KAS names the environment by its slug: %s, derived from %s with GitLab's rule (an environment created by an older GitLab may have another slug; check it on the Environments page).", slug, opts.Environment))
		}
	}
	if opts.Role != "" {
		if _, ok := roleLevel(opts.Role); !ok {
			errs = append(errs, fmt.Errorf("role %q is not one of %s", opts.Role, roleNames()))
		}
		if opts.ProjectID <= 0 && opts.GroupID <= 0 {
			errs = append(errs, errors.New("a role narrows the members of a project or group: give the project ID or the group ID too (gitlab:project_role:<id>:<role>)"))
		}
		if opts.Environment != "" || opts.EnvironmentTier != "" {
			errs = append(errs, errors.New("a role is for user_access, and environments for CI jobs: give one or the other"))
		}
		notes = append(notes, fmt.Sprintf("KAS gives a user every role up to their own, so %s covers the members with that role or a higher one.", opts.Role))
	}
	switch {
	case opts.Role != "":
	case opts.Environment != "" && opts.ProjectID <= 0:
		errs = append(errs, errors.New("an environment narrows a project's group: give the project ID too (gitlab:project_env:<project id>:<environment slug>)"))
	case opts.Environment != "" && opts.EnvironmentTier != "":
		errs = append(errs, errors.New("give either an environment or a tier, not both: one binding to both groups would admit jobs that match either"))
	case opts.EnvironmentTier != "" && opts.ProjectID <= 0 && opts.GroupID <= 0:
		errs = append(errs, errors.New("a tier narrows a project's or a group's group: give the project ID or the group ID too"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if opts.ProjectID > 0 {
		id := strconv.FormatInt(opts.ProjectID, 10)
		switch {
		case opts.Role != "":
			addGroup("gitlab:project_role:" + id + ":" + opts.Role)
		case opts.Environment != "":
			addGroup("gitlab:project_env:" + id + ":" + slug)
		case opts.EnvironmentTier != "":
			addGroup("gitlab:project_env_tier:" + id + ":" + opts.EnvironmentTier)
		default:
			addGroup("gitlab:project:" + id)
		}
	}
	if opts.GroupID > 0 {
		id := strconv.FormatInt(opts.GroupID, 10)
		if opts.Role != "" {
			addGroup("gitlab:group_role:" + id + ":" + opts.Role)
		} else if opts.EnvironmentTier != "" {
			addGroup("gitlab:group_env_tier:" + id + ":" + opts.EnvironmentTier)
		} else {
			addGroup("gitlab:group:" + id)
		}
	}
	if len(groups) == 0 && len(opts.Users) == 0 {
		addGroup("gitlab:ci_job")
	}
	return groups, notes, nil
}

// WriteYAML writes the binding as a YAML manifest for `kubectl apply -f`.
func (b *Binding) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(b); err != nil {
		return err
	}
	return enc.Close()
}

// WriteJSON writes the binding as an indented JSON manifest.
func (b *Binding) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // placeholders such as <job id> stay readable
	return enc.Encode(b)
}
