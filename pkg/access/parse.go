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

// MaxFileSize is how large a configuration file KAS reads by default
// (agent.configuration.max_configuration_file_size, 128 KiB, in
// internal/module/agent_configuration/server/defaulting.go); a larger one is
// rejected.
const MaxFileSize = 128 * 1024

// Parse reads an agent configuration file the way KAS does and returns its
// model, with the position of every node. It never fails: what KAS would
// reject (syntax errors, unknown keys anywhere, wrong value types, broken
// validation rules) is reported in Config.Problems, each with a line, and
// left out of the model.
func Parse(filename string, data []byte) *Config {
	diags := &diagnostics{file: filename}
	cfg := &Config{File: filename}
	if len(data) > MaxFileSize {
		diags.addRejection(CodeFileTooBig, Pos{Line: 1}, "", "the file is %d bytes, more than the %d bytes KAS reads by default; %s. Split it, or ask the administrator to raise agent.configuration.max_configuration_file_size", len(data), MaxFileSize, rejected)
	}
	if doc := readDocument(diags, data); doc != nil {
		conv := newYAMLToJSON(data)
		root := conv.document(doc)
		for _, e := range conv.errs {
			diags.addRejection(CodeYAMLValue, e.at, "", "%s; %s", e.msg, rejected)
		}
		for _, d := range conv.dupes {
			diags.warnf(CodeDuplicateKey, d.second, "`%s` is written twice in one mapping (first at line %d); KAS uses the last one and ignores the other: keep one", d.key, d.first.Line)
		}
		if !conv.aborted {
			check := schemaCheck{diags: diags}
			check.file(root)
			cfg.newer = newerFields(root, schema(), "", nil)
			cfg.CIAccess = ciAccessModel(root.get("ci_access"), root.keyPos("ci_access"))
			cfg.UserAccess = userAccessModel(root.get("user_access"), root.keyPos("user_access"))
		}
	}
	cfg.Problems = uniqueDiagnostics(diags.list)
	sortDiagnostics(cfg.Problems)
	return cfg
}

// maxMergeDepth bounds how far alias chains are followed for messages.
const maxMergeDepth = 16

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// readDocument parses the first YAML document into a node tree, reporting
// syntax errors. KAS's yaml.v2 reads the first document only; the rest of
// the file is ignored, and only a warning says so.
func readDocument(diags *diagnostics, data []byte) *yaml.Node {
	if bytes.Contains(firstLines(data), []byte("%YAML 1.2")) {
		diags.addRejection(CodeYAMLSyntax, Pos{Line: 1}, "", "the file declares `%%YAML 1.2`, and KAS's YAML parser reads YAML 1.1 only (\"found incompatible YAML document\"); remove the directive. %s", rejected)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	first, err := decodeNode(dec)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			syntaxError(diags, err, data)
		}
		return nil
	}
	second, err := decodeNode(dec)
	switch {
	case err == nil && len(second.Content) > 0 && !isNull(second.Content[0]):
		diags.warnf(CodeSecondDocument, pos(second.Content[0]), "the file holds a second YAML document, and KAS reads only the first: everything after the `---` is ignored; merge the two, or remove the second")
	case err != nil && !errors.Is(err, io.EOF):
		diags.warnf(CodeSecondDocument, Pos{Line: 1}, "the file holds a second YAML document, which is not valid YAML; KAS reads only the first document and ignores it: remove it")
	}
	return first
}

