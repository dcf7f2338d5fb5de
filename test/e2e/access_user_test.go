package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testapiserver"
)

// TestClusterUserAccessRBAC: for user_access, the identities that
// `access explain --user` says KAS impersonates get, from the bindings that
// `access rbac` writes, exactly the rights meant, on a real API server. The
// configuration is the user_access page's example; the users authenticate
// to the API server as those identities (KAS itself is not in the path).
func TestClusterUserAccessRBAC(t *testing.T) {
	api := testapiserver.Start(t)
	admin := api.AdminKubeconfig(t)
	k := kubectls(t)[0]
	e := newEnv(t)
	config := filepath.Join(moduleRoot(), "testdata", "access", "corpus", "gitlabhq", "user_access", "access-as-user.yaml")
	ids := []string{"--id", "group-1/project-1=1", "--id", "group-2/project-2=2", "--id", "group-2=2", "--id", "group-3/subgroup=4"}
	asAdmin := func(stdin string, args ...string) result {
		return runStdin(t, nil, stdin, k.Path, append([]string{"--kubeconfig", admin}, args...)...)
	}
	// identity runs access explain for a user and returns whom KAS
	// impersonates, as a kubeconfig of the API server for that user.
	identity := func(args ...string) string {
		r := e.run(k.Path, append(append([]string{"gitlab", "access", "explain", config, "-o", "json"}, ids...), args...)...).ok(t, `"allowed": true`)
		var ex struct {
			Identity struct {
				Username string
				Groups   []string
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil {
			t.Fatal(err)
		}
		return api.Kubeconfig(t, ex.Identity.Username, ex.Identity.Groups...)
	}
	bob := identity("--user", "bob", "--member", "group-2=maintainer")
	dave := identity("--user", "dave", "--member", "group-2/project-2=developer")
	alice := identity("--user", "alice", "--member", "group-1=developer")

	asAdmin("", "create", "namespace", "ns").ok(t, "namespace/ns created")
	// No controller-manager fills the aggregated view and edit roles here:
	// roles of our own.
	asAdmin(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: configmap-editor}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list, create, update, delete]}]
`, "apply", "-f", "-").ok(t, "clusterrole.rbac.authorization.k8s.io/pod-reader created")
	// The page's binding: maintainers of project 2 may read pods everywhere.
	maintainers := e.run(k.Path, "gitlab", "access", "rbac", "--for-project-id", "2", "--role", "maintainer", "--clusterrole", "pod-reader").ok(t, "gitlab:project_role:2:maintainer")
	asAdmin(maintainers.stdout, "apply", "-f", "-").ok(t, "clusterrolebinding.rbac.authorization.k8s.io/project-role-2-maintainer-pod-reader created")
	// One user may edit configmaps in namespace ns.
	user := e.run(k.Path, "gitlab", "access", "rbac", "--user", "alice", "--clusterrole", "configmap-editor", "--namespace", "ns").ok(t, "kind: User", "gitlab:user:alice")
	asAdmin(user.stdout, "apply", "-f", "-").ok(t, "rolebinding.rbac.authorization.k8s.io/user-alice-configmap-editor created")
	api.WaitForAccess(t,
		testapiserver.Access{User: "gitlab:user:bob", Groups: []string{"gitlab:project_role:2:maintainer"}, Verb: "list", Resource: "pods"},
		testapiserver.Access{User: "gitlab:user:alice", Verb: "create", Resource: "configmaps", Namespace: "ns"})

	can := func(kubeconfig string, args ...string) result {
		return e.run(k.Path, append([]string{"--kubeconfig", kubeconfig, "auth", "can-i"}, args...)...)
	}
	can(bob, "list", "pods", "--all-namespaces").ok(t, "yes")
	can(bob, "create", "configmaps", "-n", "ns").fails(t)
	can(dave, "list", "pods", "--all-namespaces").fails(t) // a developer is not a maintainer
	can(alice, "create", "configmaps", "-n", "ns").ok(t, "yes")
	can(alice, "create", "configmaps", "-n", "default").fails(t)
	can(alice, "list", "pods", "-n", "kube-system").fails(t)
}
