package kubeconfig

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testdataDir = "../../testdata/kubeconfig"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// loadWithClientcmd is the oracle: every file we write must load in client-go.
func loadWithClientcmd(t *testing.T, data []byte) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatalf("client-go cannot load the result: %v\n%s", err, data)
	}
	return cfg
}

func edit(t *testing.T, data []byte, edits ...func(*Document) error) []byte {
	t.Helper()
	d, err := ParseDocument("test.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		if err := e(d); err != nil {
			t.Fatal(err)
		}
	}
	return d.Bytes()
}

// TestGoldenEdits edits files with comments, odd indentation and key order
// and compares the result byte for byte with a reviewed golden file.
func TestGoldenEdits(t *testing.T) {
	ca := "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
	cases := []struct {
		name, input string
		edits       []func(*Document) error
	}{
		{"commented.use-context", "commented.yaml", []func(*Document) error{
			func(d *Document) error { return d.SetClusterCA("gitlab", ca) },
			func(d *Document) error { return d.SetContextNamespace("group/agents:prod", "apps") },
			func(d *Document) error { return d.SetCurrentContext("group/agents:prod") },
		}},
		{"commented.update-kubeconfig", "commented.yaml", []func(*Document) error{
			func(d *Document) error {
				return d.UpsertUser("agent:1234", Map{{Key: "exec", Value: Map{
					{Key: "apiVersion", Value: "client.authentication.k8s.io/v1"}, {Key: "command", Value: "kubectl-gitlab"},
					{Key: "args", Value: List{"get-token", "--agent-id=1234"}}, {Key: "interactiveMode", Value: "Never"}}}})
			},
			func(d *Document) error {
				return d.UpsertContext("group/agents:new", Map{{Key: "cluster", Value: "gitlab"}, {Key: "user", Value: "agent:1234"}, {Key: "namespace", Value: "new"}})
			},
			func(d *Document) error { return d.SetContextNamespace("group/agents:dev", "dev") },
		}},
		{"job-gitlab-deploy.use-context", "job-gitlab-deploy.yaml", []func(*Document) error{
			func(d *Document) error { return d.SetClusterCA("gitlab", ca) },
			func(d *Document) error { return d.SetCurrentContext("group/agents:prod") },
		}},
		{"job-agents.use-context", "job-agents.yaml", []func(*Document) error{
			func(d *Document) error { return d.SetCurrentContext("group/sub/infra:staging") },
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := readTestdata(t, c.input)
			got := edit(t, in, c.edits...)
			loadWithClientcmd(t, got)
			golden := filepath.Join(testdataDir, "golden", c.name+".yaml")
			if *update {
				os.WriteFile(golden, got, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("result differs from %s:\n%s", golden, lineDiff(string(want), string(got)))
			}
			assertOnlyChangedLines(t, in, got, c.name)
		})
	}
}

// assertOnlyChangedLines checks that every input line that survives keeps
// its order: the edit inserted or replaced lines, it never moved others.
func assertOnlyChangedLines(t *testing.T, before, after []byte, name string) {
	t.Helper()
	a, b := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	kept := lcs(a, b)
	changed := len(a) - kept
	if changed > 6 {
		t.Errorf("%s: %d of %d lines changed; an edit should touch only a few", name, changed, len(a))
	}
}

func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	for i := range a {
		cur := make([]int, len(b)+1)
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev = cur
	}
	return prev[len(b)]
}

// lineDiff is a small diff for failure messages.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestEditsAgreeWithClientcmd checks the semantics of each edit through
// client-go: what we set is what kubectl reads, and nothing else changed.
func TestEditsAgreeWithClientcmd(t *testing.T) {
	in := readTestdata(t, "commented.yaml")
	before := loadWithClientcmd(t, in)
	got := edit(t, in,
		func(d *Document) error { return d.SetClusterCA("gitlab", "QUJD") },
		func(d *Document) error { return d.SetCurrentContext("group/agents:dev") },
		func(d *Document) error { return d.SetContextNamespace("group/agents:prod", "apps") },
	)
	after := loadWithClientcmd(t, got)
	if after.CurrentContext != "group/agents:dev" {
		t.Errorf("current-context = %q", after.CurrentContext)
	}
	c := after.Clusters["gitlab"]
	if string(c.CertificateAuthorityData) != "ABC" || c.InsecureSkipTLSVerify || c.CertificateAuthority != "" {
		t.Errorf("cluster gitlab = %+v", c)
	}
	if after.Contexts["group/agents:prod"].Namespace != "apps" {
		t.Errorf("namespace not set: %+v", after.Contexts["group/agents:prod"])
	}
	// Untouched entries are equal.
	if before.Clusters["other"].Server != after.Clusters["other"].Server || len(before.AuthInfos) != len(after.AuthInfos) {
		t.Errorf("untouched entries changed")
	}
	for name, u := range before.AuthInfos {
		if after.AuthInfos[name].Token != u.Token || (u.Exec == nil) != (after.AuthInfos[name].Exec == nil) {
			t.Errorf("user %s changed", name)
		}
	}
}

