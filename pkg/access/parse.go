package access

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yamlpos"
)

// Parse reads an agent configuration file strictly and returns the model of
// its ci_access section, with the position of every node. It never fails:
// what it cannot read (syntax errors, wrong value types, unknown keys inside
// ci_access) is reported in Config.Problems, each with a line, and left out
// of the model, which is how GitLab treats unknown keys too. Other top-level
// keys of the agent configuration are ignored.
func Parse(filename string, data []byte) *Config {
	p := &parser{diags: diagnostics{file: filename}, budget: nodeBudget}
	cfg := &Config{File: filename}
	if doc := p.readDocument(data); doc != nil {
		cfg.CIAccess = p.topLevel(doc)
	}
	cfg.Problems = uniqueDiagnostics(p.diags.list)
	sortDiagnostics(cfg.Problems)
	return cfg
}

// nodeBudget bounds the work aliases can cause: a few lines of YAML can
// reference one big list thousands of times.
const nodeBudget = 1_000_000

// maxMergeDepth bounds nested `<<` merges, which may also refer to
// themselves.
const maxMergeDepth = 16

type parser struct {
	diags     diagnostics
	budget    int
	exhausted bool
}

type pair struct{ key, value *yaml.Node }

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// readDocument parses the YAML into a node tree, reporting syntax errors.
func (p *parser) readDocument(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	first, err := decodeNode(dec)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.syntaxError(err, data)
		}
		return nil
	}
	second, err := decodeNode(dec)
	switch {
	case err == nil && len(second.Content) > 0 && !isNull(second.Content[0]):
		// A trailing `---` with nothing after it is harmless; a second
		// document with content is not.
		p.diags.errorf(CodeYAMLSyntax, pos(second.Content[0]), "the file holds a second YAML document; GitLab reads the agent configuration as one document: remove the `---` separator and merge the two")
	case err != nil && !errors.Is(err, io.EOF):
		p.syntaxError(err, data)
		return nil
	}
	return first
}

// decodeNode reads the next document. yaml.v3 panics on a few malformed
// inputs instead of returning an error; those are syntax errors all the same.
func decodeNode(dec *yaml.Decoder) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("yaml: %v", r)
		}
	}()
	n = new(yaml.Node)
	if err := dec.Decode(n); err != nil {
		return nil, err
	}
	return n, nil
}

// syntaxError reports a YAML parser error at the line where it is.
func (p *parser) syntaxError(err error, data []byte) {
	at, msg := yamlpos.Locate(data, err, checkSyntax)
	p.diags.errorf(CodeYAMLSyntax, Pos{Line: at.Line, Column: at.Column}, "the file is not valid YAML: %s; fix the syntax (GitLab cannot read the agent configuration at all)", yamlpos.Explain(msg))
}

// checkSyntax parses the first two documents, as readDocument does, and
// returns the first error.
func checkSyntax(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < 2; i++ {
		if _, err := decodeNode(dec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// resolve follows an alias to the node it names, and counts the work.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	p.budget--
	if p.budget < 0 && !p.exhausted {
		p.exhausted = true
		p.diags.errorf(CodeYAMLSyntax, pos(n), "the file expands to more than %d YAML nodes through aliases; GitLab's parsers refuse files like this: write the entries out instead of repeating aliases", nodeBudget)
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the type of a node for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "empty (null)"
		case "!!timestamp":
			return "the timestamp " + n.Value
		}
		return fmt.Sprintf("a value tagged %s", n.Tag)
	}
	return "nothing"
}

// quoteHint suggests quoting a scalar that YAML read as another type.
func quoteHint(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!str" && n.Tag != "!!null" {
		return fmt.Sprintf("; if you mean the text, quote it: \"%s\"", n.Value)
	}
	return ""
}

// pairs returns the key/value pairs of a mapping with `<<` merges applied
// (keys written in the mapping win over merged ones), reporting keys that are
// not names and keys written twice.
func (p *parser) pairs(m *yaml.Node, where string) []pair {
	return p.pairsDepth(m, where, 0)
}

