package access

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yaml11"
)

// KAS turns config.yaml into JSON with sigs.k8s.io/yaml's YAMLToJSON:
// yaml.v2 unmarshals the first document into interface{} values, with YAML
// 1.1's scalar rules, and convertToJSONableObject and encoding/json make
// JSON of them. This file restates that path on yaml.v3's node tree, which
// keeps the line and column of everything (yaml.v2 does not). The sources:
// gopkg.in/yaml.v2 v2.4.0 (resolve.go, decode.go) and sigs.k8s.io/yaml
// v1.3.0 (yaml.go), the versions gitlab-agent 16.5 builds with.

// jkind is the kind of a JSON value.
type jkind int8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jObject
	jArray
)

// jv is a JSON value that YAMLToJSON makes, with the node it comes from.
type jv struct {
	kind jkind
	// text is a string's value, or a number as encoding/json writes it.
	text string
	b    bool
	// node is the YAML node written (an alias's target for aliased values);
	// at is where the value is written in the file.
	node *yaml.Node
	at   Pos
	// keyAt is where the key of a mapping's value is written, zero for
	// list items and the document.
	keyAt Pos
	// plain is the scalar as written, when YAML 1.1 read an unquoted scalar
	// as something other than a string (`no` → false): messages say so.
	plain string
	// jsonErr says why encoding/json cannot write this value.
	jsonErr string
	// keyText is a number as a mapping key (convertToJSONableObject formats
	// keys its own way); empty when such a key is refused.
	keyText string
	fields  []jfield
	items   []*jv
	// bad marks a value that does not fit the schema, so that the model
	// leaves it out.
	bad bool
}

// jfield is one member of a JSON object.
type jfield struct {
	key   string
	keyAt Pos
	val   *jv
	// merged: set by a `<<` merge, which keys written in the mapping
	// replace.
	merged bool
}

// get returns the member named key, or nil.
func (v *jv) get(key string) *jv {
	if v == nil || v.kind != jObject {
		return nil
	}
	for i := range v.fields {
		if v.fields[i].key == key {
			return v.fields[i].val
		}
	}
	return nil
}

// keyPos returns where the member named key is written.
func (v *jv) keyPos(key string) Pos {
	if v == nil {
		return Pos{}
	}
	for i := range v.fields {
		if v.fields[i].key == key {
			return v.fields[i].keyAt
		}
	}
	return Pos{}
}

// where is the position to report a value's problems at: its key, or the
// value itself in a list or at the top.
func (v *jv) where() Pos {
	if !v.keyAt.IsZero() {
		return v.keyAt
	}
	return v.at
}

// usable reports whether v is present, not null and fit the schema.
func (v *jv) usable() bool { return v != nil && v.kind != jNull && !v.bad }

// yamlError is a failure of YAMLToJSON: KAS rejects the file.
type yamlError struct {
	at  Pos
	msg string
}

// yamlToJSON converts the first document as YAMLToJSON does. It keeps going
// after an error where it can, so that one run reports as much as possible.
type yamlToJSON struct {
	errs []yamlError
	// dupes are keys written twice in one mapping: yaml.v2 keeps the last.
	dupes []duplicateKey
	// Counters of yaml.v2's excessive-aliasing guard (decode.go).
	decodeCount, aliasCount, aliasDepth int
	expanding                           map[*yaml.Node]bool
	aborted                             bool
	// lines is the source, for what yaml.v3 does not keep: the `!` tag.
	lines []string
}

type duplicateKey struct {
	key           string
	first, second Pos
}

func newYAMLToJSON(data []byte) *yamlToJSON {
	return &yamlToJSON{expanding: map[*yaml.Node]bool{}, lines: yamlLines(data)}
}

// yamlLines splits the source at YAML's line breaks (libyaml's IS_BREAK:
// CR, LF, CR LF, NEL, LS and PS), the way node lines are counted.
func yamlLines(data []byte) []string {
	text := strings.TrimPrefix(string(data), "\ufeff") // columns do not count the byte order mark
	var lines []string
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch r {
		case '\r':
			lines = append(lines, text[start:i])
			if i+1 < len(text) && text[i+1] == '\n' {
				size = 2
			}
			start = i + size
		case '\n', '\u0085', '\u2028', '\u2029':
			lines = append(lines, text[start:i])
			start = i + size
		}
		i += size
	}
	return append(lines, text[start:])
}

