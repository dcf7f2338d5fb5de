package agentcontext

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

const (
	ourURL  = "https://gitlab.example.com"
	ourHost = "gitlab.example.com"
)

// execUser is a workstation user of this plugin for an agent of a GitLab.
func execUser(name, gitlabURL, agentID string) string {
	return `- name: ` + name + `
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubectl-gitlab
      args: [get-token, --agent-id=` + agentID + `, --gitlab-url=` + gitlabURL + `]
`
}

// workstationKubeconfig: contexts of this GitLab (old and custom names, one
// for an agent made anew), another GitLab's, and ones that are no agent's.
var workstationKubeconfig = `apiVersion: v1
kind: Config
current-context: gitlab.example.com:agent-1234
clusters:
- name: gitlab.example.com
  cluster: {server: "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/"}
- name: other.example.com
  cluster: {server: "https://other.example.com/k8s-proxy"}
users:
` + execUser("gitlab-agent:gitlab.example.com:1234", "https://GitLab.example.com:443/", "1234") +
	execUser("gitlab-agent:gitlab.example.com:77", ourURL, "77") +
	execUser("gitlab-agent:gitlab.example.com:998", ourURL, "998") +
	execUser("gitlab-agent:gitlab.example.com:44", ourURL, "44") +
	execUser("gitlab-agent:other.example.com:5", "https://other.example.com", "5") + `- name: plain
  user: {token: not-an-agent-token}
contexts:
- name: gitlab.example.com:agent-1234
  context: {cluster: gitlab.example.com, user: "gitlab-agent:gitlab.example.com:1234"}
- name: prod-cluster
  context: {cluster: gitlab.example.com, user: "gitlab-agent:gitlab.example.com:77", namespace: team-a}
- name: group/agents:old
  context: {cluster: gitlab.example.com, user: "gitlab-agent:gitlab.example.com:998"}
- name: gitlab.example.com:agent-44
  context: {cluster: gitlab.example.com, user: "gitlab-agent:gitlab.example.com:44"}
- name: group/agents:staging
  context: {cluster: other.example.com, user: "gitlab-agent:other.example.com:5"}
- name: group/agents:mig2
  context: {cluster: other.example.com, user: "gitlab-agent:other.example.com:5"}
- name: group/agents:taken
  context: {cluster: other.example.com, user: plain}
- name: gitlab.example.com/group/agents:taken
  context: {cluster: other.example.com, user: plain}
`

