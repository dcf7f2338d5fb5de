package kasoracle

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// The differential fuzz target writes well-formed YAML documents from the
// fuzzer's bytes: keys of the schema (and wrong ones) at every level, values
// of the right and of wrong types, YAML 1.1 scalars, tags, anchors, aliases
// and merge keys, in block and flow style. Well-formed, because yaml.v2's
// and yaml.v3's parsers differ on some malformed input (`{}:` is a mapping
// to yaml.v3 and `{}` to yaml.v2); what this target looks for is a
// difference in meaning.

// docGen writes one document; its choices come from the fuzzer's bytes.
type docGen struct {
	in      []byte
	b       strings.Builder
	anchors []anchor
	depth   int
}

type anchor struct {
	name    string
	mapping bool
}

func (g *docGen) pick(n int) int {
	if len(g.in) == 0 || n <= 1 {
		return 0
	}
	c := int(g.in[0])
	g.in = g.in[1:]
	return c % n
}

// scalars are plain and quoted YAML scalars whose YAML 1.1 meaning is easy
// to get wrong.
var scalars = []string{
	"x", "a/b", "group/project", "review/*", "production", "debug", "warn", "none", "server", "must_match",
	"''", `""`, "'yes'", `"no"`, "yes", "no", "on", "off", "y", "n", "Y", "N", "true", "False", "~", "null", "NULL",
	"0", "12", "-3", "0x1F", "0o17", "0777", "1_000", "0b101", "-0b11", "1.5", ".5", "1e3", "1.0", "+1", "-.inf", ".nan",
	"2001-12-14", "2001-12-14t21:59:43.10-05:00", "1s", "3600s", "0s", "-1s", "1.5s", "1h", "'3600s'", `"0.1s"`,
	"!!str 12", "!!int '7'", "!!float 1", "!!bool yes", "! 12", "!!binary YWI=", "!!null ''", "!foo bar", "<<",
}

var wrongKeys = []string{"unknown", "Id", "default-namespace", "yes", "1", "~", `"<<"`, "enviroments", "project", ".base"}

func (g *docGen) scalar() string { return scalars[g.pick(len(scalars))] }

// typed is a scalar of the field's type, mostly right.
func (g *docGen) typed(fd protoreflect.FieldDescriptor) string {
	if fd == nil || g.pick(4) == 3 {
		return g.scalar()
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return []string{"true", "false"}[g.pick(2)]
	case protoreflect.EnumKind:
		return []string{"debug", "info", "warn", "error"}[g.pick(4)]
	case protoreflect.MessageKind: // a Duration
		return []string{"1s", "3600s", "'1.5s'"}[g.pick(3)]
	}
	if in := rulesOf(fd).GetString_().GetIn(); len(in) > 0 {
		return in[g.pick(len(in))]
	}
	return []string{"x", "a/b", "review/*", "'0 0 * * *'"}[g.pick(4)]
}

// required writes, most of the time, what the message cannot do without.
func (g *docGen) required(md protoreflect.MessageDescriptor, indent int, flow bool) int {
	if md == nil || g.pick(5) == 4 {
		return 0
	}
	obj := minimal(md, nil)
	n := 0
	for k, v := range obj {
		if flow {
			if n > 0 {
				g.b.WriteString(", ")
			}
		} else {
			g.b.WriteString("\n" + strings.Repeat(" ", indent))
		}
		switch v.(type) {
		case string:
			g.b.WriteString(k + ": x")
		case []any:
			g.b.WriteString(k + ": [x]")
		default:
			g.b.WriteString(k + ": {}")
		}
		n++
	}
	return n
}

// key picks a field of md, or a wrong key.
func (g *docGen) key(md protoreflect.MessageDescriptor) (string, protoreflect.FieldDescriptor) {
	if md != nil && md.Fields().Len() > 0 && g.pick(8) != 7 {
		fd := md.Fields().Get(g.pick(md.Fields().Len()))
		return string(fd.Name()), fd
	}
	return wrongKeys[g.pick(len(wrongKeys))], nil
}

// value writes a value for field fd (nil: any), at indentation indent;
// item says it is an item of fd's list.
func (g *docGen) value(fd protoreflect.FieldDescriptor, indent int, flow, item bool) {
	g.depth++
	defer func() { g.depth-- }()
	isMsg := fd != nil && fd.Message() != nil && fd.Message().FullName() != "google.protobuf.Duration"
	isList := fd != nil && fd.IsList() && !item
	choice := g.pick(10)
	switch {
	case g.depth > 6:
		g.b.WriteString(g.typed(fd))
	case choice == 9 && len(g.anchors) > 0:
		g.b.WriteString("*" + g.anchors[g.pick(len(g.anchors))].name)
	case isList && choice != 8 || fd == nil && choice == 5:
		g.list(fd, indent, flow)
	case isMsg && choice != 8 || fd == nil && choice == 6:
		var md protoreflect.MessageDescriptor
		if isMsg {
			md = fd.Message()
		}
		g.mapping(md, indent, flow)
	default:
		g.b.WriteString(g.typed(fd))
	}
}

