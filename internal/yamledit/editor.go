package yamledit

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseFunc parses a whole text into its root mapping (nil for an empty
// document), or says why the text is not acceptable. The Editor runs it
// on the text it starts from and again after every splice, so the
// caller's rules (what the root must be, how errors are worded) hold for
// every version of the text.
type ParseFunc func(data []byte) (root *yaml.Node, err error)

// Editor is a YAML text parsed for minimal edits: each change splices the
// bytes it must and leaves comments, key order and everything else byte
// for byte as it was.
type Editor struct {
	name   string // names the text in errors, e.g. a file name
	parse  ParseFunc
	src    *source
	root   *yaml.Node // the top-level mapping; nil for an empty document
	layout layout
}

// New parses data for editing; name names it in errors.
func New(name string, data []byte, parse ParseFunc) (*Editor, error) {
	e := &Editor{name: name, parse: parse}
	if err := e.reparse(data); err != nil {
		return nil, err
	}
	return e, nil
}

// Bytes is the current text.
func (e *Editor) Bytes() []byte { return e.src.data }

// Root is the top-level mapping of the current text, nil for an empty
// document.
func (e *Editor) Root() *yaml.Node { return e.root }

func (e *Editor) reparse(data []byte) error {
	root, err := e.parse(data)
	if err != nil {
		return err
	}
	e.src, e.root = newSource(data), root
	e.layout = detectLayout(e.src, root)
	return nil
}

// detectLayout reads the file's indentation from its first list under a
// top-level key and from the first nested mapping inside it.
func detectLayout(src *source, root *yaml.Node) layout {
	l := layout{step: 2, seqIndent: 0, newline: src.newline}
	if root == nil || root.Style&yaml.FlowStyle != 0 {
		return l
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if v.Kind != yaml.SequenceNode || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 {
			continue
		}
		if v.Line > k.Line {
			l.seqIndent = max(v.Column-k.Column, 0)
		}
		item := v.Content[0]
		for j := 0; j+1 < len(item.Content); j += 2 {
			ik, iv := item.Content[j], item.Content[j+1]
			if iv.Kind == yaml.MappingNode && iv.Style&yaml.FlowStyle == 0 && iv.Line > ik.Line && iv.Column > ik.Column {
				l.step = iv.Column - ik.Column
				return l
			}
		}
		return l
	}
	return l
}

// Cursor is a node with the offset where its region ends: the start of
// whatever follows it at the same or a shallower level. The zero Cursor
// points at nothing.
type Cursor struct {
	node  *yaml.Node
	limit int
	flow  bool // inside a flow collection ({…} or […], as in JSON files)
}

// Node is the node under the cursor, nil for the zero Cursor.
func (c Cursor) Node() *yaml.Node { return c.node }

// RootCursor points at the root mapping, which must exist (see EnsureRoot).
func (e *Editor) RootCursor() Cursor {
	return Cursor{node: e.root, limit: len(e.src.data), flow: e.root.Style&yaml.FlowStyle != 0}
}

func isFlow(n *yaml.Node) bool { return n.Style&yaml.FlowStyle != 0 }

// Get finds key in the mapping under c: its key node and a cursor on its
// value.
func (e *Editor) Get(c Cursor, key string) (k *yaml.Node, v Cursor, ok bool) {
	m := c.node
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, Cursor{}, false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		next := c.limit
		if i+2 < len(m.Content) {
			next = e.src.nodeOffset(m.Content[i+2])
		}
		return m.Content[i], Cursor{node: m.Content[i+1], limit: next, flow: c.flow || isFlow(m)}, true
	}
	return nil, Cursor{}, false
}

// Item finds the first item of the list under list that is a mapping whose
// key has the value value (as in "- name: x").
func (e *Editor) Item(list Cursor, key, value string) (Cursor, bool) {
	seq := list.node
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return Cursor{}, false
	}
	for i, item := range seq.Content {
		if _, n := Lookup(item, key); n == nil || n.Value != value {
			continue
		}
		next := list.limit
		if i+1 < len(seq.Content) {
			next = e.itemStart(seq.Content[i+1])
		}
		return Cursor{node: item, limit: next, flow: list.flow || isFlow(seq)}, true
	}
	return Cursor{}, false
}