func (p *parser) pairsDepth(m *yaml.Node, where string, mergeDepth int) []pair {
	seen := make(map[string]*yaml.Node)
	var out, merges []pair
	for i := 0; i+1 < len(m.Content) && !p.exhausted; i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, pair{k, v})
			continue
		}
		kr := p.resolve(k)
		if kr.Kind != yaml.ScalarNode {
			p.diags.errorf(CodeWrongType, pos(k), "a key of %s is %s; keys are plain names such as `id`", where, describe(kr))
			continue
		}
		if first, dup := seen[kr.Value]; dup {
			p.diags.errorf(CodeDuplicateKey, pos(k), "`%s` is written twice in %s (first at line %d); YAML parsers disagree on which one counts: keep one", kr.Value, where, first.Line)
			continue
		}
		seen[kr.Value] = k
		out = append(out, pair{kr, v})
	}
	for _, mg := range merges {
		if mergeDepth >= maxMergeDepth {
			p.diags.errorf(CodeYAMLSyntax, pos(mg.key), "`<<` merges nest more than %d deep in %s, or refer to themselves; flatten them", maxMergeDepth, where)
			break
		}
		for _, src := range p.mergeSources(mg, where) {
			for _, kv := range p.pairsDepth(src, where, mergeDepth+1) {
				if _, ok := seen[kv.key.Value]; !ok {
					seen[kv.key.Value] = kv.key
					out = append(out, kv)
				}
			}
		}
	}
	return out
}

func (p *parser) mergeSources(mg pair, where string) []*yaml.Node {
	v := p.resolve(mg.value)
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, item := range v.Content {
			if r := p.resolve(item); r.Kind == yaml.MappingNode {
				out = append(out, r)
				continue
			}
			p.diags.errorf(CodeWrongType, pos(item), "`<<` in %s merges mappings only, and this item is %s", where, describe(p.resolve(item)))
		}
		return out
	}
	p.diags.errorf(CodeWrongType, pos(mg.value), "`<<` in %s merges mappings only, not %s", where, describe(v))
	return nil
}

// unknownKey reports a key that GitLab does not know at this place, with the
// key that was likely meant and what ignoring it costs.
func (p *parser) unknownKey(k *yaml.Node, where string, known []string, consequence string) {
	if hint := misplacedHint(k.Value, where); hint != "" {
		p.diags.errorf(CodeUnknownKey, pos(k), "unknown key `%s` in %s: %s", k.Value, where, hint)
		return
	}
	if s := closestKey(k.Value, known); s != "" {
		p.diags.add(SeverityError, CodeUnknownKey, pos(k), s, "unknown key `%s` in %s; did you mean `%s`? %s", k.Value, where, s, consequence)
		return
	}
	p.diags.errorf(CodeUnknownKey, pos(k), "unknown key `%s` in %s (known: %s); %s", k.Value, where, quoteList(known), consequence)
}

// misplacedHint explains keys that are valid one level up or down.
func misplacedHint(key, where string) string {
	switch {
	case strings.HasSuffix(where, ".access_as") && (key == "username" || key == "uid" || key == "groups" || key == "extra"):
		return fmt.Sprintf("`%s` belongs under `impersonate`: write `access_as: {impersonate: {%s: …}}`", key, key)
	case where == "ci_access" && (key == "id" || key == "environments" || key == "access_as" || key == "default_namespace" || key == "protected_branches_only"):
		return fmt.Sprintf("`%s` belongs to an item of `projects` or `groups`, as in `projects: [{id: group/project, %s: …}]`", key, key)
	case key == "ci_user" && strings.HasSuffix(where, ".access_as"):
		return "GitLab does not implement `ci_user` (it appears only in design documents); use `ci_job: {}` to act as the CI job"
	}
	return ""
}

func quoteList(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = "`" + k + "`"
	}
	return strings.Join(q, ", ")
}

// str reads a string value. Null reads as "" without complaint when
// nullOK, since GitLab treats a missing value like an absent key there.
func (p *parser) str(kv pair, where string, nullOK bool) (string, bool) {
	v := p.resolve(kv.value)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		return v.Value, true
	}
	if isNull(v) {
		if nullOK {
			return "", true
		}
		p.diags.errorf(CodeMissingValue, pos(kv.key), "`%s` in %s has no value; give it a string", kv.key.Value, where)
		return "", false
	}
	p.diags.errorf(CodeWrongType, pos(v), "`%s` in %s must be a string, not %s%s", kv.key.Value, where, describe(v), quoteHint(v))
	return "", false
}

