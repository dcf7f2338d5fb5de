package yamlpos

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func parse(data []byte) error { return yaml.Unmarshal(data, &yaml.Node{}) }

// TestLocate: the line is the one an editor shows the mistake on, not the
// start of the enclosing block that yaml.v3 names.
func TestLocate(t *testing.T) {
	cases := []struct {
		name, data string
		want       Position
		msg        string
	}{
		{"over-indented key", "apiVersion: v1\nclusters:\n- name: a\n  cluster:\n    server: https://x\n   bad: [\ncontexts: []\n",
			Position{Line: 6}, "did not find expected key"},
		{"unclosed flow mapping", "a: 1\nb: {c: 2\n", Position{Line: 2}, "did not find expected ',' or '}'"},
		{"tab indentation", "a:\n\tb: 1\n", Position{Line: 2}, "found character that cannot start any token"},
		{"CRLF line breaks", "a: 1\r\nb: {c\r\nd: 2\r\n", Position{Line: 2}, ""},
		{"lone CR counts as a break", "a: 1\rb: [1\r", Position{Line: 2}, ""},
		{"bad byte", "a: 1\nb: x\x01y\n", Position{Line: 2, Column: 5}, "control characters are not allowed"},
		{"unknown anchor", "a: 1\nb: *nowhere\n", Position{Line: 2, Column: 4}, "unknown anchor 'nowhere' referenced"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := parse([]byte(c.data))
			if err == nil {
				t.Fatalf("%q parses", c.data)
			}
			at, msg := Locate([]byte(c.data), err, parse)
			if at != c.want || !strings.HasPrefix(msg, c.msg) || strings.HasPrefix(msg, "yaml:") {
				t.Errorf("Locate = %+v %q, want %+v %q… (yaml.v3 said %v)", at, msg, c.want, c.msg, err)
			}
			if at.Line < 1 || at.Line > LineCount([]byte(c.data)) {
				t.Errorf("line %d is outside the file", at.Line)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	if got := Explain("did not find expected key"); !strings.Contains(got, "indentation") {
		t.Errorf("Explain = %q", got)
	}
	if got := Explain("mapping values are not allowed in this context"); got != "mapping values are not allowed in this context" {
		t.Errorf("Explain changed a message it has nothing to add to: %q", got)
	}
}
