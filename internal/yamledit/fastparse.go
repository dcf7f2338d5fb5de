package yamledit

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// fastParse parses the block-style YAML that kubeconfigs are written in
// (kubectl's and GitLab's output, and hand edits of them) into the yaml.Node
// tree that yaml.v3 would build, several times faster: a kubeconfig with
// thousands of contexts is read on every get-contexts and use-context.
// ok is false for anything outside that subset (anchors, tags, multi-line
// or escaped scalars, non-empty flow collections, tabs, several documents,
// duplicate keys …); Parse then uses yaml.v3. A differential fuzz test
// holds the two to the same trees.
func fastParse(data []byte) (doc *yaml.Node, ok bool) {
	p := &fastParser{}
	if !p.split(data) {
		return nil, false
	}
	doc = &yaml.Node{Kind: yaml.DocumentNode, Line: 1, Column: 1}
	if len(p.lines) == 0 {
		return nil, false // empty or comment-only: yaml.v3 says what that is
	}
	if p.lines[0].indent != 0 {
		return nil, false
	}
	root, ok := p.node(0)
	if !ok || p.i != len(p.lines) {
		return nil, false
	}
	doc.Line, doc.Column = root.Line, root.Column
	doc.Content = []*yaml.Node{root}
	return doc, true
}

// fastLine is a line with content: not blank, not only a comment.
type fastLine struct {
	num    int    // 1-based
	indent int    // leading spaces
	text   string // after the indent, with a trailing comment still there
	ascii  bool   // the whole line is ASCII (columns are byte offsets)
	raw    string // the whole line, to count columns in
}

type fastParser struct {
	lines []fastLine
	i     int
	slab  []yaml.Node
}

func (p *fastParser) split(data []byte) bool {
	if bytes.IndexByte(data, '\t') >= 0 || !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return false
	}
	rest := string(data) // one copy; lines and values are slices of it
	p.lines = make([]fastLine, 0, bytes.Count(data, []byte("\n"))+1)
	started := false
	for num := 1; len(rest) > 0; num++ {
		var s string
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			s, rest = rest[:i], rest[i+1:]
		} else {
			s, rest = rest, ""
		}
		s = strings.TrimSuffix(s, "\r")
		if strings.IndexByte(s, '\r') >= 0 {
			return false // a lone CR is a line break to YAML
		}
		if !printable(s) {
			return false // YAML refuses control characters, even in comments
		}
		text := strings.TrimLeft(s, " ")
		if text == "" || text[0] == '#' {
			continue
		}
		if !started && s == "---" {
			started = true
			continue
		}
		if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") || s[0] == '%' {
			return false // several documents, or directives
		}
		started = true
		p.lines = append(p.lines, fastLine{num: num, indent: len(s) - len(text), text: text, ascii: isASCII(s), raw: s})
	}
	return true
}