// nonSpecificTag reports whether a plain scalar carries the `!` tag, which
// yaml.v3 resolves away and yaml.v2 keeps: to yaml.v2, `! 12` is the string
// "12". The node starts at its properties: an anchor and a tag, in either
// order, separated by spaces, line breaks or comments.
func (c *yamlToJSON) nonSpecificTag(n *yaml.Node) bool {
	if n.Line < 1 || n.Line > len(c.lines) || n.Column < 1 {
		return false
	}
	line, rest := n.Line-1, []rune(c.lines[n.Line-1])
	if n.Column-1 > len(rest) {
		return false
	}
	rest = rest[n.Column-1:]
	// skipSeparation moves past spaces, comments and line breaks.
	skipSeparation := func() {
		for {
			for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
				rest = rest[1:]
			}
			if len(rest) > 0 && rest[0] != '#' {
				return
			}
			if line+1 >= len(c.lines) {
				rest = nil
				return
			}
			line++
			rest = []rune(c.lines[line])
		}
	}
	for i := 0; i < 2; i++ { // at most an anchor and a tag
		switch {
		case len(rest) > 0 && rest[0] == '&':
			for len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
				rest = rest[1:]
			}
			skipSeparation()
		case len(rest) > 0 && rest[0] == '!':
			return len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t' || rest[1] == '\r'
		default:
			return false
		}
	}
	return false
}

func (c *yamlToJSON) fail(n *yaml.Node, format string, args ...any) {
	c.errs = append(c.errs, yamlError{at: pos(n), msg: fmt.Sprintf(format, args...)})
}

// count mirrors yaml.v2's decoder.unmarshal bookkeeping, and its
// "document contains excessive aliasing" failure.
func (c *yamlToJSON) count(n *yaml.Node) bool {
	if c.aborted {
		return false
	}
	c.decodeCount++
	if c.aliasDepth > 0 {
		c.aliasCount++
	}
	if c.aliasCount > 100 && c.decodeCount > 1000 && float64(c.aliasCount)/float64(c.decodeCount) > allowedAliasRatio(c.decodeCount) {
		c.fail(n, "the document contains excessive aliasing (YAML aliases expand it beyond what yaml.v2 allows); write the repeated parts out, or repeat them fewer times")
		c.aborted = true
		return false
	}
	return true
}

// allowedAliasRatio is yaml.v2's.
func allowedAliasRatio(decodeCount int) float64 {
	const low, high = 400_000, 4_000_000
	switch {
	case decodeCount <= low:
		return 0.99
	case decodeCount >= high:
		return 0.10
	}
	return 0.99 - 0.89*(float64(decodeCount-low)/float64(high-low))
}

// document converts a document node; nil means JSON null.
func (c *yamlToJSON) document(doc *yaml.Node) *jv {
	if !c.count(doc) {
		return nil
	}
	var v *jv
	if doc.Kind != yaml.DocumentNode {
		v = c.value(doc)
	} else if len(doc.Content) == 1 {
		v = c.value(doc.Content[0])
	}
	c.jsonErrors(v)
	return v
}

// jsonErrors reports what convertToJSONableObject and encoding/json refuse
// in the document as read: keys that are no strings, numbers that JSON
// cannot hold.
func (c *yamlToJSON) jsonErrors(v *jv) {
	if v == nil {
		return
	}
	if v.jsonErr != "" {
		c.errs = append(c.errs, yamlError{at: v.at, msg: v.jsonErr})
		v.bad = true
	}
	for _, f := range v.fields {
		if strings.HasPrefix(f.key, badKeyPrefix) {
			c.errs = append(c.errs, yamlError{at: f.keyAt, msg: strings.TrimPrefix(f.key, badKeyPrefix)})
			continue
		}
		c.jsonErrors(f.val)
	}
	for _, item := range v.items {
		c.jsonErrors(item)
	}
}

