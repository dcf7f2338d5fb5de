package realkas_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's top directory, two levels above this
// package's parent.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w+)\(`)

// definedTests maps each directory (relative to the repository, with
// slashes) to the tests, fuzz targets and benchmarks its _test.go files
// define.
func definedTests(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	defined := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		dir := filepath.ToSlash(rel)
		for _, m := range testFunc.FindAllStringSubmatch(string(data), -1) {
			if defined[dir] == nil {
				defined[dir] = map[string]bool{}
			}
			defined[dir][m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defined
}

// tableRow is one row of a Markdown table, its cells trimmed.
type tableRow struct {
	line   int
	header []string
	cells  []string
}

// tableRows reads every table row of a Markdown file with its header.
func tableRows(t *testing.T, path string) []tableRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []tableRow
	var header []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := splitCells(line)
		switch {
		case header == nil:
			header = cells
		case strings.HasPrefix(cells[0], "---"):
		default:
			rows = append(rows, tableRow{line: n, header: header, cells: cells})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// splitCells splits a table row at the pipes outside code spans.
func splitCells(line string) []string {
	var cells []string
	var cell strings.Builder
	inCode := false
	for _, r := range strings.TrimSpace(line) {
		switch {
		case r == '`':
			inCode = !inCode
		case r == '|' && !inCode:
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
			continue
		}
		cell.WriteRune(r)
	}
	if len(cells) > 0 {
		cells = cells[1:] // before the first pipe
	}
	return cells
}

var (
	codeSpan  = regexp.MustCompile("`([^`]+)`")
	isTest    = regexp.MustCompile(`^(?:Test|Fuzz|Benchmark)\w+$`)
	isRepoDir = regexp.MustCompile(`^(?:pkg|test|internal/testing|cmd)/[\w/]*\w$`)
	rowRef    = regexp.MustCompile(`#(\d+)(?:–(\d+))?`)
)

// citedTests are the tests a cell names, each with the directory it is
// in: the last repository directory named before it in the cell (as
// `pkg/kas` `TestFindProxyURL`), else dir.
func citedTests(cell, dir string) [][2]string {
	var out [][2]string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		switch span := m[1]; {
		case isRepoDir.MatchString(span):
			dir = span
		case isTest.MatchString(span):
			out = append(out, [2]string{dir, span})
		}
	}
	return out
}

// realKASDirs hold the tests that run the real KAS: this package and the
// end-to-end tests.
var realKASDirs = []string{"internal/testing/realkas", "test/e2e"}

// TestConformanceTableIsHonest keeps docs/conformance.md true: every row
// says whether real KAS 16.5 checked it ("checked:" with a test that runs
// the real KAS, or "n/a:" with why), every test it cites exists where it
// says, and every difference it cites (#n) is a row of
// docs/kas-differences.md.
func TestConformanceTableIsHonest(t *testing.T) {
	root := repoRoot(t)
	defined := definedTests(t, root)
	differences := map[string]bool{}
	for _, row := range tableRows(t, filepath.Join(root, "docs", "kas-differences.md")) {
		if row.header[0] == "#" {
			differences[row.cells[0]] = true
		}
	}
	if len(differences) < 40 {
		t.Fatalf("docs/kas-differences.md: only %d numbered rows found", len(differences))
	}
	rows := 0
	for _, row := range tableRows(t, filepath.Join(root, "docs", "conformance.md")) {
		last := len(row.header) - 1
		if len(row.cells) != len(row.header) {
			t.Errorf("conformance.md:%d: %d cells under %d headers", row.line, len(row.cells), len(row.header))
			continue
		}
		if row.header[last] != "real KAS 16.5" {
			continue
		}
		rows++
		where := func(format string, args ...any) {
			t.Helper()
			t.Errorf("conformance.md:%d (%.60s…): "+format, append([]any{row.line, row.cells[0]}, args...)...)
		}
		for i, cell := range row.cells {
			for _, c := range citedTests(cell, "internal/testing/testkas") {
				if i == 0 || i == 1 || i == 2 {
					continue // behaviour, sources, testkas's names: not tests of ours
				}
				if !defined[c[0]][c[1]] && !(i == last && definedIn(defined, c[1], realKASDirs)) {
					where("cites %s, which %s does not define", c[1], c[0])
				}
			}
			for _, m := range rowRef.FindAllStringSubmatch(cell, -1) {
				for _, n := range m[1:] {
					if n != "" && !differences[n] {
						where("cites #%s, not a row of docs/kas-differences.md", n)
					}
				}
			}
		}
		verdict := row.cells[last]
		switch {
		case strings.HasPrefix(verdict, "checked: "):
			realTests := 0
			for _, c := range citedTests(verdict, "") {
				if definedIn(defined, c[1], realKASDirs) {
					realTests++
				}
			}
			if realTests == 0 {
				where("checked, but names no test that runs the real KAS (in %v)", realKASDirs)
			}
		case strings.HasPrefix(verdict, "n/a: ") && len(verdict) > len("n/a: "):
		default:
			where(`last cell %q: want "checked: <the real-KAS test>" or "n/a: <why>"`, verdict)
		}
	}
	if rows < 60 {
		t.Errorf("only %d rows with a real KAS 16.5 column found", rows)
	}
}

func definedIn(defined map[string]map[string]bool, name string, dirs []string) bool {
	for _, d := range dirs {
		if defined[d][name] {
			return true
		}
	}
	return false
}
