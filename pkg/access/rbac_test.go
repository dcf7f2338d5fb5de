package access

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The rbac.authorization.k8s.io/v1 shapes (k8s.io/api/rbac/v1), mirrored for
// a strict decode: every key the output holds must be a field of the real
// type. The build-tagged rbac_oracle_test.go decodes with the real types.
type (
	rbacObjectMeta struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
	}
	rbacRoleRef struct {
		APIGroup string `yaml:"apiGroup"`
		Kind     string `yaml:"kind"`
		Name     string `yaml:"name"`
	}
	rbacSubject struct {
		Kind      string `yaml:"kind"`
		APIGroup  string `yaml:"apiGroup,omitempty"`
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace,omitempty"`
	}
	rbacBinding struct {
		APIVersion string         `yaml:"apiVersion"`
		Kind       string         `yaml:"kind"`
		Metadata   rbacObjectMeta `yaml:"metadata"`
		RoleRef    rbacRoleRef    `yaml:"roleRef"`
		Subjects   []rbacSubject  `yaml:"subjects"`
	}
)

func decodeBindingStrict(t *testing.T, data []byte) rbacBinding {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var b rbacBinding
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	return b
}

func bindingYAML(t *testing.T, opts BindingOptions) []byte {
	t.Helper()
	b, err := NewBinding(opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := b.WriteYAML(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestBindingDefaultIsThePageExample(t *testing.T) {
	page := readTestdata(t, "rbac/ci-job-view.yaml")
	got := bindingYAML(t, BindingOptions{})
	if !bytes.Equal(got, page) {
		t.Errorf("default binding differs from the page's example\n got:\n%s\nwant:\n%s", got, page)
	}
	want := rbacBinding{
		APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding",
		Metadata: rbacObjectMeta{Name: "ci-job-view"},
		RoleRef:  rbacRoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacSubject{{Kind: "Group", Name: "gitlab:ci_job"}},
	}
	if obj := decodeBindingStrict(t, got); !reflect.DeepEqual(obj, want) {
		t.Errorf("decoded %+v\nwant    %+v", obj, want)
	}
	if obj := decodeBindingStrict(t, page); !reflect.DeepEqual(obj, want) {
		t.Errorf("the page's example decodes to %+v", obj)
	}
}

func TestBindingVariants(t *testing.T) {
	group := func(names ...string) []rbacSubject {
		var s []rbacSubject
		for _, n := range names {
			s = append(s, rbacSubject{Kind: "Group", Name: n})
		}
		return s
	}
	tests := []struct {
		name      string
		opts      BindingOptions
		kind      string
		meta      rbacObjectMeta
		role      string
		subjects  []rbacSubject
		wantNotes int
	}{
		{name: "project in a namespace, edit",
			opts: BindingOptions{Namespace: "apps", ClusterRole: "edit", ProjectID: 150},
			kind: "RoleBinding", meta: rbacObjectMeta{Name: "project-150-edit", Namespace: "apps"}, role: "edit",
			subjects: group("gitlab:project:150")},
		{name: "project environment",
			opts: BindingOptions{Namespace: "prod", ClusterRole: "edit", ProjectID: 150, Environment: "prod"},
			kind: "RoleBinding", meta: rbacObjectMeta{Name: "project-env-150-prod-edit", Namespace: "prod"}, role: "edit",
			subjects: group("gitlab:project_env:150:prod")},
		{name: "environment name becomes its slug",
			opts: BindingOptions{ProjectID: 150, Environment: "review/feature-1"},
			kind: "ClusterRoleBinding", meta: rbacObjectMeta{Name: "project-env-150-review-feature-1-1q251u-view"}, role: "view",
			subjects: group("gitlab:project_env:150:review-feature-1-1q251u"), wantNotes: 1},
		{name: "project tier",
			opts: BindingOptions{ProjectID: 150, EnvironmentTier: "production", ClusterRole: "admin"},
			kind: "ClusterRoleBinding", meta: rbacObjectMeta{Name: "project-env-tier-150-production-admin"}, role: "admin",
			subjects: group("gitlab:project_env_tier:150:production")},
		{name: "group tier",
			opts: BindingOptions{GroupID: 23, EnvironmentTier: "staging"},
			kind: "ClusterRoleBinding", meta: rbacObjectMeta{Name: "group-env-tier-23-staging-view"}, role: "view",
			subjects: group("gitlab:group_env_tier:23:staging")},
		{name: "explicit groups, deduplicated, with a role name that has colons",
			opts: BindingOptions{Groups: []string{"gitlab:group:23", "deployers", "gitlab:group:23"}, ClusterRole: "system:aggregate-to-view"},
			kind: "ClusterRoleBinding", meta: rbacObjectMeta{Name: "group-23-deployers-system-aggregate-to-view"}, role: "system:aggregate-to-view",
			subjects: group("gitlab:group:23", "deployers")},
		{name: "explicit name",
			opts: BindingOptions{Name: "ci.deploy-prod", Namespace: "prod", ProjectID: 1},
			kind: "RoleBinding", meta: rbacObjectMeta{Name: "ci.deploy-prod", Namespace: "prod"}, role: "view",
			subjects: group("gitlab:project:1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewBinding(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Notes) != tt.wantNotes {
				t.Errorf("notes = %q", b.Notes)
			}
			var out bytes.Buffer
			if err := b.WriteYAML(&out); err != nil {
				t.Fatal(err)
			}
			got := decodeBindingStrict(t, out.Bytes())
			want := rbacBinding{
				APIVersion: "rbac.authorization.k8s.io/v1", Kind: tt.kind, Metadata: tt.meta,
				RoleRef:  rbacRoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: tt.role},
				Subjects: tt.subjects,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %+v\nwant    %+v\n%s", got, want, out.String())
			}
			if msg := checkDNSSubdomain(got.Metadata.Name); msg != "" {
				t.Errorf("name %q %s", got.Metadata.Name, msg)
			}
		})
	}
}

func TestBindingNamesStayValid(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, opts := range []BindingOptions{
		{Groups: []string{long}},
		{Groups: []string{long + "a"}},
		{Groups: []string{"ÄÖÜ:::", "-"}, ClusterRole: "Weird:Role"},
		{Groups: []string{"..."}},
	} {
		b, err := NewBinding(opts)
		if err != nil {
			t.Fatal(err)
		}
		if msg := checkDNSLabel(b.Metadata.Name); msg != "" {
			t.Errorf("%+v: name %q %s", opts, b.Metadata.Name, msg)
		}
	}
	a, _ := NewBinding(BindingOptions{Groups: []string{long}})
	b, _ := NewBinding(BindingOptions{Groups: []string{long + "a"}})
	if a.Metadata.Name == b.Metadata.Name {
		t.Errorf("shortened names collide: %s", a.Metadata.Name)
	}
}

func TestBindingOptionErrors(t *testing.T) {
	for _, tt := range []struct {
		opts BindingOptions
		want string
	}{
		{BindingOptions{Name: "CI_Job"}, `binding name "CI_Job" is not a valid Kubernetes name`},
		{BindingOptions{Namespace: "Prod"}, `namespace "Prod" is not a namespace name`},
		{BindingOptions{ClusterRole: "a/b"}, "cannot contain `/`"},
		{BindingOptions{Environment: "prod"}, "give the project ID too"},
		{BindingOptions{ProjectID: 1, Environment: "prod", EnvironmentTier: "production"}, "either an environment or a tier"},
		{BindingOptions{EnvironmentTier: "production"}, "give the project ID or the group ID too"},
		{BindingOptions{ProjectID: 1, EnvironmentTier: "prod"}, "not one of GitLab's tiers"},
		{BindingOptions{Groups: []string{" "}}, "group 0 is empty"},
		{BindingOptions{ProjectID: -1}, "positive"},
		{BindingOptions{Role: "developer"}, "give the project ID or the group ID too (gitlab:project_role:<id>:<role>)"},
		{BindingOptions{ProjectID: 1, Role: "boss"}, `role "boss" is not one of`},
		{BindingOptions{ProjectID: 1, Role: "developer", Environment: "prod"}, "a role is for user_access, and environments for CI jobs"},
		{BindingOptions{Users: []string{"a b"}}, "is not a GitLab username"},
	} {
		_, err := NewBinding(tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.want)
		}
	}
}