// firstLines is the head of the file, where directives are.
func firstLines(data []byte) []byte {
	if i := bytes.Index(data, []byte("\n---")); i >= 0 {
		return data[:i]
	}
	return data
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
func syntaxError(diags *diagnostics, err error, data []byte) {
	at, msg := yamlpos.Locate(data, err, checkSyntax)
	diags.addRejection(CodeYAMLSyntax, Pos{Line: at.Line, Column: at.Column}, "", "the file is not valid YAML: %s; fix the syntax. %s", yamlpos.Explain(msg), rejected)
}

// checkSyntax parses the first document, as readDocument does, and returns
// its error.
func checkSyntax(data []byte) error {
	_, err := decodeNode(yaml.NewDecoder(bytes.NewReader(data)))
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the kind of a node for messages about YAML structure.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the scalar %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func quoteList(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = "`" + k + "`"
	}
	return strings.Join(q, ", ")
}

// newerField is a field of a later GitLab than 16.5 that the file uses.
type newerField struct {
	field *field
	where string
	at    Pos
}

// newerFields lists the fields newer than KAS 16.5 that the file sets.
func newerFields(v *jv, m *message, where string, out []newerField) []newerField {
	if v == nil || v.kind != jObject {
		return out
	}
	for _, f := range v.fields {
		fd := m.field(f.key)
		if fd == nil {
			continue
		}
		fieldWhere := join(where, f.key)
		if !fd.since.IsZero() {
			out = append(out, newerField{field: fd, where: fieldWhere, at: f.keyAt})
		}
		if fd.typ != tMessage {
			continue
		}
		if fd.list {
			if f.val.kind == jArray {
				for i, item := range f.val.items {
					out = newerFields(item, fd.msg, fmt.Sprintf("%s[%d]", fieldWhere, i), out)
				}
			}
			continue
		}
		out = newerFields(f.val, fd.msg, fieldWhere, out)
	}
	return out
}

// ciAccessModel builds the ci_access model from the checked JSON.
func ciAccessModel(v *jv, at Pos) *CIAccess {
	if v == nil {
		return nil
	}
	ci := &CIAccess{Pos: at}
	if !v.usable() || v.kind != jObject {
		return ci
	}
	ci.ProjectsPos, ci.Projects = v.keyPos("projects"), entries(v.get("projects"), KindProject)
	ci.GroupsPos, ci.Groups = v.keyPos("groups"), entries(v.get("groups"), KindGroup)
	if in := v.get("instance"); in.usable() {
		e := entry(in, KindInstance, 0)
		e.Pos = v.keyPos("instance")
		ci.Instance = &e
	}
	return ci
}

func entries(v *jv, kind EntryKind) []Entry {
	if !v.usable() {
		return nil
	}
	var out []Entry
	for i, item := range v.items {
		if item.usable() {
			out = append(out, entry(item, kind, i))
		}
	}
	return out
}

func entry(v *jv, kind EntryKind, index int) Entry {
	e := Entry{Kind: kind, Index: index, Pos: v.at}
	if id := v.get("id"); id.usable() {
		e.ID, e.IDPos = id.text, v.keyPos("id")
	}
	if ns := v.get("default_namespace"); ns.usable() {
		e.DefaultNamespace, e.DefaultNamespacePos = ns.text, v.keyPos("default_namespace")
	}
	if envs := v.get("environments"); envs.usable() {
		e.EnvironmentsPos = v.keyPos("environments")
		for _, item := range envs.items {
			if item.usable() {
				e.Environments = append(e.Environments, EnvironmentPattern{Pattern: item.text, Pos: item.at})
			}
		}
	} else if envs != nil && !envs.bad {
		e.EnvironmentsPos = v.keyPos("environments") // `environments:` with no value
	}
	if p := v.get("protected_branches_only"); p.usable() {
		e.ProtectedBranchesOnly, e.ProtectedBranchesOnlyPos = p.b, v.keyPos("protected_branches_only")
	}
	if rm := v.get("resource_management").get("enabled"); rm.usable() {
		e.ResourceManagement = rm.b
	}
	if aa := v.get("access_as"); aa.usable() {
		e.AccessAs = accessAsModel(aa, v.keyPos("access_as"))
	}
	return e
}

// accessAsModel reads an access_as mapping of ci_access or user_access.
func accessAsModel(v *jv, at Pos) *AccessAs {
	a := &AccessAs{Pos: at}
	for _, f := range v.fields {
		if !f.val.usable() {
			continue
		}
		a.Mode, a.ModePos = AccessMode(f.key), f.keyAt
		if a.Mode == AccessImpersonate {
			a.Impersonate = impersonationModel(f.val, f.keyAt)
		}
		break // the schema check rejects a second mode
	}
	return a
}

func impersonationModel(v *jv, at Pos) *Impersonation {
	imp := &Impersonation{Pos: at}
	if u := v.get("username"); u.usable() {
		imp.Username, imp.UsernamePos = u.text, v.keyPos("username")
	}
	if uid := v.get("uid"); uid.usable() {
		imp.UID = uid.text
	}
	if gs := v.get("groups"); gs.usable() {
		for _, g := range gs.items {
			if g.usable() {
				imp.Groups = append(imp.Groups, g.text)
				imp.GroupsPos = append(imp.GroupsPos, g.at)
			}
		}
	}
	if extra := v.get("extra"); extra.usable() {
		for _, item := range extra.items {
			if !item.usable() {
				continue
			}
			f := ExtraField{Pos: item.at}
			if k := item.get("key"); k.usable() {
				f.Key = k.text
			}
			if vals := item.get("val"); vals.usable() {
				for _, s := range vals.items {
					if s.usable() {
						f.Values = append(f.Values, s.text)
					}
				}
			}
			imp.Extra = append(imp.Extra, f)
		}
	}
	return imp
}

// userAccessModel builds the user_access model from the checked JSON.
func userAccessModel(v *jv, at Pos) *UserAccess {
	if v == nil {
		return nil
	}
	ua := &UserAccess{Pos: at}
	if !v.usable() || v.kind != jObject {
		return ua
	}
	if aa := v.get("access_as"); aa.usable() {
		ua.AccessAs = accessAsModel(aa, v.keyPos("access_as"))
	}
	userEntries := func(key string, kind EntryKind) ([]UserEntry, Pos) {
		list := v.get(key)
		if !list.usable() {
			return nil, v.keyPos(key)
		}
		var out []UserEntry
		for i, item := range list.items {
			if !item.usable() {
				continue
			}
			e := UserEntry{Kind: kind, Index: i, Pos: item.at}
			if id := item.get("id"); id.usable() {
				e.ID, e.IDPos = id.text, item.keyPos("id")
			}
			out = append(out, e)
		}
		return out, v.keyPos(key)
	}
	ua.Projects, ua.ProjectsPos = userEntries("projects", KindProject)
	ua.Groups, ua.GroupsPos = userEntries("groups", KindGroup)
	return ua
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