// printable applies libyaml's is_printable to every character, and refuses
// the Unicode line breaks it honours.
func printable(s string) bool {
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == 0x7f {
				return false
			}
		}
		return true
	}
	for _, r := range s {
		switch {
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			return false // line breaks to libyaml: leave those lines to yaml.v3
		case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff,
			r >= 0xe000 && r <= 0xfffd && r != 0xfeff, r >= 0x10000 && r <= 0x10ffff:
		default:
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// column is the 1-based column, in characters, of byte offset off of the
// line's text.
func (l fastLine) column(off int) int {
	at := l.indent + off
	if l.ascii {
		return at + 1
	}
	return utf8.RuneCountInString(l.raw[:at]) + 1
}

// node parses the block node whose first line is the current one, at
// indent ind.
func (p *fastParser) node(ind int) (*yaml.Node, bool) {
	l := p.lines[p.i]
	if l.indent != ind {
		return nil, false
	}
	if isDash(l.text) {
		return p.sequence(l.indent, l.text, 0)
	}
	return p.mapping(l.indent, l.text, 0)
}

func isDash(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// mapping parses a block mapping whose first key is text, starting at byte
// skip of the current line (after "- " for a list item's mapping).
func (p *fastParser) mapping(ind int, text string, skip int) (*yaml.Node, bool) {
	l := p.lines[p.i]
	m := p.newNode()
	*m = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: l.num, Column: l.column(skip)}
	for first := true; ; first = false {
		if !first {
			if p.i >= len(p.lines) || p.lines[p.i].indent != ind || isDash(p.lines[p.i].text) {
				if p.i < len(p.lines) && p.lines[p.i].indent > ind {
					return nil, false
				}
				return m, true
			}
			l, text, skip = p.lines[p.i], p.lines[p.i].text, 0
		}
		key, rest, ok := splitKey(text)
		if !ok {
			return nil, false
		}
		k, ok := p.scalarNode(key, l, skip)
		if !ok || k.Kind != yaml.ScalarNode || hasKey(m, k.Value) {
			return nil, false // duplicate keys: yaml.v3 reports them
		}
		valueAt := skip + len(text) - len(rest)
		v, ok := p.value(ind, rest, l, valueAt)
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, k, v)
	}
}

// hasKey: kubeconfig mappings have a handful of keys, so a scan beats a map.
func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// newNode takes nodes from slabs: one allocation per 256 nodes.
func (p *fastParser) newNode() *yaml.Node {
	if len(p.slab) == 0 {
		p.slab = make([]yaml.Node, 256)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	return n
}

// value parses what follows "key:": a scalar or empty collection on the
// same line, or a block node on the lines below, or nothing (null).
func (p *fastParser) value(ind int, rest string, l fastLine, at int) (*yaml.Node, bool) {
	p.i++ // past the key's line
	if rest == "" {
		next := p.i < len(p.lines)
		switch {
		case next && p.lines[p.i].indent > ind:
			return p.node(p.lines[p.i].indent)
		case next && p.lines[p.i].indent == ind && isDash(p.lines[p.i].text):
			return p.sequence(ind, p.lines[p.i].text, 0) // "key:\n- item", kubectl's style
		}
		n := p.newNode()
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: l.num, Column: l.column(at)}
		return n, true
	}
	if rest[0] != ' ' {
		return nil, false
	}
	trimmed := strings.TrimLeft(rest, " ")
	v, ok := p.scalarNode(trimmed, l, at+len(rest)-len(trimmed))
	if !ok || (p.i < len(p.lines) && p.lines[p.i].indent > ind) {
		return nil, false // a scalar continued on the next lines, or worse
	}
	return v, true
}

// sequence parses a block sequence whose first item is text.
func (p *fastParser) sequence(ind int, text string, skip int) (*yaml.Node, bool) {
	l := p.lines[p.i]
	s := p.newNode()
	*s = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: l.num, Column: l.column(skip)}
	for {
		rest := strings.TrimPrefix(text, "-")
		item := strings.TrimLeft(rest, " ")
		if item == "" || isDash(item) {
			return nil, false // item on the next lines, or a list in a list
		}
		itemAt := skip + len(text) - len(item)
		itemInd := ind + (len(text) - len(item))
		var n *yaml.Node
		var ok bool
		if _, _, isKey := splitKey(item); isKey {
			n, ok = p.mapping(itemInd, item, itemAt)
		} else {
			n, ok = p.scalarNode(item, l, itemAt)
			p.i++
			if ok && p.i < len(p.lines) && p.lines[p.i].indent > ind {
				return nil, false
			}
		}
		if !ok {
			return nil, false
		}
		s.Content = append(s.Content, n)
		if p.i >= len(p.lines) || p.lines[p.i].indent != ind || !isDash(p.lines[p.i].text) {
			if p.i < len(p.lines) && p.lines[p.i].indent > ind {
				return nil, false
			}
			return s, true
		}
		l, text, skip = p.lines[p.i], p.lines[p.i].text, 0
	}
}

// splitKey splits "key: rest" (or "key:" at the end of the line) with a
// plain or quoted key.
func splitKey(text string) (key, rest string, ok bool) {
	key, rest, ok = splitKeyAnyLength(text)
	if len(key) > 1000 {
		return "", "", false // libyaml refuses implicit keys over 1024 characters
	}
	return key, rest, ok
}