// itemStart is the offset of a block list item's "-".
func (e *Editor) itemStart(item *yaml.Node) int {
	off := e.src.nodeOffset(item)
	for i := off - 1; i >= 0; i-- {
		switch e.src.data[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '-':
			return i
		}
		break
	}
	return off
}

func (e *Editor) splice(start, end int, text string) error {
	old := e.src.data
	data := make([]byte, 0, len(old)-(end-start)+len(text))
	data = append(data, old[:start]...)
	data = append(data, text...)
	data = append(data, old[end:]...)
	if err := e.reparse(data); err != nil {
		return fmt.Errorf("internal error: an edit of %s would make it invalid, so it is left unchanged (please report this): %w", e.name, err)
	}
	return nil
}

func indentOf(n *yaml.Node) int { return n.Column - 1 }

// EnsureRoot gives an empty document a root mapping holding skeleton,
// after any comments it holds.
func (e *Editor) EnsureRoot(skeleton Map) error {
	if e.root != nil {
		return nil
	}
	data := e.src.data
	if len(data) > 0 && !endsWithBreak(data, len(data)) {
		data = append(data, e.layout.newline...)
	}
	text := string(data)
	for _, f := range skeleton {
		text += e.layout.entryText(f.Key, f.Value, 0) + e.layout.newline
	}
	if err := e.splice(0, len(e.src.data), text); err != nil {
		return err
	}
	if e.root == nil {
		return fmt.Errorf("%s holds no YAML mapping to add to (only a null document); empty it or fix it by hand", e.name)
	}
	return nil
}

// SetEntry sets key in the mapping under m to v: the scalar alone when both
// are scalars (keeping a comment after it), else the whole entry; a new key
// goes after the mapping's last entry.
func (e *Editor) SetEntry(m Cursor, key string, v any) error {
	if m.node.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: expected a mapping", e.name, m.node.Line)
	}
	k, vc, ok := e.Get(m, key)
	if !ok {
		return e.insertEntry(m, key, v)
	}
	if vc.node.Kind == yaml.AliasNode {
		return fmt.Errorf("%s:%d: %s uses a YAML alias; edit it by hand", e.name, k.Line, key)
	}
	inFlow := vc.flow
	switch {
	case isScalar(v) && vc.node.Kind == yaml.ScalarNode && !isEmptyNull(vc.node):
		start := e.src.nodeOffset(vc.node)
		end := e.src.scalarEnd(vc.node, e.src.trimEnd(start, vc.limit, indentOf(k)), inFlow)
		text := scalarText(v)
		if inFlow {
			text = flowScalarText(v, k.Style&yaml.DoubleQuotedStyle != 0)
		}
		return e.splice(start, end, text)
	case inFlow:
		start := e.src.nodeOffset(vc.node)
		return e.splice(start, e.nodeEnd(vc), flowText(v))
	default:
		start := e.src.nodeOffset(k)
		end := e.src.trimEnd(start, vc.limit, indentOf(k))
		text := e.layout.entryText(key, v, indentOf(k))
		if endsWithBreak(e.src.data, end) {
			text += e.layout.newline
		}
		return e.splice(start, end, text)
	}
}

func indexOfKey(m, k *yaml.Node) int {
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i] == k {
			return i
		}
	}
	return -1
}

func isEmptyNull(n *yaml.Node) bool { return IsNull(n) && n.Value == "" }

// nodeEnd is where a node's text ends inside a flow collection.
func (e *Editor) nodeEnd(c Cursor) int {
	n := c.node
	start := e.src.nodeOffset(n)
	if n.Kind == yaml.ScalarNode {
		return e.src.scalarEnd(n, c.limit, true)
	}
	if n.Kind == yaml.AliasNode {
		end := start + 1
		for end < len(e.src.data) && !strings.ContainsRune(" \t\r\n,]}", rune(e.src.data[end])) {
			end++
		}
		return end
	}
	if !isFlow(n) {
		return e.src.trimEnd(start, c.limit, 0)
	}
	return flowEnd(e.src.data, start)
}