func TestEditJSONKubeconfig(t *testing.T) {
	in := []byte(`{
  "apiVersion": "v1",
  "kind": "Config",
  "clusters": [
    {"name": "gitlab", "cluster": {"server": "https://kas.example/k8s-proxy"}}
  ],
  "users": [
    {"name": "agent:1", "user": {"token": "ci:1:x"}}
  ],
  "contexts": [
    {"name": "g/a:one", "context": {"cluster": "gitlab", "user": "agent:1"}}
  ]
}
`)
	got := edit(t, in,
		func(d *Document) error { return d.SetClusterCA("gitlab", "QUJD") },
		func(d *Document) error { return d.SetCurrentContext("g/a:one") },
		func(d *Document) error {
			return d.UpsertContext("g/a:two", Map{{Key: "cluster", Value: "gitlab"}, {Key: "user", Value: "agent:1"}})
		},
	)
	cfg := loadWithClientcmd(t, got)
	if cfg.CurrentContext != "g/a:one" || cfg.Contexts["g/a:two"] == nil || string(cfg.Clusters["gitlab"].CertificateAuthorityData) != "ABC" {
		t.Errorf("JSON edit lost something:\n%s", got)
	}
	if !strings.HasPrefix(string(got), "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Config\",\n  \"clusters\": [\n") {
		t.Errorf("JSON file was reformatted:\n%s", got)
	}
}

// TestRenameContext: a context gets another name in place, its body, the
// comments around it and every other line untouched; in YAML and JSON.
func TestRenameContext(t *testing.T) {
	in := readTestdata(t, "commented.yaml")
	before := loadWithClientcmd(t, in)
	got := edit(t, in, func(d *Document) error {
		return d.RenameContext("group/agents:dev", "gitlab.example.com/group/agents:dev")
	})
	after := loadWithClientcmd(t, got)
	renamed := after.Contexts["gitlab.example.com/group/agents:dev"]
	old := before.Contexts["group/agents:dev"]
	if after.Contexts["group/agents:dev"] != nil || renamed == nil || renamed.Cluster != old.Cluster || renamed.AuthInfo != old.AuthInfo ||
		renamed.Namespace != old.Namespace || len(after.Contexts) != len(before.Contexts) {
		t.Errorf("rename went wrong:\n%s", got)
	}
	if a, b := strings.Split(string(in), "\n"), strings.Split(string(got), "\n"); len(a) != len(b) || lcs(a, b) != len(a)-1 {
		t.Errorf("more than the name's line changed:\n%s", lineDiff(string(in), string(got)))
	}
	d, _ := ParseDocument("test.yaml", in)
	if err := d.RenameContext("no/such:context", "x"); err == nil {
		t.Errorf("renaming a missing context succeeded")
	}
	json := edit(t, []byte(`{"apiVersion":"v1","kind":"Config","contexts":[{"name":"g/a:one","context":{"cluster":"c","user":"u"}}]}`),
		func(d *Document) error { return d.RenameContext("g/a:one", "h/g/a:one") })
	if cfg := loadWithClientcmd(t, json); cfg.Contexts["h/g/a:one"] == nil || len(cfg.Contexts) != 1 || !strings.HasPrefix(string(json), `{"apiVersion"`) {
		t.Errorf("JSON rename:\n%s", json)
	}
}

