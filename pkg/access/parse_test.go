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
ci_access:
  projects:
    - &defaults
      id: acme/base
      protected_branches_only: yes
      environments: &envs [production, staging]
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
      resource_management: {enabled: true}
  groups:
    - id: acme
      access_as: {ci_job: {}}
  instance:
    default_namespace: ci
user_access:
  access_as: {user: {}}
  projects: [{id: acme/app}]
  groups:
    - id: acme
`))
	if len(cfg.Problems) != 0 {
		t.Fatalf("problems: %v", cfg.Problems)
	}
	ci := cfg.CIAccess
	if ci.Pos != (Pos{3, 1}) || ci.ProjectsPos != (Pos{4, 3}) || ci.GroupsPos != (Pos{24, 3}) {
		t.Errorf("positions: %+v %+v %+v", ci.Pos, ci.ProjectsPos, ci.GroupsPos)
	}
	// YAML 1.1 reads the unquoted yes as true, as KAS does.
	if base := ci.Projects[0]; !base.ProtectedBranchesOnly || base.ID != "acme/base" {
		t.Errorf("base: %+v", base)
	}
	// Keys written after the merge replace merged ones; the rest is merged
	// and keeps the anchor's positions.
	app := ci.Projects[1]
	if app.ID != "acme/app" || app.ProtectedBranchesOnly || len(app.Environments) != 2 || app.Environments[0].Pos != (Pos{8, 28}) {
		t.Errorf("merged entry: %+v", app)
	}
	if app.ProtectedBranchesOnlyPos != (Pos{11, 7}) || app.Pos != (Pos{9, 7}) {
		t.Errorf("positions of the merged entry: %+v %+v", app.ProtectedBranchesOnlyPos, app.Pos)
	}

	tool := ci.Projects[2]
	if tool.DefaultNamespace != "tools" || tool.DefaultNamespacePos != (Pos{13, 7}) || tool.mode() != AccessImpersonate || !tool.ResourceManagement {
		t.Errorf("tool: %+v", tool)
	}
	imp := tool.AccessAs.Impersonate
	wantImp := &Impersonation{
		Pos: Pos{16, 9}, Username: "deployer", UsernamePos: Pos{17, 11}, UID: "7",
		Groups: []string{"a", "b"}, GroupsPos: []Pos{{19, 20}, {19, 23}},
		Extra: []ExtraField{{Key: "example.com/team", Values: []string{"payments", "eu"}, Pos: Pos{21, 15}}},
	}
	if !reflect.DeepEqual(imp, wantImp) {
		t.Errorf("impersonate\n got %+v\nwant %+v", imp, wantImp)
	}
	if g := ci.Groups[0]; g.ID != "acme" || g.mode() != AccessCIJob || g.AccessAs.ModePos != (Pos{26, 19}) {
		t.Errorf("group: %+v", g)
	}
	if in := ci.Instance; in == nil || in.Kind != KindInstance || in.DefaultNamespace != "ci" || in.Pos != (Pos{27, 3}) || in.mode() != AccessAgent {
		t.Errorf("instance: %+v", in)
	}

	ua := cfg.UserAccess
	if ua == nil || ua.AccessAs.Mode != AccessUser || len(ua.Projects) != 1 || ua.Projects[0].ID != "acme/app" || ua.Groups[0].IDPos != (Pos{33, 7}) {
		t.Errorf("user_access: %+v", ua)
	}
}

// yaml.v2's guard against alias bombs: a few kilobytes that expand to more
// than a million nodes make KAS reject the file, and Parse stops as soon.
func TestParseExcessiveAliasing(t *testing.T) {
	var b strings.Builder
	b.WriteString("ci_access:\n  projects:\n    - &e\n      id: a/b\n      environments:\n")
	for i := 0; i < 1000; i++ {
		b.WriteString("        - env\n")
	}
	for i := 0; i < 1100; i++ {
		b.WriteString("    - *e\n")
	}
	start := time.Now()
	cfg := Parse("config.yaml", []byte(b.String()))
	if len(cfg.Problems) != 1 || !strings.Contains(cfg.Problems[0].Message, "excessive aliasing") || !cfg.Rejected() {
		t.Errorf("problems: %v", cfg.Problems)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
}

func TestParseSelfMerge(t *testing.T) {
	// An anchor merged into itself makes a cycle; yaml.v2 refuses it.
	cfg := Parse("config.yaml", []byte("ci_access:\n  projects:\n    - &e {id: a/b, <<: *e}\n"))
	if !hasCode(cfg.Problems, CodeYAMLValue) || !cfg.Rejected() || !strings.Contains(cfg.Problems[0].Message, "contains itself") {
		t.Errorf("problems: %v", cfg.Problems)
	}
}