func loadText(t *testing.T, text string) *kubeconfig.Set {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := kubeconfig.Load(kubeconfig.Paths{Explicit: path})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestForWorkstationNames pins the naming rules of ForWorkstation's doc.
func TestForWorkstationNames(t *testing.T) {
	set := loadText(t, workstationKubeconfig)
	prod := Target{ID: 1234, Name: "prod", ProjectPath: "group/agents"}
	staging := Target{ID: 5678, Name: "staging", ProjectPath: "group/agents", Namespace: "apps"}
	dev := Target{ID: 77, Name: "dev", ProjectPath: "group/agents", Namespace: "apps"}
	remade := Target{ID: 999, Name: "old", ProjectPath: "group/agents"}
	unnamed := Target{ID: 43}
	mig2 := Target{ID: 44, Name: "mig2", ProjectPath: "group/agents"}
	taken := Target{ID: 42, Name: "taken", ProjectPath: "group/agents"}
	show := func(specs []Spec) string {
		var parts []string
		for _, s := range specs {
			p := s.Context
			if s.Renamed != "" {
				p = s.Renamed + "->" + p
			}
			if s.Namespace != "" {
				p += " ns=" + s.Namespace
			}
			if s.Note != "" {
				p += " (note)"
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ", ")
	}
	cases := []struct {
		name    string
		targets []Target
		naming  []string
		want    string
		problem Problem
	}{
		{name: "the old <host>:agent-<id> name becomes GitLab's", targets: []Target{prod}, want: "gitlab.example.com:agent-1234->group/agents:prod"},
		{name: "another GitLab's context keeps its name; the new one is host-qualified", targets: []Target{staging},
			want: "gitlab.example.com/group/agents:staging ns=apps (note)"},
		{name: "a name of the user's own choosing and the namespace stay", targets: []Target{dev}, want: "prod-cluster ns=team-a"},
		{name: "this GitLab's context of an agent made anew is replaced", targets: []Target{remade}, want: "group/agents:old"},
		{name: "no name from GitLab: <host>:agent-<id>", targets: []Target{unnamed}, want: "gitlab.example.com:agent-43"},
		{name: "an old name stays when GitLab's is another GitLab's", targets: []Target{mig2}, want: "gitlab.example.com:agent-44"},
		{name: "both names taken by contexts that are no agent's", targets: []Target{taken}, problem: NameTaken},
		{name: "ID=NAME renames", targets: []Target{prod, dev}, naming: []string{"1234=prod", "77=dev"},
			want: "gitlab.example.com:agent-1234->prod, prod-cluster->dev ns=team-a"},
		{name: "a template for all", targets: []Target{prod, staging, unnamed}, naming: []string{"{host}/{project}:{agent}"},
			want: "gitlab.example.com:agent-1234->gitlab.example.com/group/agents:prod, gitlab.example.com/group/agents:staging ns=apps, gitlab.example.com/gitlab.example.com:agent-43"},
		{name: "an explicit name held by another GitLab", targets: []Target{staging}, naming: []string{"5678=group/agents:staging"}, problem: NameTaken},
		{name: "an explicit rename onto another context", targets: []Target{prod}, naming: []string{"1234=group/agents:taken"}, problem: NameTaken},
		{name: "one name for two agents", targets: []Target{prod, staging}, naming: []string{"cluster"}, problem: BadName},
		{name: "a name for an agent not written", targets: []Target{prod}, naming: []string{"5678=x"}, problem: BadName},
	}
	for _, c := range cases {
		naming, err := ParseNaming(c.naming)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		specs, err := ForWorkstation(set, ourURL, ourHost, c.targets, naming)
		var e *Error
		switch {
		case c.problem != "" && (!errors.As(err, &e) || e.Problem != c.problem || e.Fix() == ""):
			t.Errorf("%s: %v, want problem %s", c.name, err, c.problem)
		case c.problem == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.problem == "" && show(specs) != c.want:
			t.Errorf("%s:\n got %s\nwant %s", c.name, show(specs), c.want)
		}
		for _, s := range specs {
			if s.User != WorkstationUser(ourHost, s.AgentID) || s.Cluster != ourHost {
				t.Errorf("%s: user %s, cluster %s", c.name, s.User, s.Cluster)
			}
		}
	}
}

func TestParseNaming(t *testing.T) {
	n, err := ParseNaming([]string{"1234=prod", "5=a=b", "{project}-{id}"})
	if err != nil || n.ByID[1234] != "prod" || n.ByID[5] != "a=b" || n.Template != "{project}-{id}" {
		t.Errorf("%+v, %v", n, err)
	}
	if n, err := ParseNaming([]string{"team=prod"}); err != nil || n.Template != "team=prod" {
		t.Errorf("a name with = is a name: %+v, %v", n, err)
	}
	for _, bad := range [][]string{{"a", "b"}, {"{nope}"}, {"{project"}, {""}, {" "}, {"0=x"}, {"12="}, {"tab\there"}, {"99999999999999999999=x"}} {
		var e *Error
		if _, err := ParseNaming(bad); !errors.As(err, &e) || e.Problem != BadName {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestWriteRenames: a rename keeps the context in its file, takes
// current-context along, and updates the context's user.
func TestWriteRenames(t *testing.T) {
	set := loadText(t, workstationKubeconfig)
	specs, err := ForWorkstation(set, ourURL, ourHost, []Target{{ID: 1234, Name: "prod", ProjectPath: "group/agents"}}, Naming{})
	if err != nil {
		t.Fatal(err)
	}
	if err := (Write{Contexts: specs, KASURL: "https://gitlab.example.com/-/kubernetes-agent/k8s-proxy/", GitLabURL: ourURL}).Apply(set); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(set.Files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "group/agents:prod" || cfg.Contexts["gitlab.example.com:agent-1234"] != nil || cfg.Contexts["group/agents:prod"] == nil ||
		len(cfg.Contexts) != 8 {
		t.Errorf("current %q, contexts %v", cfg.CurrentContext, cfg.Contexts)
	}
	if args := cfg.AuthInfos["gitlab-agent:gitlab.example.com:1234"].Exec.Args; strings.Join(args, " ") != "get-token --agent-id=1234 --gitlab-url=https://gitlab.example.com" {
		t.Errorf("args %v", args)
	}
}

// TestHistory: where the previous context is kept, and what is read back.
func TestHistory(t *testing.T) {
	home := t.TempDir()
	h := History{Home: home, Dir: filepath.Join(home, ".config", "kubectl-gitlab")}
	def := filepath.Join(home, ".kube", "config")
	os.MkdirAll(filepath.Dir(def), 0o700)
	os.WriteFile(def, []byte(workstationKubeconfig), 0o600)
	defSet, err := kubeconfig.Load(kubeconfig.Paths{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.File(defSet); got != filepath.Join(home, ".kube", "kubectx") {
		t.Errorf("~/.kube/config's record is %s, not kubectx's file", got)
	}
	a, b := loadText(t, workstationKubeconfig), loadText(t, workstationKubeconfig)
	if fa, fb := h.File(a), h.File(b); fa == fb || filepath.Dir(fa) != filepath.Join(h.Dir, "previous-context") {
		t.Errorf("two kubeconfigs share %s / %s", fa, fb)
	}
	for _, set := range []*kubeconfig.Set{defSet, a} {
		if prev, err := h.Previous(set); err != nil || prev != "" {
			t.Errorf("nothing remembered yet: %q, %v", prev, err)
		}
		if err := h.Record(set, "group/agents:prod"); err != nil {
			t.Fatal(err)
		}
		if prev, err := h.Previous(set); err != nil || prev != "group/agents:prod" {
			t.Errorf("remembered %q, %v", prev, err)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(home, ".kube", "kubectx")); string(data) != "group/agents:prod" {
		t.Errorf("kubectx's file holds %q; kubectx wants the bare name", data)
	}
	if prev, _ := h.Previous(b); prev != "" {
		t.Errorf("another kubeconfig got %q", prev)
	}
	os.WriteFile(h.File(b), []byte("written-by-hand\n"), 0o600)
	if prev, _ := h.Previous(b); prev != "written-by-hand" {
		t.Errorf("a line from echo: %q", prev)
	}

	// Switch remembers the context it leaves.
	done, err := Switch{Context: Describe(a, "prod-cluster"), History: &h}.Apply(a)
	if err != nil || done.Previous != "gitlab.example.com:agent-1234" || done.HistoryErr != nil {
		t.Fatalf("switch: %+v, %v", done, err)
	}
	if prev, _ := h.Previous(a); prev != "gitlab.example.com:agent-1234" {
		t.Errorf("switch remembered %q", prev)
	}
}

// FuzzParseNaming: any --context-name values are refused with BadName or
// give names without control characters.
func FuzzParseNaming(f *testing.F) {
	f.Add("1234=prod", "{host}/{project}:{agent}", "prod", "group/agents")
	f.Add("{", "5=}", "", "")
	f.Fuzz(func(t *testing.T, a, b, name, project string) {
		n, err := ParseNaming([]string{a, b})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Problem != BadName {
				t.Fatalf("%q %q: %v", a, b, err)
			}
			return
		}
		got, _ := n.nameFor(Target{ID: 5, Name: name, ProjectPath: project}, ourHost)
		if strings.ContainsFunc(got, func(r rune) bool { return r < ' ' || r == 0x7f }) && !strings.ContainsFunc(name+project, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Fatalf("%q %q gave %q", a, b, got)
		}
	})
}
