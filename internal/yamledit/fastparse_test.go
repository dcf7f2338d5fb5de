package yamledit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkubeconfig"
)

// testdataDir holds kubeconfigs as GitLab, kubectl and people write them:
// the texts the fast parser is for.
const testdataDir = "../../testdata/kubeconfig"

// sameTree compares what the plugin uses of two trees: kind, style, tag,
// value, position and children (not comments).
func sameTree(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: fast {kind %d style %d tag %s value %q at %d:%d, %d children} != yaml.v3 {kind %d style %d tag %s value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFastParse: when the fast parser takes a text, yaml.v3 takes it too
// and builds the same tree.
func checkFastParse(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastParse(data)
	if !ok {
		return false
	}
	var slow yaml.Node
	if err := yaml.Unmarshal(data, &slow); err != nil {
		t.Fatalf("the fast parser took what yaml.v3 refuses (%v):\n%q", err, data)
	}
	if len(slow.Content) != 1 {
		t.Fatalf("yaml.v3 found %d documents:\n%q", len(slow.Content), data)
	}
	if err := sameTree(fast.Content[0], slow.Content[0], ""); err != nil {
		t.Fatalf("%v\n%q", err, data)
	}
	return true
}

func TestFastParseTakesUsualKubeconfigs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*.yaml"))
	golden, _ := filepath.Glob(filepath.Join(testdataDir, "golden", "*.yaml"))
	multi, _ := filepath.Glob(filepath.Join(testdataDir, "multi", "*.yaml"))
	taken := 0
	for _, f := range append(append(files, golden...), multi...) {
		data, _ := os.ReadFile(f)
		if checkFastParse(t, data) {
			taken++
		} else if !strings.Contains(f, "commented") {
			t.Errorf("%s: the fast parser gave up on an ordinary kubeconfig", f)
		}
	}
	if taken < 8 {
		t.Errorf("fast parser took only %d files", taken)
	}
}

func TestFastParseGivesUpOnTheUnusual(t *testing.T) {
	for _, text := range []string{
		"a: &x b\nc: *x\n", "a: !!str b\n", "a: |\n  text\n", "a: b\n  c\n", "a: \"x\\ty\"\n",
		"a: [b]\n", "a:\n\tb: c\n", "a: b\na: c\n", "---\na: b\n---\nc: d\n", "a: 1\n", "a: 'x\n  y'\n",
		"- - a\n", "-\n  a: b\n", "a: b: c\n", "? a\n: b\n", "<<: {}\n", "a:   \n", "a: b #c\n d: e\n",
	} {
		if _, ok := fastParse([]byte(text)); ok {
			t.Errorf("fast parser took %q", text)
		}
	}
}

func FuzzFastParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*", "*.yaml"))
	top, _ := filepath.Glob(filepath.Join(testdataDir, "*.yaml"))
	for _, file := range append(files, top...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, seed := range [][]byte{{0}, {1, 2, 3}, {9, 9, 9, 9}} {
		text, _ := testkubeconfig.Styled(seed)
		f.Add([]byte(text))
	}
	f.Add(testkubeconfig.PlatformTeam(20))
	f.Add([]byte("a:\n- b\n- c: d\n  e: 'f''g'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastParse(t, data)
	})
}

// BenchmarkParse compares the fast parser with yaml.v3 on the same
// kubeconfigs, shaped like a platform team's, of growing size: the
// README's Performance section quotes the ratio. Compare the ns/op of
// fast and yaml.v3 at each size.
func BenchmarkParse(b *testing.B) {
	for _, contexts := range []int{10, 1000, 5000} {
		data := testkubeconfig.PlatformTeam(contexts)
		if _, ok := fastParse(data); !ok {
			b.Fatalf("the fast parser gave up on PlatformTeam(%d)", contexts)
		}
		b.Run(fmt.Sprintf("contexts=%d/fast", contexts), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				fastParse(data)
			}
		})
		b.Run(fmt.Sprintf("contexts=%d/yaml.v3", contexts), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var doc yaml.Node
				if err := yaml.Unmarshal(data, &doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
