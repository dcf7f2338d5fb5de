package kubeconfig

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// gitlabJobKubeconfig is a job's kubeconfig as GitLab renders it, for
// agents with these default namespaces (Psych quotes '123' and 'yes'; it
// leaves 1e3 and 0o17 plain).
func gitlabJobKubeconfig(t *testing.T, namespaces ...string) []byte {
	t.Helper()
	spec := testkas.KubeconfigSpec{ProxyURL: "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", JobToken: "glcbt-64_tok"}
	for i, ns := range namespaces {
		spec.Agents = append(spec.Agents, testkas.KubeconfigAgent{ID: int64(11 + i), ConfigProjectPath: "group/agents", Name: "agent" + ns, DefaultNamespace: ns})
	}
	data, err := testkas.RenderJobKubeconfig(spec)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeDocument parses and decodes x.yaml.
func decodeDocument(t *testing.T, data []byte) (*Document, Config) {
	t.Helper()
	doc, err := ParseDocument("x.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := doc.Config()
	if err != nil {
		t.Fatal(err)
	}
	return doc, cfg
}

// TestMisreadIsWhatClientGoRefuses: the values listed are exactly those
// that make client-go refuse GitLab's file, and quoting them (as
// use-context --namespace does) makes it load.
func TestMisreadIsWhatClientGoRefuses(t *testing.T) {
	for _, c := range []struct {
		namespaces []string
		misread    []string
	}{
		{[]string{"apps", "123", "yes", "kube-system"}, nil},
		{[]string{"apps", "1e3"}, []string{`x.yaml:24: the namespace of context "group/agents:agent1e3", 1e3, is unquoted: kubectl reads it as a number and refuses the whole file`}},
		{[]string{"0o17", "1e-3"}, []string{`x.yaml:19: the namespace of context "group/agents:agent0o17", 0o17`, `x.yaml:24: the namespace of context "group/agents:agent1e-3", 1e-3`}},
	} {
		data := gitlabJobKubeconfig(t, c.namespaces...)
		doc, cfg := decodeDocument(t, data)
		if len(cfg.Misread) != len(c.misread) {
			t.Fatalf("%v: misread %v\n%s", c.namespaces, cfg.Misread, data)
		}
		for i, m := range cfg.Misread {
			if !strings.HasPrefix(m.String(), c.misread[i]) {
				t.Errorf("%v: %s, want %s", c.namespaces, m, c.misread[i])
			}
		}
		_, err := clientcmd.Load(data)
		if (err != nil) != (len(c.misread) > 0) {
			t.Errorf("%v: client-go: %v", c.namespaces, err)
		}
		for _, m := range cfg.Misread {
			if err := doc.SetContextNamespace(m.Name, m.Value); err != nil {
				t.Fatal(err)
			}
		}
		loadWithClientcmd(t, doc.Bytes())
		if cfg, _ := doc.Config(); len(cfg.Misread) != 0 {
			t.Errorf("still misread: %v", cfg.Misread)
		}
	}
}

// TestMisreadNamesEveryStringField: names, servers, tokens and the
// current context count too; a tagged !!str does not.
func TestMisreadNamesEveryStringField(t *testing.T) {
	data := []byte(`apiVersion: v1
kind: Config
clusters:
- name: 1e3
  cluster:
    server: !!str 12
users:
- name: u
  user:
    token: 0o17
    exec:
      args: [yes, "1"]
contexts:
- name: c
  context: {cluster: 1e3, user: u, namespace: '1e3'}
current-context: 12
`)
	_, cfg := decodeDocument(t, data)
	var got []string
	for _, m := range cfg.Misread {
		got = append(got, m.String())
	}
	want := []string{
		"x.yaml:4: the name of a cluster, 1e3, is unquoted: kubectl reads it as a number and refuses the whole file",
		`x.yaml:10: the token of user "u", 0o17, is unquoted: kubectl reads it as a number and refuses the whole file`,
		`x.yaml:12: the exec.args[] of user "u", yes, is unquoted: kubectl reads it as true or false and refuses the whole file`,
		`x.yaml:15: the cluster of context "c", 1e3, is unquoted: kubectl reads it as a number and refuses the whole file`,
		"x.yaml:16: current-context, 12, is unquoted: kubectl reads it as a number and refuses the whole file",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUpsertKeepsWhatReadsTheSame: setting a field to the value it has
// keeps its bytes (GitLab's quoting); one kubectl misreads is quoted.
func TestUpsertKeepsWhatReadsTheSame(t *testing.T) {
	data := gitlabJobKubeconfig(t, "123", "y", "apps")
	doc, err := ParseDocument("x.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	for i, ns := range []string{"123", "y", "apps"} {
		name := "group/agents:agent" + ns
		if err := doc.UpsertContext(name, Map{{Key: "cluster", Value: "gitlab"}, {Key: "user", Value: fmt.Sprintf("agent:%d", 11+i)}, {Key: "namespace", Value: ns}}); err != nil {
			t.Fatal(err)
		}
		if err := doc.SetContextNamespace(name, ns); err != nil {
			t.Fatal(err)
		}
	}
	if err := doc.UpsertCluster("gitlab", Map{{Key: "server", Value: "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/"}}); err != nil {
		t.Fatal(err)
	}
	if string(doc.Bytes()) != string(data) {
		t.Errorf("bytes changed:\n%s\nwas\n%s", doc.Bytes(), data)
	}
	for _, quoted := range []string{"namespace: '123'", `namespace: "y"`} {
		if !strings.Contains(string(data), quoted) {
			t.Errorf("Psych's %s is not in the test's file", quoted)
		}
	}
}