// Roles bind the members with that role or a higher one: KAS gives every
// role up to the user's own.
func TestBindingRoleNote(t *testing.T) {
	b, err := NewBinding(BindingOptions{ProjectID: 150, Role: "developer"})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Notes) != 1 || !strings.Contains(b.Notes[0], "so developer covers the members with that role or a higher one") {
		t.Errorf("notes = %q", b.Notes)
	}
	if b.Subjects[0] != (Subject{Name: "gitlab:project_role:150:developer", Kind: "Group"}) || b.Metadata.Name != "project-role-150-developer-view" {
		t.Errorf("binding = %+v", b)
	}
}

func TestBindingJSON(t *testing.T) {
	b, err := NewBinding(BindingOptions{Namespace: "apps", ProjectID: 7})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := b.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	want := `{
  "apiVersion": "rbac.authorization.k8s.io/v1",
  "kind": "RoleBinding",
  "metadata": {
    "name": "project-7-view",
    "namespace": "apps"
  },
  "roleRef": {
    "name": "view",
    "kind": "ClusterRole",
    "apiGroup": "rbac.authorization.k8s.io"
  },
  "subjects": [
    {
      "name": "gitlab:project:7",
      "kind": "Group"
    }
  ]
}
`
	if out.String() != want {
		t.Errorf("got\n%s", out.String())
	}
}