func (g *docGen) anchor(mapping bool) {
	if g.pick(6) == 5 {
		name := fmt.Sprintf("a%d", len(g.anchors))
		g.b.WriteString("&" + name + " ")
		g.anchors = append(g.anchors, anchor{name: name, mapping: mapping})
	}
}

func (g *docGen) list(fd protoreflect.FieldDescriptor, indent int, flow bool) {
	item := fd
	if fd != nil && !fd.IsList() {
		item = nil
	}
	n := g.pick(3) + 1
	if flow || g.pick(3) == 2 {
		g.anchor(false)
		g.b.WriteString("[")
		for i := 0; i < n; i++ {
			if i > 0 {
				g.b.WriteString(", ")
			}
			g.value(item, indent, true, true)
		}
		g.b.WriteString("]")
		return
	}
	g.anchor(false)
	for i := 0; i < n; i++ {
		g.b.WriteString("\n" + strings.Repeat(" ", indent) + "- ")
		g.value(item, indent+2, false, true)
	}
}

func (g *docGen) mapping(md protoreflect.MessageDescriptor, indent int, flow bool) {
	n := g.pick(4)
	if flow || g.pick(3) == 2 {
		g.anchor(true)
		g.b.WriteString("{")
		req := g.required(md, indent, true)
		for i := 0; i < n; i++ {
			if i > 0 || req > 0 {
				g.b.WriteString(", ")
			}
			k, fd := g.key(md)
			g.b.WriteString(k + ": ")
			g.value(fd, indent, true, false)
		}
		g.b.WriteString("}")
		return
	}
	if n == 0 {
		g.b.WriteString("{}")
		return
	}
	g.anchor(true)
	g.required(md, indent, false)
	for i := 0; i < n; i++ {
		g.b.WriteString("\n" + strings.Repeat(" ", indent))
		if g.pick(8) == 7 && g.hasMappingAnchor() {
			g.b.WriteString("<<: *" + g.mappingAnchor())
			continue
		}
		k, fd := g.key(md)
		g.b.WriteString(k + ": ")
		g.value(fd, indent+2, false, false)
	}
}

func (g *docGen) hasMappingAnchor() bool {
	for _, a := range g.anchors {
		if a.mapping {
			return true
		}
	}
	return false
}

func (g *docGen) mappingAnchor() string {
	var names []string
	for _, a := range g.anchors {
		if a.mapping {
			names = append(names, a.name)
		}
	}
	return names[g.pick(len(names))]
}

// document writes a top-level mapping of the schema's sections.
func document(in []byte) []byte {
	g := &docGen{in: in}
	n := g.pick(4) + 1
	for i := 0; i < n; i++ {
		k, fd := g.key(ConfigurationFile)
		g.b.WriteString(k + ": ")
		if fd != nil && fd.Message() != nil {
			g.mapping(fd.Message(), 2, false)
		} else {
			g.value(fd, 2, false, false)
		}
		g.b.WriteString("\n")
	}
	return []byte(g.b.String())
}

// FuzzAgreesWithKAS: on every document the generator writes, pkg/access
// rejects exactly when KAS 16.5 does.
func FuzzAgreesWithKAS(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03", "\x07\x07\x07\x07\x07\x07\x07\x07", "ci_access projects id", strings.Repeat("\x10\x20\x30\x40", 16)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		agree(t, "generated document", document(in))
	})
}

// TestGeneratorWritesBothVerdicts: the generator makes files KAS accepts
// and files it rejects, so the fuzz target tests both.
func TestGeneratorWritesBothVerdicts(t *testing.T) {
	accepted, rejected := 0, 0
	for i := 0; i < 2000; i++ {
		in := []byte(fmt.Sprintf("%08d-%d", i*7919, i))
		for j := range in {
			in[j] = in[j]*31 + byte(i)
		}
		doc := document(in)
		agree(t, fmt.Sprintf("generated document %d", i), doc)
		if Read(doc) == nil {
			accepted++
		} else {
			rejected++
		}
	}
	if accepted < 50 || rejected < 50 {
		t.Errorf("generator: %d accepted, %d rejected", accepted, rejected)
	}
	t.Logf("%d accepted, %d rejected", accepted, rejected)
}
