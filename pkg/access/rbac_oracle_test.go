// The oracle for the bindings: client-go's own rbac/v1 types, decoded by
// apimachinery's strict YAML serializer.
package access

import (
	"bytes"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
)

func strictRBACDecode(t *testing.T, data []byte) runtime.Object {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := rbacv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	s := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	obj, _, err := s.Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("strict decode with rbac/v1: %v\n%s", err, data)
	}
	return obj
}

func TestBindingOracleClientGo(t *testing.T) {
	typeMeta := func(kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}
	}
	roleRef := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}
	}
	tests := []struct {
		name string
		opts BindingOptions
		want runtime.Object
	}{
		{name: "the page's example", opts: BindingOptions{}, want: &rbacv1.ClusterRoleBinding{
			TypeMeta: typeMeta("ClusterRoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: "ci-job-view"},
			RoleRef: roleRef("view"), Subjects: []rbacv1.Subject{{Kind: "Group", Name: "gitlab:ci_job"}}}},
		{name: "role binding for a project environment", opts: BindingOptions{Namespace: "prod", ClusterRole: "edit", ProjectID: 150, Environment: "prod"},
			want: &rbacv1.RoleBinding{
				TypeMeta: typeMeta("RoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: "project-env-150-prod-edit", Namespace: "prod"},
				RoleRef: roleRef("edit"), Subjects: []rbacv1.Subject{{Kind: "Group", Name: "gitlab:project_env:150:prod"}}}},
		{name: "several groups", opts: BindingOptions{Groups: []string{"gitlab:group:23", "gitlab:group:25"}, ClusterRole: "system:aggregate-to-view"},
			want: &rbacv1.ClusterRoleBinding{
				TypeMeta: typeMeta("ClusterRoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: "group-23-group-25-system-aggregate-to-view"},
				RoleRef:  roleRef("system:aggregate-to-view"),
				Subjects: []rbacv1.Subject{{Kind: "Group", Name: "gitlab:group:23"}, {Kind: "Group", Name: "gitlab:group:25"}}}},
		// user_access: the user_access page's example, a user, a group role.
		{name: "maintainers of project 123 (the user_access page)", opts: BindingOptions{Name: "my-cluster-role-binding", ProjectID: 123, Role: "maintainer"},
			want: &rbacv1.ClusterRoleBinding{
				TypeMeta: typeMeta("ClusterRoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: "my-cluster-role-binding"},
				RoleRef: roleRef("view"), Subjects: []rbacv1.Subject{{Kind: "Group", Name: "gitlab:project_role:123:maintainer"}}}},
		{name: "one user and a group's developers", opts: BindingOptions{Users: []string{"alice"}, GroupID: 2, Role: "developer", ClusterRole: "edit", Namespace: "shop"},
			want: &rbacv1.RoleBinding{
				TypeMeta: typeMeta("RoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: "user-alice-group-role-2-developer-edit", Namespace: "shop"},
				RoleRef: roleRef("edit"), Subjects: []rbacv1.Subject{{Kind: "User", Name: "gitlab:user:alice"}, {Kind: "Group", Name: "gitlab:group_role:2:developer"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bindingYAML(t, tt.opts)
			got := strictRBACDecode(t, data)
			if !apiequality.Semantic.DeepEqual(got, tt.want) {
				t.Errorf("decoded %#v\nwant    %#v", got, tt.want)
			}
		})
	}
	// The page's own YAML decodes to the same object as ours.
	page := strictRBACDecode(t, readTestdata(t, "rbac/ci-job-view.yaml"))
	if !apiequality.Semantic.DeepEqual(page, tests[0].want) {
		t.Errorf("page example decodes to %#v", page)
	}
	userPage := strictRBACDecode(t, readTestdata(t, "rbac/user-access-project-role.yaml"))
	if !apiequality.Semantic.DeepEqual(userPage, tests[3].want) {
		t.Errorf("the user_access page's example decodes to %#v", userPage)
	}
	// Strictness check of the oracle itself: an unknown field is refused.
	scheme := runtime.NewScheme()
	_ = rbacv1.AddToScheme(scheme)
	s := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	bad := bytes.Replace(bindingYAML(t, BindingOptions{}), []byte("roleRef:"), []byte("roleref:"), 1)
	if _, _, err := s.Decode(bad, nil, nil); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("oracle is not strict: %v", err)
	}
}