// boolean reads true or false. YAML 1.1 spellings (yes, no, on, off) are
// refused: GitLab's Ruby side reads them as booleans, its Go side as
// strings.
func (p *parser) boolean(kv pair, where string) (bool, bool) {
	v := p.resolve(kv.value)
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		return strings.EqualFold(v.Value, "true"), true
	}
	if isNull(v) {
		p.diags.errorf(CodeMissingValue, pos(kv.key), "`%s` in %s has no value; write true or false", kv.key.Value, where)
		return false, false
	}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		switch strings.ToLower(v.Value) {
		case "yes", "no", "on", "off", "y", "n":
			p.diags.errorf(CodeWrongType, pos(v), "`%s` in %s is %q, which YAML 1.1 (GitLab's Ruby) reads as a boolean and YAML 1.2 (KAS) as a string; write true or false", kv.key.Value, where, v.Value)
			return false, false
		}
	}
	p.diags.errorf(CodeWrongType, pos(v), "`%s` in %s must be true or false, not %s", kv.key.Value, where, describe(v))
	return false, false
}

// stringList reads a list of strings; items of other types are reported and
// left out.
func (p *parser) stringList(kv pair, where string) (items []string, positions []Pos, ok bool) {
	v := p.resolve(kv.value)
	if isNull(v) {
		return nil, nil, true
	}
	if v.Kind != yaml.SequenceNode {
		hint := ""
		if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			hint = fmt.Sprintf(": write `%s: [%s]`", kv.key.Value, v.Value)
		}
		p.diags.errorf(CodeWrongType, pos(v), "`%s` in %s must be a list, not %s%s", kv.key.Value, where, describe(v), hint)
		return nil, nil, false
	}
	ok = true
	for i, item := range v.Content {
		r := p.resolve(item)
		if r.Kind == yaml.ScalarNode && r.Tag == "!!str" {
			items = append(items, r.Value)
			positions = append(positions, pos(item))
			continue
		}
		ok = false
		if isNull(r) {
			p.diags.errorf(CodeMissingValue, pos(item), "item %d of `%s` in %s is empty; remove it or write a value", i, kv.key.Value, where)
			continue
		}
		p.diags.errorf(CodeWrongType, pos(item), "item %d of `%s` in %s must be a string, not %s%s", i, kv.key.Value, where, describe(r), quoteHint(r))
	}
	return items, positions, ok
}

// topLevel reads the document's top-level mapping and returns ci_access.
func (p *parser) topLevel(doc *yaml.Node) *CIAccess {
	n := p.resolve(doc)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = p.resolve(n.Content[0])
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.diags.errorf(CodeWrongType, pos(n), "an agent configuration is a mapping with keys such as `ci_access`, not %s", describe(n))
		return nil
	}
	var ci *CIAccess
	for _, kv := range p.pairs(n, "the agent configuration") {
		switch key := kv.key.Value; key {
		case "ci_access":
			ci = p.ciAccess(kv)
		case "projects", "groups", "instance":
			p.diags.warnf(CodeMisplacedKey, pos(kv.key), "top-level `%s` is not part of the agent configuration, so GitLab ignores it; did you mean to put it under `ci_access`?", key)
		default:
			// Other keys configure other agent features (gitops,
			// user_access, observability, …) and are none of our business,
			// unless they misspell ci_access.
			if s := closestKey(key, []string{"ci_access"}); s != "" {
				p.diags.add(SeverityError, CodeUnknownKey, pos(kv.key), s, "unknown top-level key `%s`; did you mean `ci_access`? GitLab ignores it, so no project or group is authorized by it", key)
			}
		}
	}
	return ci
}

func ciAccessKeys() []string { return []string{"projects", "groups", "instance"} }

func entryKeys(kind EntryKind) []string {
	if kind == KindInstance {
		return []string{"default_namespace", "environments", "protected_branches_only", "access_as"}
	}
	return []string{"id", "default_namespace", "environments", "protected_branches_only", "access_as"}
}

func (p *parser) ciAccess(kv pair) *CIAccess {
	ci := &CIAccess{Pos: pos(kv.key)}
	v := p.resolve(kv.value)
	if isNull(v) {
		return ci
	}
	if v.Kind != yaml.MappingNode {
		p.diags.errorf(CodeWrongType, pos(v), "`ci_access` must be a mapping with `projects`, `groups` or `instance`, not %s", describe(v))
		return ci
	}
	for _, kv := range p.pairs(v, "ci_access") {
		switch kv.key.Value {
		case "projects":
			ci.ProjectsPos = pos(kv.key)
			ci.Projects = p.entryList(kv, KindProject)
		case "groups":
			ci.GroupsPos = pos(kv.key)
			ci.Groups = p.entryList(kv, KindGroup)
		case "instance":
			ci.Instance = p.instance(kv)
		default:
			p.unknownKey(kv.key, "ci_access", ciAccessKeys(), "GitLab ignores unknown keys, so nothing under it is authorized")
		}
	}
	return ci
}