func TestEditEmptyAndMissingFile(t *testing.T) {
	for _, in := range []string{"", "# just a comment\n", "---\n", "{}\n"} {
		got := edit(t, []byte(in),
			func(d *Document) error {
				return d.UpsertCluster("gitlab", Map{{Key: "server", Value: "https://kas.example/k8s-proxy"}})
			},
			func(d *Document) error {
				return d.UpsertUser("agent:1", Map{{Key: "exec", Value: Map{{Key: "apiVersion", Value: "client.authentication.k8s.io/v1"}, {Key: "command", Value: "kubectl-gitlab"}, {Key: "interactiveMode", Value: "Never"}}}})
			},
			func(d *Document) error {
				return d.UpsertContext("g/a:one", Map{{Key: "cluster", Value: "gitlab"}, {Key: "user", Value: "agent:1"}})
			},
			func(d *Document) error { return d.SetCurrentContext("g/a:one") },
		)
		cfg := loadWithClientcmd(t, got)
		if cfg.CurrentContext != "g/a:one" || cfg.AuthInfos["agent:1"].Exec == nil || cfg.Clusters["gitlab"] == nil {
			t.Errorf("from %q got:\n%s", in, got)
		}
		if !strings.HasPrefix(string(got), in) && in != "{}\n" {
			t.Errorf("the existing text %q was not kept:\n%s", in, got)
		}
	}
}

func TestEditKeepsCRLF(t *testing.T) {
	in := readTestdata(t, "job-agents.crlf.yaml")
	if strings.Count(string(in), "\n") != strings.Count(string(in), "\r\n") {
		t.Fatal("job-agents.crlf.yaml lost its CRLF line breaks on checkout; .gitattributes keeps git from converting them")
	}
	got := edit(t, in,
		func(d *Document) error { return d.SetClusterCA("gitlab", "QUJD") },
		func(d *Document) error { return d.SetCurrentContext("group/agents:prod") })
	if strings.Count(string(got), "\n") != strings.Count(string(got), "\r\n") {
		t.Errorf("mixed line endings:\n%q", got)
	}
	loadWithClientcmd(t, got)
}

func TestUpsertUserDropsToken(t *testing.T) {
	in := readTestdata(t, "job-agents.yaml")
	got := edit(t, in, func(d *Document) error {
		return d.UpsertUser("agent:1234", Map{{Key: "exec", Value: Map{{Key: "apiVersion", Value: "client.authentication.k8s.io/v1"}, {Key: "command", Value: "kubectl-gitlab"}, {Key: "args", Value: List{"get-token", "--agent-id=1234"}}, {Key: "interactiveMode", Value: "Never"}}}})
	})
	cfg := loadWithClientcmd(t, got)
	u := cfg.AuthInfos["agent:1234"]
	if u.Token != "" || u.Exec == nil || u.Exec.Command != "kubectl-gitlab" {
		t.Errorf("user = %+v", u)
	}
	if cfg.AuthInfos["agent:5678"].Token != "ci:5678:JOBTOKEN" {
		t.Errorf("the other user changed")
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]struct {
		data string
		line int
	}{
		"syntax":         {"apiVersion: v1\nclusters:\n- name: a\n  cluster: {server: x\n", 4}, // the unclosed {
		"bad indent":     {"apiVersion: v1\nclusters:\n- name: a\n   cluster:\n  server: x\n", 4},
		"not a list":     {"apiVersion: v1\ncontexts: nope\n", 2},
		"duplicate":      {"contexts:\n- name: a\n  context: {}\n- name: a\n  context: {}\n", 4},
		"token type":     {"users:\n- name: u\n  user:\n    token: [ci, '1', secret]\n", 4},
		"root not a map": {"- a\n- b\n", 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDocument("/tmp/kubeconfig", []byte(c.data))
			if err == nil {
				_, err = d.Config()
			}
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("error = %v, want a ParseError", err)
			}
			if pe.File != "/tmp/kubeconfig" || pe.Line != c.line {
				t.Errorf("error %q: want line %d", pe, c.line)
			}
			if strings.Contains(pe.Error(), "secret") {
				t.Errorf("error quotes a value: %q", pe)
			}
		})
	}
}

// An edit of a file that does not decode keeps the decoder's error in its
// chain: it names the line, and commands map it to bad input.
func TestEditOfUndecodableFileKeepsTheCause(t *testing.T) {
	d, err := ParseDocument("/tmp/kubeconfig", []byte("contexts: nope\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = d.SetCurrentContext("a")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 {
		t.Fatalf("error = %v, want one that wraps the ParseError of line 1", err)
	}
}