// value converts any node; nil means the conversion failed here.
func (c *yamlToJSON) value(n *yaml.Node) *jv {
	if !c.count(n) {
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.alias(n)
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.MappingNode:
		obj := &jv{kind: jObject, node: n, at: pos(n)}
		if !c.mappingInto(n, obj) {
			return nil
		}
		return obj
	case yaml.SequenceNode:
		arr := &jv{kind: jArray, node: n, at: pos(n), items: []*jv{}}
		for _, item := range n.Content {
			v := c.value(item)
			if v == nil {
				if c.aborted {
					return nil
				}
				v = &jv{kind: jNull, node: item, at: pos(item), bad: true}
			}
			arr.items = append(arr.items, v)
		}
		return arr
	}
	return &jv{kind: jNull, node: n, at: pos(n)}
}

func (c *yamlToJSON) alias(n *yaml.Node) *jv {
	if n.Alias == nil {
		c.fail(n, "unknown anchor %q", n.Value)
		return nil
	}
	if c.expanding[n] {
		c.fail(n, "anchor %q contains itself", n.Value)
		return nil
	}
	c.expanding[n] = true
	c.aliasDepth++
	v := c.value(n.Alias)
	c.aliasDepth--
	delete(c.expanding, n)
	if v != nil {
		// The value sits where the alias is written; its parts keep the
		// anchor's positions.
		cp := *v
		cp.at = pos(n)
		v = &cp
	}
	return v
}

// isMerge is yaml.v2's isMerge: a plain or !!merge-tagged `<<` key.
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Style == 0 || k.Tag == "!!merge")
}

// mappingInto sets the pairs of mapping n into obj in order, the way
// yaml.v2 fills a map: a `<<` merge sets its keys where it stands, and a key
// set again replaces the earlier value.
func (c *yamlToJSON) mappingInto(n *yaml.Node, obj *jv) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			if !c.merge(v, obj) {
				return false
			}
			continue
		}
		key, ok := c.key(k)
		if !ok {
			if c.aborted {
				return false
			}
			continue
		}
		val := c.value(v)
		if val == nil {
			if c.aborted {
				return false
			}
			val = &jv{kind: jNull, node: v, at: pos(v), bad: true}
		}
		c.set(obj, key, pos(k), val)
	}
	return true
}

func (c *yamlToJSON) set(obj *jv, key string, at Pos, val *jv) {
	if val.keyAt != at {
		cp := *val
		cp.keyAt = at
		val = &cp
	}
	for i := range obj.fields {
		if obj.fields[i].key == key {
			if at != obj.fields[i].keyAt && !obj.fields[i].merged {
				c.dupes = append(c.dupes, duplicateKey{key: key, first: obj.fields[i].keyAt, second: at})
			}
			obj.fields[i] = jfield{key: key, keyAt: at, val: val}
			return
		}
	}
	obj.fields = append(obj.fields, jfield{key: key, keyAt: at, val: val})
}

// merge applies a `<<` value: a mapping, an alias of one, or a list of
// them, earlier ones taking precedence (yaml.v2's decoder.merge).
func (c *yamlToJSON) merge(n *yaml.Node, obj *jv) bool {
	apply := func(src *yaml.Node) bool {
		switch {
		case src.Kind == yaml.AliasNode && src.Alias != nil && src.Alias.Kind != yaml.MappingNode:
			c.fail(src, "`<<` merges mappings only, and *%s is %s", src.Value, describe(src.Alias))
			return false
		case src.Kind != yaml.AliasNode && src.Kind != yaml.MappingNode:
			c.fail(src, "`<<` merges mappings only, not %s", describe(src))
			return false
		}
		v := c.value(src)
		if v == nil {
			return !c.aborted
		}
		for _, f := range v.fields {
			c.setMerged(obj, f)
		}
		return true
	}
	switch n.Kind {
	case yaml.MappingNode, yaml.AliasNode:
		return apply(n)
	case yaml.SequenceNode:
		for i := len(n.Content) - 1; i >= 0; i-- {
			if !apply(n.Content[i]) {
				return false
			}
		}
		return true
	}
	c.fail(n, "`<<` merges mappings only, not %s", describe(n))
	return false
}

// setMerged sets a merged member; merged keys are not duplicates.
func (c *yamlToJSON) setMerged(obj *jv, f jfield) {
	f.merged = true
	for i := range obj.fields {
		if obj.fields[i].key == f.key {
			obj.fields[i] = f
			return
		}
	}
	obj.fields = append(obj.fields, f)
}

