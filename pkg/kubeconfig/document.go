package kubeconfig

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Document is one kubeconfig file's text, parsed for minimal edits: each
// change splices the bytes it must and leaves comments, key order and every
// other entry byte for byte as they were. (clientcmd's round trip would
// reformat the whole file and drop its comments.)
type Document struct {
	file   string
	src    *source
	root   *yaml.Node // the top-level mapping; nil for an empty file
	layout layout
}

// ParseDocument parses a kubeconfig for editing. file names it in errors.
func ParseDocument(file string, data []byte) (*Document, error) {
	d := &Document{file: file}
	if err := d.reparse(data); err != nil {
		return nil, err
	}
	return d, nil
}

// Bytes is the document's current text.
func (d *Document) Bytes() []byte { return d.src.data }

// Config decodes the document.
func (d *Document) Config() (Config, error) { return decodeConfig(d.file, d.root) }

func (d *Document) reparse(data []byte) error {
	_, root, err := parseYAML(d.file, data)
	if err != nil {
		return err
	}
	d.src, d.root = newSource(data), root
	d.layout = detectLayout(d.src, root)
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

// cursor is a node with the offset where its region ends: the start of
// whatever follows it at the same or a shallower level.
type cursor struct {
	node  *yaml.Node
	limit int
	flow  bool // inside a flow collection ({…} or […], as in JSON files)
}

func (d *Document) rootCursor() cursor {
	return cursor{node: d.root, limit: len(d.src.data), flow: d.root.Style&yaml.FlowStyle != 0}
}

func isFlow(n *yaml.Node) bool { return n.Style&yaml.FlowStyle != 0 }

// get finds key in the mapping under c.
func (d *Document) get(c cursor, key string) (k *yaml.Node, v cursor, ok bool) {
	m := c.node
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, cursor{}, false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		next := c.limit
		if i+2 < len(m.Content) {
			next = d.src.nodeOffset(m.Content[i+2])
		}
		return m.Content[i], cursor{node: m.Content[i+1], limit: next, flow: c.flow || isFlow(m)}, true
	}
	return nil, cursor{}, false
}

// namedItem finds the entry called name in a clusters/users/contexts list.
func (d *Document) namedItem(list cursor, name string) (cursor, bool) {
	seq := list.node
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return cursor{}, false
	}
	for i, item := range seq.Content {
		if _, n := lookup(item, "name"); n == nil || n.Value != name {
			continue
		}
		next := list.limit
		if i+1 < len(seq.Content) {
			next = d.itemStart(seq.Content[i+1])
		}
		return cursor{node: item, limit: next, flow: list.flow || isFlow(seq)}, true
	}
	return cursor{}, false
}

// itemStart is the offset of a block list item's "-".
func (d *Document) itemStart(item *yaml.Node) int {
	off := d.src.nodeOffset(item)
	for i := off - 1; i >= 0; i-- {
		switch d.src.data[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '-':
			return i
		}
		break
	}
	return off
}

// entry finds the body of a named entry: clusters[name=X].cluster etc.
func (d *Document) entry(list, field, name string) (item, body cursor, err error) {
	if d.root == nil {
		return cursor{}, cursor{}, fmt.Errorf("%s: has no %s", d.file, list)
	}
	_, lc, _ := d.get(d.rootCursor(), list)
	item, ok := d.namedItem(lc, name)
	if !ok {
		return cursor{}, cursor{}, fmt.Errorf("%s: no %s entry named %q", d.file, strings.TrimSuffix(list, "s"), name)
	}
	_, body, _ = d.get(item, field)
	return item, body, nil
}

func (d *Document) splice(start, end int, text string) error {
	old := d.src.data
	data := make([]byte, 0, len(old)-(end-start)+len(text))
	data = append(data, old[:start]...)
	data = append(data, text...)
	data = append(data, old[end:]...)
	if err := d.reparse(data); err != nil {
		return fmt.Errorf("internal error: an edit of %s would make it invalid, so it is left unchanged (please report this): %w", d.file, err)
	}
	return nil
}