// flowEnd scans from an opening bracket to just past its closing one,
// skipping quoted strings and comments.
func flowEnd(data []byte, start int) int {
	depth := 0
	for i := start; i < len(data); i++ {
		switch data[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(data); i++ {
				if data[i] == '\'' {
					if i+1 < len(data) && data[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n' || data[i-1] == '\r') {
				for i < len(data) && data[i] != '\n' && data[i] != '\r' {
					i++
				}
			}
		}
	}
	return len(data)
}

// insertEntry adds key: v as the last entry of the mapping under m.
func (e *Editor) insertEntry(m Cursor, key string, v any) error {
	n := m.node
	if isFlow(n) {
		pos := e.src.nodeOffset(n) + 1
		sep, quoted := "", true
		if len(n.Content) > 0 {
			lastKey := n.Content[len(n.Content)-2]
			_, last, _ := e.Get(m, lastKey.Value)
			pos, sep = e.nodeEnd(last), ", "
			quoted = lastKey.Style&yaml.DoubleQuotedStyle != 0
		}
		return e.splice(pos, pos, sep+flowScalarText(key, quoted)+": "+flowScalarText(v, quoted))
	}
	indent := indentOf(n)
	pos := e.src.trimEnd(e.src.nodeOffset(n), m.limit, indent)
	text := strings.Repeat(" ", indent) + e.layout.entryText(key, v, indent) + e.layout.newline
	if pos > 0 && !endsWithBreak(e.src.data, pos) {
		text = e.layout.newline + text
	}
	return e.splice(pos, pos, text)
}

// DeleteEntry removes key from the mapping under m, if it is there. It
// refuses to remove a mapping's only key.
func (e *Editor) DeleteEntry(m Cursor, key string) error {
	n := m.node
	k, vc, ok := e.Get(m, key)
	if !ok {
		return nil
	}
	i := indexOfKey(n, k)
	if len(n.Content) == 2 {
		return fmt.Errorf("%s:%d: will not remove %s, the only key of its mapping", e.name, k.Line, key)
	}
	keyStart := e.src.nodeOffset(k)
	if isFlow(n) {
		end := e.nodeEnd(vc)
		if i+2 < len(n.Content) { // remove through the next key
			return e.splice(keyStart, e.src.nodeOffset(n.Content[i+2]), "")
		}
		// the last entry: remove from the end of the previous value
		_, prev, _ := e.Get(m, n.Content[i-2].Value)
		return e.splice(e.nodeEnd(prev), end, "")
	}
	indent := indentOf(k)
	if !e.src.onlySpaceBefore(keyStart) {
		// "- key: v" with more keys below: pull the next key up to the dash.
		return e.splice(keyStart, e.src.nodeOffset(n.Content[i+2]), "")
	}
	start := e.src.lineStart[k.Line-1]
	return e.splice(start, e.src.trimEnd(keyStart, vc.limit, indent), "")
}

// AppendItem adds item at the end of the list under key in the mapping
// under m, creating the list where it is missing or empty.
func (e *Editor) AppendItem(m Cursor, key string, item Map) error {
	k, lc, ok := e.Get(m, key)
	if !ok || IsNull(lc.node) || (lc.node.Kind == yaml.SequenceNode && isFlow(lc.node) && len(lc.node.Content) == 0 && !m.flow) {
		return e.SetEntry(m, key, List{item})
	}
	seq := lc.node
	if seq.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: %s is not a list", e.name, k.Line, key)
	}
	if isFlow(seq) {
		pos, sep := e.src.nodeOffset(seq)+1, ""
		if len(seq.Content) > 0 {
			last := seq.Content[len(seq.Content)-1]
			pos, sep = e.nodeEnd(Cursor{node: last, limit: lc.limit, flow: true}), ", "
		}
		return e.splice(pos, pos, sep+flowText(item))
	}
	indent := indentOf(seq)
	pos := e.src.trimEnd(e.src.nodeOffset(seq), lc.limit, indent)
	text := strings.Repeat(" ", indent) + "- " + e.layout.itemText(item, indent) + e.layout.newline
	if pos > 0 && !endsWithBreak(e.src.data, pos) {
		text = e.layout.newline + text
	}
	return e.splice(pos, pos, text)
}
