package access

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// corpusDir holds every agent configuration example of GitLab's agent
// documentation and of the gitlab-agent repository, with index.yaml saying
// where each comes from and what KAS and lint make of it.
const corpusDir = "../../testdata/access/corpus"

type corpusEntry struct {
	File   string   `yaml:"file"`
	Repo   string   `yaml:"repo"`
	Path   string   `yaml:"path"`
	Commit string   `yaml:"commit"`
	Shows  string   `yaml:"shows"`
	KAS    string   `yaml:"kas"`
	Needs  string   `yaml:"needs"`
	Lint   []string `yaml:"lint"`
}

func corpusIndex(t testing.TB) []corpusEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []corpusEntry
	if err := yaml.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	return entries
}

func readCorpus(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCorpus: lint says of every example what index.yaml says: whether KAS
// accepts it, every diagnostic, and, for GitLab 16.5, which fields are too
// new. Every file of the corpus is in the index, with its source.
func TestCorpus(t *testing.T) {
	entries := corpusIndex(t)
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.File] = true
		t.Run(e.File, func(t *testing.T) {
			if e.Repo == "" || e.Path == "" || e.Shows == "" || (e.KAS != "accepts" && e.KAS != "rejects") {
				t.Fatalf("index entry lacks its source or verdict: %+v", e)
			}
			data := readCorpus(t, e.File)
			res := Lint(e.File, data, LintOptions{})
			if got := shortAll(res.Diagnostics); !equalStrings(got, e.Lint) {
				t.Errorf("diagnostics = %q, want %q\n%s", got, e.Lint, textOf(t, res))
			}
			if res.Rejected != (e.KAS == "rejects") {
				t.Errorf("rejected = %v, index says KAS %s\n%s", res.Rejected, e.KAS, textOf(t, res))
			}
			old := Lint(e.File, data, LintOptions{GitLabVersion: OldestVersion})
			tooNew := hasCode(old.Diagnostics, CodeNeedsNewerGitLab)
			if tooNew != (e.Needs != "") {
				t.Errorf("for GitLab 16.5: needs-newer-gitlab %v, index says needs %q\n%s", tooNew, e.Needs, textOf(t, old))
			}
			if e.Needs != "" {
				v, err := ParseVersion(e.Needs)
				if err != nil {
					t.Fatal(err)
				}
				if at := Lint(e.File, data, LintOptions{GitLabVersion: v}); hasCode(at.Diagnostics, CodeNeedsNewerGitLab) {
					t.Errorf("GitLab %s still lacks a field:\n%s", v, textOf(t, at))
				}
			}
		})
	}
	var missing []string
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "index.yaml" {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		if !listed[filepath.ToSlash(rel)] {
			missing = append(missing, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("corpus files missing from index.yaml: %v", missing)
	}
}

// TestCorpusTypoIsReportedLikeACompiler: the documentation's own mistake, as
// lint shows it.
func TestCorpusTypoIsReportedLikeACompiler(t *testing.T) {
	res := Lint("config.yaml", readCorpus(t, "gitlabhq/ci_cd_workflow/most-specific-wins-project-typo.yaml"), LintOptions{})
	if len(res.Diagnostics) != 1 {
		t.Fatalf("want one diagnostic, got %v", res.Diagnostics)
	}
	d := res.Diagnostics[0]
	if d.Suggestion != "projects" || !d.Rejects {
		t.Errorf("suggestion = %q, rejects = %v", d.Suggestion, d.Rejects)
	}
	want := "config.yaml:3:3: error: unknown key `project` in `ci_access`; did you mean `projects`? KAS rejects the whole file, and the agent keeps its previous configuration (ci_access and user_access included)"
	if d.String() != want {
		t.Errorf("got  %s\nwant %s", d.String(), want)
	}
	text := textOf(t, res)
	if !strings.HasSuffix(text, "config.yaml: FAILED, KAS rejects this file and keeps the previous configuration, 1 error, 0 warnings\n") {
		t.Errorf("summary missing:\n%s", text)
	}
}

// readTestdata reads a file of testdata/access.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../testdata/access", name))
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