func (d *Document) indentOf(n *yaml.Node) int { return n.Column - 1 }

// ensureRoot gives an empty file the skeleton of a kubeconfig, after any
// comments it holds.
func (d *Document) ensureRoot() error {
	if d.root != nil {
		return nil
	}
	data := d.src.data
	if len(data) > 0 && !endsWithBreak(data, len(data)) {
		data = append(data, d.layout.newline...)
	}
	nl := d.layout.newline
	if err := d.splice(0, len(d.src.data), string(data)+"apiVersion: v1"+nl+"kind: Config"+nl); err != nil {
		return err
	}
	if d.root == nil {
		return fmt.Errorf("%s holds no YAML mapping to add to (only a null document); empty it or fix it by hand", d.file)
	}
	return nil
}

// setEntry sets key in the mapping under m to v: the scalar alone when both
// are scalars (keeping a comment after it), else the whole entry; a new key
// goes after the mapping's last entry.
func (d *Document) setEntry(m cursor, key string, v any) error {
	if m.node.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: expected a mapping", d.file, m.node.Line)
	}
	k, vc, ok := d.get(m, key)
	if !ok {
		return d.insertEntry(m, key, v)
	}
	if vc.node.Kind == yaml.AliasNode {
		return fmt.Errorf("%s:%d: %s uses a YAML alias; edit it by hand", d.file, k.Line, key)
	}
	inFlow := vc.flow
	switch {
	case isScalar(v) && vc.node.Kind == yaml.ScalarNode && !isEmptyNull(vc.node):
		start := d.src.nodeOffset(vc.node)
		end := d.src.scalarEnd(vc.node, d.src.trimEnd(start, vc.limit, d.indentOf(k)), inFlow)
		text := scalarText(v)
		if inFlow {
			text = flowScalarText(v, k.Style&yaml.DoubleQuotedStyle != 0)
		}
		return d.splice(start, end, text)
	case inFlow:
		start := d.src.nodeOffset(vc.node)
		return d.splice(start, d.nodeEnd(vc), flowText(v))
	default:
		start := d.src.nodeOffset(k)
		end := d.src.trimEnd(start, vc.limit, d.indentOf(k))
		text := d.layout.entryText(key, v, d.indentOf(k))
		if endsWithBreak(d.src.data, end) {
			text += d.layout.newline
		}
		return d.splice(start, end, text)
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

func isEmptyNull(n *yaml.Node) bool { return isNull(n) && n.Value == "" }

// nodeEnd is where a node's text ends inside a flow collection.
func (d *Document) nodeEnd(c cursor) int {
	n := c.node
	start := d.src.nodeOffset(n)
	if n.Kind == yaml.ScalarNode {
		return d.src.scalarEnd(n, c.limit, true)
	}
	if n.Kind == yaml.AliasNode {
		end := start + 1
		for end < len(d.src.data) && !strings.ContainsRune(" \t\r\n,]}", rune(d.src.data[end])) {
			end++
		}
		return end
	}
	if !isFlow(n) {
		return d.src.trimEnd(start, c.limit, 0)
	}
	return flowEnd(d.src.data, start)
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
func (d *Document) insertEntry(m cursor, key string, v any) error {
	n := m.node
	if isFlow(n) {
		pos := d.src.nodeOffset(n) + 1
		sep, quoted := "", true
		if len(n.Content) > 0 {
			lastKey := n.Content[len(n.Content)-2]
			_, last, _ := d.get(m, lastKey.Value)
			pos, sep = d.nodeEnd(last), ", "
			quoted = lastKey.Style&yaml.DoubleQuotedStyle != 0
		}
		return d.splice(pos, pos, sep+flowScalarText(key, quoted)+": "+flowScalarText(v, quoted))
	}
	indent := d.indentOf(n)
	pos := d.src.trimEnd(d.src.nodeOffset(n), m.limit, indent)
	text := strings.Repeat(" ", indent) + d.layout.entryText(key, v, indent) + d.layout.newline
	if pos > 0 && !endsWithBreak(d.src.data, pos) {
		text = d.layout.newline + text
	}
	return d.splice(pos, pos, text)
}

// deleteEntry removes key from the mapping under m, if it is there.
func (d *Document) deleteEntry(m cursor, key string) error {
	n := m.node
	k, vc, ok := d.get(m, key)
	if !ok {
		return nil
	}
	i := indexOfKey(n, k)
	if len(n.Content) == 2 {
		return fmt.Errorf("%s:%d: will not remove %s, the only key of its mapping", d.file, k.Line, key)
	}
	keyStart := d.src.nodeOffset(k)
	if isFlow(n) {
		end := d.nodeEnd(vc)
		if i+2 < len(n.Content) { // remove through the next key
			return d.splice(keyStart, d.src.nodeOffset(n.Content[i+2]), "")
		}
		// the last entry: remove from the end of the previous value
		_, prev, _ := d.get(m, n.Content[i-2].Value)
		return d.splice(d.nodeEnd(prev), end, "")
	}
	indent := d.indentOf(k)
	if !d.src.onlySpaceBefore(keyStart) {
		// "- key: v" with more keys below: pull the next key up to the dash.
		return d.splice(keyStart, d.src.nodeOffset(n.Content[i+2]), "")
	}
	start := d.src.lineStart[k.Line-1]
	return d.splice(start, d.src.trimEnd(keyStart, vc.limit, indent), "")
}

// appendItem adds item at the end of the top-level list key (clusters,
// users, contexts), creating the list where it is missing or empty.
func (d *Document) appendItem(key string, item Map) error {
	if err := d.ensureRoot(); err != nil {
		return err
	}
	root := d.rootCursor()
	k, lc, ok := d.get(root, key)
	if !ok || isNull(lc.node) || (lc.node.Kind == yaml.SequenceNode && isFlow(lc.node) && len(lc.node.Content) == 0 && !root.flow) {
		return d.setEntry(root, key, List{item})
	}
	seq := lc.node
	if seq.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: %s is not a list", d.file, k.Line, key)
	}
	if isFlow(seq) {
		pos, sep := d.src.nodeOffset(seq)+1, ""
		if len(seq.Content) > 0 {
			last := seq.Content[len(seq.Content)-1]
			pos, sep = d.nodeEnd(cursor{node: last, limit: lc.limit, flow: true}), ", "
		}
		return d.splice(pos, pos, sep+flowText(item))
	}
	indent := d.indentOf(seq)
	pos := d.src.trimEnd(d.src.nodeOffset(seq), lc.limit, indent)
	text := strings.Repeat(" ", indent) + "- " + d.layout.itemText(item, indent) + d.layout.newline
	if pos > 0 && !endsWithBreak(d.src.data, pos) {
		text = d.layout.newline + text
	}
	return d.splice(pos, pos, text)
}

// Edits that commands make. Each re-finds its target by name, so that it
// applies to whatever the file holds when the lock is taken.

// SetCurrentContext sets current-context.
func (d *Document) SetCurrentContext(name string) error {
	if err := d.ensureRoot(); err != nil {
		return err
	}
	return d.verified(d.setEntry(d.rootCursor(), "current-context", name), "current-context "+name, func(c Config) bool {
		return c.CurrentContext == name
	})
}

// verified checks, by decoding the edited text, that an edit did what it
// meant to: a safety net for YAML corners (tags, odd indentation) where a
// splice that parses could still mean something else. The caller's file is
// then left unchanged.
func (d *Document) verified(err error, what string, ok func(Config) bool) error {
	if err != nil {
		return err
	}
	cfg, err := d.Config()
	if err != nil || !ok(cfg) {
		return fmt.Errorf("internal error: setting %s in %s did not take as intended, so the file is left unchanged; please report this with the file's layout (not its secrets)", what, d.file)
	}
	return nil
}

// SetContextNamespace sets the namespace of an existing context.
func (d *Document) SetContextNamespace(context, namespace string) error {
	err := d.setBodyField("contexts", "context", context, "namespace", namespace)
	return d.verified(err, "the namespace of context "+context, func(c Config) bool {
		for _, x := range c.Contexts {
			if x.Name == context {
				return x.Context.Namespace == namespace
			}
		}
		return false
	})
}

func (d *Document) setBodyField(list, field, name, key string, v any) error {
	item, body, err := d.entry(list, field, name)
	if err != nil {
		return err
	}
	if body.node == nil || isNull(body.node) {
		return d.setEntry(item, field, Map{{key, v}})
	}
	return d.setEntry(body, key, v)
}

// SetClusterCA embeds a CA bundle (base64 of PEM) into a cluster, and drops
// what would conflict with it: a CA file path, and insecure-skip-tls-verify,
// which kubectl refuses together with a CA.
func (d *Document) SetClusterCA(cluster, caDataBase64 string) error {
	if err := d.setBodyField("clusters", "cluster", cluster, "certificate-authority-data", caDataBase64); err != nil {
		return err
	}
	for _, key := range []string{"certificate-authority", "insecure-skip-tls-verify"} {
		_, body, err := d.entry("clusters", "cluster", cluster)
		if err != nil {
			return err
		}
		if err := d.deleteEntry(body, key); err != nil {
			return err
		}
	}
	return d.verified(nil, "the CA of cluster "+cluster, func(c Config) bool {
		for _, x := range c.Clusters {
			if x.Name == cluster {
				return x.Cluster.CertificateAuthorityData == caDataBase64 && x.Cluster.CertificateAuthority == "" && !x.Cluster.InsecureSkipTLSVerify
			}
		}
		return false
	})
}

// UpsertCluster sets the given fields of a cluster, adding it if missing.
func (d *Document) UpsertCluster(name string, fields Map) error {
	return d.upsert("clusters", "cluster", name, fields, false)
}

// UpsertUser replaces a user's body (so a token in it is gone), adding the
// user if missing.
func (d *Document) UpsertUser(name string, body Map) error {
	return d.upsert("users", "user", name, body, true)
}

// UpsertContext sets the given fields of a context, adding it if missing.
func (d *Document) UpsertContext(name string, fields Map) error {
	return d.upsert("contexts", "context", name, fields, false)
}

func (d *Document) upsert(list, field, name string, body Map, replaceBody bool) error {
	before := 0
	if cfg, err := d.Config(); err == nil {
		before = len(cfg.Clusters) + len(cfg.Users) + len(cfg.Contexts)
	}
	err := d.upsertEntry(list, field, name, body, replaceBody)
	return d.verified(err, strings.TrimSuffix(list, "s")+" "+name, func(c Config) bool {
		n := len(c.Clusters) + len(c.Users) + len(c.Contexts)
		if n < before {
			return false // an edit must never lose an entry
		}
		switch list {
		case "clusters":
			return slices.ContainsFunc(c.Clusters, func(x NamedCluster) bool { return x.Name == name })
		case "users":
			return slices.ContainsFunc(c.Users, func(x NamedUser) bool { return x.Name == name })
		}
		return slices.ContainsFunc(c.Contexts, func(x NamedContext) bool { return x.Name == name })
	})
}

func (d *Document) upsertEntry(list, field, name string, body Map, replaceBody bool) error {
	if d.root != nil {
		_, lc, _ := d.get(d.rootCursor(), list)
		if item, ok := d.namedItem(lc, name); ok {
			if replaceBody {
				return d.setEntry(item, field, body)
			}
			for _, f := range body {
				if err := d.setBodyField(list, field, name, f.Key, f.Value); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return d.appendItem(list, Map{{"name", name}, {field, body}})
}
