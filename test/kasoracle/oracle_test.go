package kasoracle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/access"
)

// kas165 is the GitLab release whose KAS this oracle is.
var kas165 = access.Version{Major: 16, Minor: 5}

// pluginRejects is pkg/access's verdict for KAS 16.5: the file is rejected,
// or it uses a field that 16.5 does not know.
func pluginRejects(data []byte) (bool, *access.LintResult) {
	res := access.Lint("config.yaml", data, access.LintOptions{GitLabVersion: kas165})
	if res.Rejected {
		return true, res
	}
	for _, d := range res.Diagnostics {
		if d.Code == access.CodeNeedsNewerGitLab {
			return true, res
		}
	}
	return false, res
}

func onlySyntaxErrors(res *access.LintResult) bool {
	for _, d := range res.Diagnostics {
		if d.Rejects && d.Code != access.CodeYAMLSyntax {
			return false
		}
	}
	return true
}

func text(res *access.LintResult) string {
	var b strings.Builder
	_ = res.WriteText(&b)
	return b.String()
}

// agree fails when the oracle and pkg/access disagree on data. One
// difference is known: pkg/access parses YAML with yaml.v3, which refuses
// some malformed files that KAS's yaml.v2 lets through (`&0,"`), and reports
// them as syntax errors.
func agree(t *testing.T, name string, data []byte) {
	t.Helper()
	kasErr := Read(data)
	rejects, res := pluginRejects(data)
	if kasErr == nil && rejects && onlySyntaxErrors(res) {
		return
	}
	if rejects != (kasErr != nil) {
		t.Errorf("%s: KAS 16.5 says %v, pkg/access rejects=%v\n--- file\n%s\n--- lint\n%s", name, kasErr, rejects, data, text(res))
	}
}

// TestOracleIsKAS: the oracle gives KAS's own tests' verdicts
// (agent_configuration/server/server_test.go, pkg/agentcfg/validation_test.go
// at 8daa08cc), so it is neither lax nor strict where KAS is not.
func TestOracleIsKAS(t *testing.T) {
	accepted := []string{
		"", "\n", "#gitops:\n#  manifest_projects: []\n", "{}\n", "gitops: {}\n", "gitops:\n  manifest_projects: []\n",
		"gitops:\n  manifest_projects:\n  - id: gitlab-org/cluster-integration/gitlab-agent\n",
		"ci_access:\n  groups:\n    - id: abc\n      default_namespace: \"\"\n      environments: []\n",
		"ci_access:\n  projects:\n    - id: abc\n      environments: [a, b]\n      access_as: {ci_job: {}}\n",
		"gitops:\n  manifest_projects:\n  - paths: [{glob: '/**'}]\n",
	}
	rejected := map[string]string{
		"ci_access:\n  projects:\n    - {}\n":                                              "value length must be at least 1 bytes",
		"ci_access:\n  projects:\n    - id: a\n      environments: ['']\n":                 "value length must be at least 1 bytes",
		"ci_access:\n  projects:\n    - id: a\n      access_as: {}\n":                      "value is required",
		"ci_access:\n  projects:\n    - id: a\n      access_as: {agent: {}, ci_job: {}}\n": "is already set",
		"ci_access:\n  project: []\n":                                                      "unknown field",
		"gitops:\n  manifest_projects:\n  - ref: {}\n":                                     "value is required",
		"remote_development:\n  partial_sync_interval: 0s\n":                               "value must be greater than",
		"observability:\n  logging:\n    level: warning\n":                                 "invalid value",
		"ci_access:\n  projects:\n    - id: a\n      default_namespace: no\n":              "invalid value for string type",
		"cilium:\n  hubble_relay_address: x\n":                                             "unknown field",
		"- a\n":                                                                            "unexpected token",
	}
	for _, s := range accepted {
		if err := Read([]byte(s)); err != nil {
			t.Errorf("KAS accepts %q, the oracle says %v", s, err)
		}
	}
	for s, want := range rejected {
		if err := Read([]byte(s)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("KAS rejects %q with %q, the oracle says %v", s, want, err)
		}
	}
}

type corpusEntry struct {
	File  string   `json:"file"`
	Kas   string   `json:"kas"`
	Needs string   `json:"needs"`
	Lint  []string `json:"lint"`
}

// TestCorpusAgainstKAS: every example of the corpus gets KAS 16.5's verdict
// from pkg/access, and the index says what KAS 16.5 does with it.
func TestCorpusAgainstKAS(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "access", "corpus")
	index, err := os.ReadFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []corpusEntry
	if err := yaml.Unmarshal(index, &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) < 40 {
		t.Fatalf("only %d corpus entries", len(entries))
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		agree(t, e.File, data)
		want165 := e.Kas == "accepts" && e.Needs == ""
		if got := Read(data) == nil; got != want165 {
			t.Errorf("%s: index says kas=%s needs=%q, but KAS 16.5 accepts=%v (%v)", e.File, e.Kas, e.Needs, got, Read(data))
		}
	}
}