func (p *parser) entryList(kv pair, kind EntryKind) []Entry {
	name := kv.key.Value
	v := p.resolve(kv.value)
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.diags.errorf(CodeWrongType, pos(v), "`ci_access.%s` must be a list of entries such as `- id: path/to/%s`, not %s", name, kind, describe(v))
		return nil
	}
	var out []Entry
	for i, item := range v.Content {
		if p.exhausted {
			break
		}
		where := fmt.Sprintf("ci_access.%s[%d]", name, i)
		r := p.resolve(item)
		switch {
		case r.Kind == yaml.MappingNode:
			out = append(out, p.entry(kind, i, item, r, where))
		case r.Kind == yaml.ScalarNode && r.Tag == "!!str":
			p.diags.errorf(CodeWrongType, pos(item), "%s is the string %q, but entries are mappings: write `- id: %s`", where, r.Value, r.Value)
		default:
			p.diags.errorf(CodeWrongType, pos(item), "%s must be a mapping with `id`, not %s", where, describe(r))
		}
	}
	return out
}

func (p *parser) instance(kv pair) *Entry {
	v := p.resolve(kv.value)
	if isNull(v) {
		// GitLab reads `instance:` with no value as no instance authorization.
		p.diags.errorf(CodeMissingValue, pos(kv.key), "`ci_access.instance` has no value, which GitLab reads as no instance authorization at all; write `instance: {}`")
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.diags.errorf(CodeWrongType, pos(v), "`ci_access.instance` must be a mapping (`instance: {}`), not %s", describe(v))
		return nil
	}
	e := p.entry(KindInstance, 0, kv.value, v, "ci_access.instance")
	e.Pos = pos(kv.key)
	return &e
}

// entry reads one authorization entry. at is the node as written (possibly
// an alias), m the mapping it resolves to.
func (p *parser) entry(kind EntryKind, index int, at, m *yaml.Node, where string) Entry {
	e := Entry{Kind: kind, Index: index, Pos: pos(at), wrongType: map[string]bool{}}
	for _, kv := range p.pairs(m, where) {
		key := kv.key.Value
		ok := true
		switch key {
		case "id":
			if kind == KindInstance {
				p.diags.errorf(CodeUnknownKey, pos(kv.key), "`instance` takes no `id`: it authorizes every project of the instance; remove `id`, or move this entry to `projects` or `groups`")
				continue
			}
			e.IDPos = pos(kv.key)
			e.ID, ok = p.str(kv, where, false)
		case "default_namespace":
			e.DefaultNamespacePos = pos(kv.key)
			e.DefaultNamespace, ok = p.str(kv, where, true)
		case "environments":
			e.EnvironmentsPos = pos(kv.key)
			var items []string
			var positions []Pos
			items, positions, ok = p.stringList(kv, where)
			for i := range items {
				e.Environments = append(e.Environments, EnvironmentPattern{Pattern: items[i], Pos: positions[i]})
			}
		case "protected_branches_only":
			e.ProtectedBranchesOnlyPos = pos(kv.key)
			e.ProtectedBranchesOnly, ok = p.boolean(kv, where)
		case "access_as":
			e.AccessAs = p.accessAs(kv, where+".access_as")
		default:
			p.unknownKey(kv.key, where, entryKeys(kind), "GitLab ignores unknown keys, so this setting has no effect")
		}
		if !ok {
			e.wrongType[key] = true
		}
	}
	return e
}

func (p *parser) accessAs(kv pair, where string) *AccessAs {
	v := p.resolve(kv.value)
	if isNull(v) {
		p.diags.errorf(CodeMissingValue, pos(kv.key), "`access_as` in %s has no value, so the job acts as the agent; write one of `agent: {}`, `ci_job: {}` or `impersonate: {username: …}`, or remove `access_as`", strings.TrimSuffix(where, ".access_as"))
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.diags.errorf(CodeWrongType, pos(v), "`access_as` in %s must be a mapping such as `{ci_job: {}}`, not %s", strings.TrimSuffix(where, ".access_as"), describe(v))
		return nil
	}
	a := &AccessAs{Pos: pos(kv.key)}
	for _, mkv := range p.pairs(v, where) {
		switch mode := AccessMode(mkv.key.Value); mode {
		case AccessAgent, AccessCIJob:
			a.Modes = append(a.Modes, ModeKey{Mode: mode, Pos: pos(mkv.key)})
			p.emptyMapping(mkv, where+"."+string(mode))
		case AccessImpersonate:
			a.Modes = append(a.Modes, ModeKey{Mode: mode, Pos: pos(mkv.key)})
			a.Impersonate = p.impersonate(mkv, where+".impersonate")
		default:
			p.unknownKey(mkv.key, where, []string{"agent", "ci_job", "impersonate"}, "GitLab ignores unknown keys here")
		}
	}
	return a
}

