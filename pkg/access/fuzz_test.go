package access

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yamlpos"
)

// FuzzParse: whatever the bytes, Parse returns; every problem has a line in
// the file; input that yaml.v3 refuses is an error that rejects the file,
// and so is every error Parse finds; and Lint, Explain (for jobs and users)
// and the renderers cope with whatever Parse read. (test/kasoracle holds
// the verdicts to KAS's own.)
func FuzzParse(f *testing.F) {
	examples, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*", "*.yaml"))
	for _, name := range examples {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"ci_access:\n  projects:\n    - id: a/b\n   bad: [\n",
		"ci_access:\n\tprojects: []\n",
		"ci_access: &a {projects: *a}\n",
		"ci_access:\n  projects:\n    - &e {id: a/b, <<: *e}\n",
		"a: &a [*a]\n",
		"ci_access: {projects: [{id: a/b, environments: [\"\\xff\"]}]}\n",
		"ci_access:\n  projects: [\xff]\n",
		"--- !!binary AAAA\n",
		"ci_access: {instance: , groups: [[]], projects: {}}\n",
		"? [a, b]\n: c\n",
		"ci_access:\n  groups:\n    - id: a\n      access_as: {agent: {}, ci_job: {}, impersonate: {extra: [{key: k, val: [v, 1]}]}}\n",
		"%YAML 1.1\n---\nci_access: {}\n...\n---\n- x\n",
		"\ufeffci_access: {}\n",
		"! 12\n",
		"&0\n!\n",
		"\r\r!",
		"<<:",
		"{}:",
		"user_access: {access_as: {user: {}}, projects: [{id: a/b}], groups: [{id: a}]}\n",
		"container_scanning: {cadence: x, resource_requirements: {limits: {cpu: -.inf}, limits: {}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Parse("fuzz.yaml", data)
		lines := yamlpos.LineCount(data)
		checkDiagnostics := func(ds []Diagnostic) {
			for _, d := range ds {
				if d.Line < 1 || d.Line > lines || d.Column < 0 || d.Message == "" || d.Code == "" || d.File != "fuzz.yaml" {
					t.Fatalf("bad diagnostic %+v for %d lines", d, lines)
				}
			}
		}
		checkDiagnostics(cfg.Problems)

		if yamlRefuses(data) && !hasCode(cfg.Problems, CodeYAMLSyntax) {
			t.Fatalf("yaml.v3 refuses the input, but Parse reports no syntax error: %v", cfg.Problems)
		}
		for _, d := range cfg.Problems {
			if d.Severity == SeverityError && !d.Rejects {
				t.Fatalf("Parse found an error that does not reject the file: %v", d)
			}
		}

		res := LintConfig(cfg, LintOptions{AgentProject: "fuzz/agents", GitLabCom: true})
		checkDiagnostics(res.Diagnostics)
		if err := res.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteJSON(io.Discard); err != nil {
			t.Fatal(err)
		}

		projects := []string{"fuzz/agents", "fuzz/group/app"}
		if ci := cfg.CIAccess; ci != nil {
			for _, e := range ci.Projects {
				if checkFullPath(e.ID, KindProject) == "" {
					projects = append(projects, e.ID)
				}
			}
			for _, e := range ci.Groups {
				if checkFullPath(e.ID, KindGroup) == "" {
					projects = append(projects, e.ID+"/app")
				}
			}
		}
		// Explaining every entry of a file that repeats one entry through
		// aliases thousands of times would make the target, not the code,
		// slow: a few distinct projects suffice.
		seen := map[string]bool{}
		for _, p := range projects {
			if seen[p] || len(seen) >= 8 {
				continue
			}
			seen[p] = true
			ex, err := Explain(cfg, ExplainOptions{Project: p, AgentProject: "fuzz/agents", Environment: "review/x", EnvironmentTier: "development", ProjectID: 1, JobID: 2})
			if err != nil {
				t.Fatalf("explain %s: %v", p, err)
			}
			if ex.Allowed == (ex.Denial != "") {
				t.Fatalf("allowed %v with denial %q", ex.Allowed, ex.Denial)
			}
			if err := ex.WriteText(io.Discard); err != nil {
				t.Fatal(err)
			}
			if err := ex.WriteJSON(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		ex, err := Explain(cfg, ExplainOptions{User: "fuzz", Role: "developer", AgentProject: "fuzz/agents", Tier: TierFree})
		if err != nil {
			t.Fatalf("explain a user: %v", err)
		}
		if ex.Allowed == (ex.Denial != "") || ex.Rejected != cfg.Rejected() {
			t.Fatalf("allowed %v with denial %q, rejected %v", ex.Allowed, ex.Denial, ex.Rejected)
		}
		if err := ex.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}

// yamlRefuses asks yaml.v3 directly whether the first document parses.
func yamlRefuses(data []byte) (refused bool) {
	defer func() {
		if recover() != nil {
			refused = true
		}
	}()
	var n yaml.Node
	return yaml.Unmarshal(data, &n) != nil
}

func hasCode(ds []Diagnostic, code string) bool {
	for _, d := range ds {
		if d.Code == code {
			return true
		}
	}
	return false
}