func splitKeyAnyLength(text string) (key, rest string, ok bool) {
	if text == "" {
		return "", "", false
	}
	if text[0] == '"' || text[0] == '\'' {
		end := quotedEnd(text)
		if end < 0 || end >= len(text) || text[end] != ':' {
			return "", "", false
		}
		return text[:end], text[end+1:], true
	}
	if strings.IndexByte("-?:,[]{}#&*!|>'\"%@`", text[0]) >= 0 {
		return "", "", false
	}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case ':':
			if i+1 == len(text) || text[i+1] == ' ' {
				if strings.HasSuffix(text[:i], " ") {
					return "", "", false
				}
				return text[:i], text[i+1:], true
			}
		case '#':
			if text[i-1] == ' ' {
				return "", "", false
			}
		}
	}
	return "", "", false
}

// quotedEnd returns the offset just past the closing quote of a quoted
// scalar on one line, or -1.
func quotedEnd(text string) int {
	q := text[0]
	for i := 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q:
			if q == '\'' && i+1 < len(text) && text[i+1] == '\'' {
				i++
				continue
			}
			return i + 1
		}
	}
	return -1
}

// scalarNode reads a scalar (or an empty flow collection) that is all of
// text but for a trailing comment; at is text's byte offset in the line.
func (p *fastParser) scalarNode(text string, l fastLine, at int) (*yaml.Node, bool) {
	if text == "" || text[0] == '#' {
		return nil, false // "key:   " or "key: # …": yaml.v3 places that null
	}
	n := p.newNode()
	*n = yaml.Node{Kind: yaml.ScalarNode, Line: l.num, Column: l.column(at)}
	var tail string
	switch c := text[0]; {
	case c == '"' || c == '\'':
		end := quotedEnd(text)
		if end < 0 {
			return nil, false
		}
		body := text[1 : end-1]
		if c == '"' {
			if strings.IndexByte(body, '\\') >= 0 {
				return nil, false // escapes: leave them to yaml.v3
			}
			n.Style = yaml.DoubleQuotedStyle
		} else {
			n.Style = yaml.SingleQuotedStyle
			body = strings.ReplaceAll(body, "''", "'")
		}
		n.Tag, n.Value, tail = "!!str", body, text[end:]
	case c == '[' || c == '{':
		if len(text) < 2 || text[1] != map[byte]byte{'[': ']', '{': '}'}[c] {
			return nil, false // non-empty flow collections: yaml.v3
		}
		n.Kind, n.Style, n.Tag, tail = yaml.SequenceNode, yaml.FlowStyle, "!!seq", text[2:]
		if c == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
	case c == '-' && (len(text) == 1 || text[1] == ' '):
		return nil, false // a list, not a scalar
	case strings.IndexByte("?:,]}#&*!|>%@`", c) >= 0:
		return nil, false
	default:
		end := len(text)
		for i := 0; i < len(text); i++ {
			if text[i] == '#' && i > 0 && text[i-1] == ' ' {
				end = i
				break
			}
			if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ') {
				return nil, false // "a: b: c" is an error yaml.v3 should report
			}
		}
		n.Value = strings.TrimRight(text[:end], " ")
		tag, ok := plainTag(n.Value)
		if !ok {
			return nil, false
		}
		n.Tag = tag
		return n, true
	}
	// Only a comment may follow, after a blank.
	if trimmed := strings.TrimLeft(tail, " "); trimmed != "" && (trimmed[0] != '#' || len(trimmed) == len(tail)) {
		return nil, false
	}
	return n, true
}

// plainTag resolves a plain scalar's tag as yaml.v3 does for the values
// that kubeconfigs hold; numbers, timestamps and the like go to yaml.v3.
func plainTag(v string) (string, bool) {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return "!!null", true
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool", true
	}
	c := v[0]
	if c == '-' || c == '+' {
		// "--agent-id=1" is a string; "-1", "-.5", "+_1" may be numbers.
		if len(v) > 1 && (v[1] == '-' || v[1] >= 'a' && v[1] <= 'z' || v[1] >= 'A' && v[1] <= 'Z') {
			return "!!str", true
		}
		return "", false
	}
	if c >= '0' && c <= '9' || c == '.' || c == '<' || c == '_' {
		return "", false // numbers, timestamps, merge keys: yaml.v3 decides
	}
	return "!!str", true
}