// badKeyPrefix marks a key that sigs.k8s.io/yaml cannot make a JSON key
// of; the rest is the message. It fails the file only if the key is still
// there once the document is read (a later value may replace the mapping
// that holds it).
const badKeyPrefix = "\x00"

// key converts a mapping key to the string JSON gets, as
// convertToJSONableObject does. yaml.v2 refuses mappings and lists as keys,
// and sigs.k8s.io/yaml refuses null and unsigned 64-bit keys.
func (c *yamlToJSON) key(k *yaml.Node) (string, bool) {
	v := c.value(k)
	if v == nil {
		return "", false
	}
	switch v.kind {
	case jString:
		return v.text, true
	case jBool:
		return strconv.FormatBool(v.b), true
	case jNumber:
		if v.keyText != "" {
			return v.keyText, true
		}
		return badKeyPrefix + "the key " + k.Value + " is a number too large for a JSON key; quote it", true
	case jNull:
		return badKeyPrefix + "a key is empty (null), which JSON cannot hold; name the key", true
	default:
		c.fail(k, "a key is %s, which YAML 1.1 does not allow as a key; keys are names such as `id`", describe(resolveAlias(k)))
	}
	return "", false
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxMergeDepth; i++ {
		n = n.Alias
	}
	return n
}

// scalar resolves a scalar as yaml.v2's decoder.scalar does into
// interface{}.
func (c *yamlToJSON) scalar(n *yaml.Node) *jv {
	v := &jv{node: n, at: pos(n)}
	tagged := n.Style&yaml.TaggedStyle != 0
	plain := n.Style&^yaml.TaggedStyle == 0
	tag := ""
	if tagged {
		tag = n.Tag
	}
	if !tagged && !plain || plain && c.nonSpecificTag(n) {
		v.kind, v.text = jString, n.Value
		return v
	}
	rtag, out, err := resolve11(tag, n.Value)
	if err != nil {
		c.fail(n, "%v", err)
		return nil
	}
	if rtag == "!!binary" {
		data, err := base64.StdEncoding.DecodeString(out.(string))
		if err != nil {
			c.fail(n, "!!binary value contains invalid base64 data")
			return nil
		}
		out = string(data)
	}
	switch x := out.(type) {
	case nil:
		v.kind = jNull
	case bool:
		v.kind, v.b = jBool, x
	case int64:
		v.kind, v.text = jNumber, strconv.FormatInt(x, 10)
		v.keyText = v.text
	case uint64:
		v.kind, v.text = jNumber, strconv.FormatUint(x, 10)
		v.keyText = ""
	case float64:
		v.kind, v.keyText = jNumber, floatKey(x)
		if data, err := json.Marshal(x); err == nil {
			v.text = string(data)
		} else {
			// encoding/json fails on it, if it is still in the document at
			// the end.
			v.jsonErr = fmt.Sprintf("`%s` is read as the number %v, which JSON cannot hold; quote it if you mean the text", n.Value, x)
		}
	case time.Time:
		// yaml.v2 keeps timestamps as their text in interface{} values.
		v.kind, v.text = jString, n.Value
		return v
	case string:
		v.kind, v.text = jString, x
		return v
	}
	if v.kind != jString && plain && !tagged {
		v.plain = n.Value
	}
	return v
}

// floatKey formats a float key as convertToJSONableObject does.
func floatKey(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 32)
	switch s {
	case "+Inf":
		return ".inf"
	case "-Inf":
		return "-.inf"
	case "NaN":
		return ".nan"
	}
	return s
}

// resolve11 is yaml.v2's resolve(tag, in) (resolve.go), with tags in short
// form: it returns the tag the scalar resolves to and its Go value (nil,
// bool, int64, uint64, float64, time.Time or string).
func resolve11(tag, in string) (rtag string, out any, err error) {
	switch tag {
	case "", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp":
	default:
		return tag, in, nil
	}
	rtag, out = yaml11.Resolve(tag, in)
	switch tag {
	case "", rtag, "!!str", "!!binary":
		return rtag, out, nil
	case "!!float":
		if i, ok := out.(int64); ok && rtag == "!!int" {
			return "!!float", float64(i), nil
		}
	}
	return "", nil, fmt.Errorf("cannot decode %s `%s` as a %s", rtag, in, tag)
}