// emptyMapping checks `agent: {}` and `ci_job: {}`, which take no settings.
func (p *parser) emptyMapping(kv pair, where string) {
	v := p.resolve(kv.value)
	switch {
	case isNull(v):
		p.diags.errorf(CodeMissingValue, pos(kv.key), "`%s` has no value; write `%s: {}` (with no value GitLab may drop it)", kv.key.Value, kv.key.Value)
	case v.Kind != yaml.MappingNode:
		p.diags.errorf(CodeWrongType, pos(v), "`%s` must be the empty mapping `{}`, not %s", kv.key.Value, describe(v))
	default:
		for _, inner := range p.pairs(v, where) {
			p.diags.errorf(CodeUnknownKey, pos(inner.key), "unknown key `%s` in %s: `%s` takes no settings; write `%s: {}`", inner.key.Value, where, kv.key.Value, kv.key.Value)
		}
	}
}

func (p *parser) impersonate(kv pair, where string) *Impersonation {
	imp := &Impersonation{Pos: pos(kv.key), wrongType: map[string]bool{}}
	v := p.resolve(kv.value)
	if isNull(v) {
		return imp // Lint reports the missing username.
	}
	if v.Kind != yaml.MappingNode {
		p.diags.errorf(CodeWrongType, pos(v), "`impersonate` must be a mapping such as `{username: deployer}`, not %s", describe(v))
		imp.wrongType["username"] = true
		return imp
	}
	for _, ikv := range p.pairs(v, where) {
		ok := true
		switch key := ikv.key.Value; key {
		case "username":
			imp.UsernamePos = pos(ikv.key)
			imp.Username, ok = p.str(ikv, where, false)
		case "uid":
			imp.UID, ok = p.str(ikv, where, true)
		case "groups":
			imp.Groups, imp.GroupsPos, ok = p.stringList(ikv, where)
		case "extra":
			imp.Extra, ok = p.extra(ikv, where+".extra")
		default:
			p.unknownKey(ikv.key, where, []string{"username", "uid", "groups", "extra"}, "GitLab ignores unknown keys, so it is not part of the identity")
		}
		if !ok {
			imp.wrongType[ikv.key.Value] = true
		}
	}
	return imp
}

// extra reads impersonate.extra: a list of `{key: …, val: [...]}`, the shape
// of the agent's ExtraKeyValCF.
func (p *parser) extra(kv pair, where string) ([]ExtraField, bool) {
	v := p.resolve(kv.value)
	if isNull(v) {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		p.diags.errorf(CodeWrongType, pos(v), "`extra` in %s must be a list of `{key: …, val: [...]}`, not %s", strings.TrimSuffix(where, ".extra"), describe(v))
		return nil, false
	}
	var out []ExtraField
	ok := true
	for i, item := range v.Content {
		itemWhere := fmt.Sprintf("%s[%d]", where, i)
		r := p.resolve(item)
		if r.Kind != yaml.MappingNode {
			p.diags.errorf(CodeWrongType, pos(item), "%s must be a mapping `{key: …, val: [...]}`, not %s", itemWhere, describe(r))
			ok = false
			continue
		}
		f := ExtraField{Pos: pos(item)}
		for _, fkv := range p.pairs(r, itemWhere) {
			switch fkv.key.Value {
			case "key":
				k, good := p.str(fkv, itemWhere, false)
				f.Key, ok = k, ok && good
			case "val":
				vals, _, good := p.stringList(fkv, itemWhere)
				f.Values, ok = vals, ok && good
			default:
				p.unknownKey(fkv.key, itemWhere, []string{"key", "val"}, "GitLab ignores unknown keys")
			}
		}
		out = append(out, f)
	}
	return out, ok
}

// uniqueDiagnostics drops repeats, which merges of one anchor into several
// places produce.
func uniqueDiagnostics(ds []Diagnostic) []Diagnostic {
	seen := make(map[Diagnostic]bool, len(ds))
	out := make([]Diagnostic, 0, len(ds))
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
