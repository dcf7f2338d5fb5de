package yamledit

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Values that edits write: string, bool, int64, Map (ordered) and List.
type (
	// Map is an ordered mapping, rendered in the order given.
	Map []Field
	// Field is one key of a Map.
	Field struct {
		Key   string
		Value any
	}
	// List is a sequence.
	List []any
)

// layout is how a file indents, so that inserted text looks like its
// neighbours: step for nested mappings, seqIndent for a list under a key
// (0 in kubectl's style "contexts:\n- name", 2 in "contexts:\n  - name").
type layout struct {
	step      int
	seqIndent int
	newline   string
}

// scalarText renders a scalar in block context, quoted where YAML needs it
// (so "1234" stays a string).
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		b, err := yaml.Marshal(v)
		if err != nil || strings.Count(string(b), "\n") > 1 {
			return quoted(v)
		}
		return strings.TrimSuffix(string(b), "\n")
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	}
	return flowText(v)
}

// flowText renders a value in flow style, the way JSON writes it (so it
// fits JSON files), with strings double-quoted by YAML's rules: JSON
// would leave some control characters raw, which YAML refuses.
func flowText(v any) string {
	switch v := v.(type) {
	case Map:
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = quoted(f.Key) + ": " + flowText(f.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case List:
		parts := make([]string, len(v))
		for i, item := range v {
			parts[i] = flowText(item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return quoted(v)
	case nil:
		return "null"
	}
	return scalarText(v)
}

// quoted renders s as a YAML double-quoted scalar.
func quoted(s string) string {
	b, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: s})
	if err != nil {
		return `""`
	}
	return strings.TrimSuffix(string(b), "\n")
}

// flowScalarText renders a scalar inside a flow collection: plain where
// that is safe and the neighbours are plain, else JSON-quoted (as in JSON
// files).
func flowScalarText(v any, json bool) string {
	if !json && isScalar(v) {
		if text := scalarText(v); plainSafeInFlow(text) {
			return text
		}
	}
	return flowText(v)
}

// plainSafeInFlow keeps plain style to a conservative alphabet: flow
// context gives meaning to more characters than block context does.
func plainSafeInFlow(text string) bool {
	if text == "" || text[0] == '-' || text[0] == '.' {
		return false
	}
	for _, r := range text {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '/') {
			return false
		}
	}
	return true
}

func isScalar(v any) bool {
	switch v.(type) {
	case Map, List:
		return false
	}
	return true
}

// entryText renders "key: value" for a key at column indent. The first line
// has no leading blanks (the caller places it); nested lines are indented
// absolutely. No trailing newline.
func (l layout) entryText(key string, v any, indent int) string {
	var b strings.Builder
	b.WriteString(scalarText(key))
	b.WriteByte(':')
	switch v := v.(type) {
	case Map:
		if len(v) == 0 {
			b.WriteString(" {}")
			break
		}
		for _, line := range l.mapLines(v, indent+l.step) {
			b.WriteString(l.newline)
			b.WriteString(line)
		}
	case List:
		if len(v) == 0 {
			b.WriteString(" []")
			break
		}
		for _, line := range l.listLines(v, indent+l.seqIndent) {
			b.WriteString(l.newline)
			b.WriteString(line)
		}
	default:
		b.WriteByte(' ')
		b.WriteString(scalarText(v))
	}
	return b.String()
}

func (l layout) mapLines(m Map, indent int) []string {
	var lines []string
	pad := strings.Repeat(" ", indent)
	for _, f := range m {
		lines = append(lines, strings.Split(pad+l.entryText(f.Key, f.Value, indent), l.newline)...)
	}
	return lines
}

func (l layout) listLines(items List, indent int) []string {
	var lines []string
	pad := strings.Repeat(" ", indent)
	for _, item := range items {
		lines = append(lines, strings.Split(pad+"- "+l.itemText(item, indent), l.newline)...)
	}
	return lines
}

// itemText renders a list item after its "- " at column indent.
func (l layout) itemText(item any, indent int) string {
	m, ok := item.(Map)
	if !ok || len(m) == 0 {
		if isScalar(item) {
			return scalarText(item)
		}
		return flowText(item)
	}
	var b strings.Builder
	pad := strings.Repeat(" ", indent+2)
	for i, f := range m {
		if i > 0 {
			b.WriteString(l.newline)
			b.WriteString(pad)
		}
		b.WriteString(l.entryText(f.Key, f.Value, indent+2))
	}
	return b.String()
}
