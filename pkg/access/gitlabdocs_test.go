package access

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// docsDir holds every YAML example of GitLab's page "Using GitLab CI/CD with
// a Kubernetes cluster", from "Authorize agent access" on, one file each,
// byte for byte as the page shows them (less the Markdown indentation).
const docsDir = "../../testdata/access/gitlab-docs"

func readDocsExample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(docsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// short renders a diagnostic as `line:col severity code` for comparisons.
func short(d Diagnostic) string {
	return strings.Join([]string{strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Column), string(d.Severity), d.Code}, " ")
}

func shortAll(ds []Diagnostic) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = short(d)
	}
	return out
}

func TestGitLabDocsExamplesLint(t *testing.T) {
	tests := []struct {
		file         string
		agentProject string
		// hasCIAccess: the example is an agent configuration (the others
		// are .gitlab-ci.yml jobs and an RBAC manifest, whose top-level keys
		// the linter must ignore).
		hasCIAccess bool
		want        []string
	}{
		{file: "authorize-projects.yaml", agentProject: "path/to/agent-project", hasCIAccess: true},
		{file: "authorize-groups.yaml", agentProject: "path/to/agent-project", hasCIAccess: true},
		{file: "authorize-instance.yaml", agentProject: "path/to/agent-project", hasCIAccess: true},
		{file: "impersonate-ci-job.yaml", agentProject: "path/to/agent-project", hasCIAccess: true},
		{file: "restrict-environments.yaml", agentProject: "path/to/agent-project", hasCIAccess: true},
		{file: "restrict-protected-branches.yaml", agentProject: "path/to/agent-project", hasCIAccess: true},
		{file: "gitlab-ci-kubectl-use-context.gitlab-ci.yml"},
		{file: "gitlab-ci-auto-devops-kube-context.gitlab-ci.yml"},
		{file: "gitlab-ci-certificate-and-agent-contexts.gitlab-ci.yml"},
		{file: "rbac-ci-job-view.yaml"},
		// The page's own mistake: `project:` for `projects:`.
		{file: "most-specific-wins-project-typo.yaml", agentProject: "example/agents", hasCIAccess: true,
			want: []string{"3:3 error unknown-key"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			res := Lint(tt.file, readDocsExample(t, tt.file), LintOptions{AgentProject: tt.agentProject})
			if got := shortAll(res.Diagnostics); !equalStrings(got, tt.want) {
				t.Errorf("diagnostics = %q, want %q\n%s", got, tt.want, textOf(t, res))
			}
			if res.HasErrors() != (len(tt.want) > 0) {
				t.Errorf("HasErrors() = %v", res.HasErrors())
			}
			if got := res.Config.CIAccess != nil; got != tt.hasCIAccess {
				t.Errorf("has ci_access = %v, want %v", got, tt.hasCIAccess)
			}
		})
	}
	entries, err := os.ReadDir(docsDir)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, e := range entries {
		if !covered[e.Name()] {
			missing = append(missing, e.Name())
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("examples without a test case: %v", missing)
	}
}

func TestGitLabDocsTypoIsReportedLikeACompiler(t *testing.T) {
	res := Lint("config.yaml", readDocsExample(t, "most-specific-wins-project-typo.yaml"), LintOptions{})
	if len(res.Diagnostics) != 1 {
		t.Fatalf("want one diagnostic, got %v", res.Diagnostics)
	}
	d := res.Diagnostics[0]
	if d.Suggestion != "projects" {
		t.Errorf("suggestion = %q, want projects", d.Suggestion)
	}
	wantPrefix := "config.yaml:3:3: error: unknown key `project` in ci_access; did you mean `projects`?"
	if !strings.HasPrefix(d.String(), wantPrefix) {
		t.Errorf("got  %s\nwant %s…", d.String(), wantPrefix)
	}
	text := textOf(t, res)
	if !strings.HasSuffix(text, "config.yaml: FAILED, 1 error, 0 warnings\n") {
		t.Errorf("summary missing:\n%s", text)
	}
}

func TestGitLabDocsExamplesModel(t *testing.T) {
	cfg := Parse("restrict-environments.yaml", readDocsExample(t, "restrict-environments.yaml"))
	ci := cfg.CIAccess
	if len(ci.Projects) != 2 || len(ci.Groups) != 1 {
		t.Fatalf("projects=%d groups=%d", len(ci.Projects), len(ci.Groups))
	}
	p2 := ci.Projects[1]
	if p2.ID != "path/to/project-2" || p2.Pos != (Pos{4, 7}) || p2.IDPos != (Pos{4, 7}) {
		t.Errorf("project-2 = %q at %v / id at %v", p2.ID, p2.Pos, p2.IDPos)
	}
	if len(p2.Environments) != 2 || p2.Environments[1] != (EnvironmentPattern{"review/*", Pos{7, 11}}) {
		t.Errorf("environments = %+v", p2.Environments)
	}
	if g := ci.Groups[0]; g.ID != "path/to/group-1" || g.Environments[0].Pattern != "production" {
		t.Errorf("group = %+v", g)
	}

	cfg = Parse("impersonate-ci-job.yaml", readDocsExample(t, "impersonate-ci-job.yaml"))
	aa := cfg.CIAccess.Projects[0].AccessAs
	if aa == nil || aa.Mode() != AccessCIJob || aa.Pos != (Pos{4, 7}) {
		t.Errorf("access_as = %+v", aa)
	}

	cfg = Parse("authorize-instance.yaml", readDocsExample(t, "authorize-instance.yaml"))
	if cfg.CIAccess.Instance == nil || cfg.CIAccess.Instance.Pos != (Pos{2, 3}) {
		t.Errorf("instance = %+v", cfg.CIAccess.Instance)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func textOf(t *testing.T, r *LintResult) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
