package access

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseModel(t *testing.T) {
	cfg := Parse("config.yaml", []byte(`gitops:
  manifest_projects: [{id: x/y}]
defaults: &defaults
  protected_branches_only: true
  environments: &envs [production, staging]
ci_access:
  projects:
    - <<: *defaults
      id: acme/app
      protected_branches_only: false
    - id: acme/tool
      default_namespace: tools
      environments: *envs
      access_as:
        impersonate:
          username: deployer
          uid: "7"
          groups: [a, b]
          extra:
            - key: example.com/team
              val: [payments, eu]
  groups:
    - id: acme
      access_as: {ci_job: {}}
  instance:
    default_namespace: ci
`))
	if len(cfg.Problems) != 0 {
		t.Fatalf("problems: %v", cfg.Problems)
	}
	ci := cfg.CIAccess
	if ci.Pos != (Pos{6, 1}) || ci.ProjectsPos != (Pos{7, 3}) || ci.GroupsPos != (Pos{22, 3}) {
		t.Errorf("positions: %+v %+v %+v", ci.Pos, ci.ProjectsPos, ci.GroupsPos)
	}

	app := ci.Projects[0]
	// Keys written in the mapping win over merged ones; the rest is merged.
	if app.ID != "acme/app" || app.ProtectedBranchesOnly || len(app.Environments) != 2 || app.Environments[0].Pos != (Pos{5, 24}) {
		t.Errorf("merged entry: %+v", app)
	}
	if app.ProtectedBranchesOnlyPos != (Pos{10, 7}) {
		t.Errorf("the written key's position wins: %+v", app.ProtectedBranchesOnlyPos)
	}

	tool := ci.Projects[1]
	if tool.DefaultNamespace != "tools" || tool.DefaultNamespacePos != (Pos{12, 7}) || tool.mode() != AccessImpersonate {
		t.Errorf("tool: %+v", tool)
	}
	imp := tool.AccessAs.Impersonate
	wantImp := &Impersonation{
		Pos: Pos{15, 9}, Username: "deployer", UsernamePos: Pos{16, 11}, UID: "7",
		Groups: []string{"a", "b"}, GroupsPos: []Pos{{18, 20}, {18, 23}},
		Extra:     []ExtraField{{Key: "example.com/team", Values: []string{"payments", "eu"}, Pos: Pos{20, 15}}},
		wrongType: map[string]bool{},
	}
	if !reflect.DeepEqual(imp, wantImp) {
		t.Errorf("impersonate\n got %+v\nwant %+v", imp, wantImp)
	}

	if g := ci.Groups[0]; g.ID != "acme" || g.mode() != AccessCIJob || g.AccessAs.Modes[0].Pos != (Pos{24, 19}) {
		t.Errorf("group: %+v", g)
	}
	if in := ci.Instance; in == nil || in.Kind != KindInstance || in.DefaultNamespace != "ci" || in.Pos != (Pos{25, 3}) || in.mode() != AccessAgent {
		t.Errorf("instance: %+v", in)
	}
}

func TestParseAliasBudget(t *testing.T) {
	// One entry with 1000 environments, listed 1100 times through an alias:
	// a few kilobytes that expand to more than a million nodes.
	var b strings.Builder
	b.WriteString("e: &e\n  id: a/b\n  environments:\n")
	for i := 0; i < 1000; i++ {
		b.WriteString("    - env\n")
	}
	b.WriteString("ci_access:\n  projects:\n")
	for i := 0; i < 1100; i++ {
		b.WriteString("    - *e\n")
	}
	start := time.Now()
	cfg := Parse("config.yaml", []byte(b.String()))
	if len(cfg.Problems) != 1 || !strings.Contains(cfg.Problems[0].Message, "expands to more than 1000000 YAML nodes") {
		t.Errorf("problems: %v", cfg.Problems)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
}

func TestParseSelfMerge(t *testing.T) {
	// An anchor merged into itself makes a cycle in yaml.v3's node graph.
	cfg := Parse("config.yaml", []byte("ci_access:\n  projects:\n    - &e {id: a/b, <<: *e}\n"))
	if !hasCode(cfg.Problems, CodeYAMLSyntax) {
		t.Errorf("problems: %v", cfg.Problems)
	}
}
