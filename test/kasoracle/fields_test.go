package kasoracle

import (
	"fmt"
	"strings"
	"testing"

	"github.com/envoyproxy/protoc-gen-validate/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"
)

// A field of the schema and the messages that lead to it.
type fieldPath []protoreflect.FieldDescriptor

func (p fieldPath) String() string {
	parts := make([]string, len(p))
	for i, fd := range p {
		parts[i] = string(fd.Name())
	}
	return strings.Join(parts, ".")
}

// allFields walks the schema from ConfigurationFile.
func allFields(md protoreflect.MessageDescriptor, prefix fieldPath, out []fieldPath) []fieldPath {
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		p := append(append(fieldPath{}, prefix...), fd)
		out = append(out, p)
		if fd.Message() != nil && fd.Message().FullName() != "google.protobuf.Duration" {
			out = allFields(fd.Message(), p, out)
		}
	}
	return out
}

func rulesOf(fd protoreflect.FieldDescriptor) *validate.FieldRules {
	r, _ := proto.GetExtension(fd.Options(), validate.E_Rules).(*validate.FieldRules)
	return r
}

// minimal is the smallest object of a message that KAS accepts, leaving
// out the oneof of skip (the field under test sets it).
func minimal(md protoreflect.MessageDescriptor, skip protoreflect.OneofDescriptor) map[string]any {
	obj := map[string]any{}
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		if od == skip || od.IsSynthetic() || !proto.GetExtension(od.Options(), validate.E_Required).(bool) {
			continue
		}
		first := od.Fields().Get(0)
		obj[first.JSONName()] = validSingle(first)
	}
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		r := rulesOf(fd)
		switch {
		case fd.ContainingOneof() != nil:
		case fd.IsList() && r.GetRepeated().GetMinItems() > 0:
			obj[fd.JSONName()] = []any{validSingle(fd)}
		case !fd.IsList() && r.GetString_().GetMinBytes() > 0:
			obj[fd.JSONName()] = validSingle(fd)
		}
	}
	return obj
}

// validSingle is a value of the field's type (an item, for a list) that KAS
// accepts.
func validSingle(fd protoreflect.FieldDescriptor) any {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if in := rulesOf(fd).GetString_().GetIn(); len(in) > 0 {
			return in[len(in)-1]
		}
		return "x"
	case protoreflect.BoolKind:
		return true
	case protoreflect.EnumKind:
		return string(fd.Enum().Values().Get(1).Name())
	case protoreflect.MessageKind:
		if fd.Message().FullName() == "google.protobuf.Duration" {
			return "1.5s"
		}
		return minimal(fd.Message(), nil)
	}
	panic(fmt.Sprintf("no valid value for %s", fd.FullName()))
}

// variant is one way to write the field under test.
type variant struct {
	name  string
	value any
	// raw, when set, replaces the value in the YAML text as written.
	raw string
	// sibling adds an unknown key next to the field.
	sibling bool
}

func variants(fd protoreflect.FieldDescriptor) []variant {
	good := validSingle(fd)
	var vs []variant
	if fd.IsList() {
		vs = append(vs,
			variant{name: "valid list", value: []any{good, good}},
			variant{name: "empty list", value: []any{}},
			variant{name: "null", value: nil},
			variant{name: "one item not in a list", value: good},
			variant{name: "null item", value: []any{nil}},
			variant{name: "unknown sibling", value: []any{good}, sibling: true},
		)
		for _, w := range wrongTypes(fd) {
			vs = append(vs, variant{name: "item " + w.name, value: []any{w.value}, raw: w.raw})
		}
		if in := rulesOf(fd).GetRepeated().GetItems().GetString_(); in.GetMinBytes() > 0 {
			vs = append(vs, variant{name: "empty item", value: []any{""}})
		}
		return vs
	}
	vs = append(vs,
		variant{name: "valid", value: good},
		variant{name: "null", value: nil},
		variant{name: "unknown sibling", value: good, sibling: true},
	)
	vs = append(vs, wrongTypes(fd)...)
	if r := rulesOf(fd).GetString_(); r != nil {
		vs = append(vs, variant{name: "empty string", value: ""})
		if len(r.GetIn()) > 0 {
			vs = append(vs, variant{name: "not in list", value: "bogus"})
		}
	}
	if fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Duration" {
		for _, d := range []string{"0s", "-1s", "1h", "3600", "1.0000000001s", "315576000001s", ".5s", "1.s"} {
			vs = append(vs, variant{name: "duration " + d, value: d})
		}
	}
	if fd.Message() != nil && fd.Message().FullName() != "google.protobuf.Duration" {
		vs = append(vs, variant{name: "empty mapping", value: map[string]any{}})
	}
	return vs
}

// wrongTypes are values of other JSON types, and YAML 1.1 scalars that are
// not what they look like.
func wrongTypes(fd protoreflect.FieldDescriptor) []variant {
	vs := []variant{
		{name: "number", value: 12},
		{name: "float", value: 1.5},
		{name: "boolean", value: false},
		{name: "string", value: "text"},
		{name: "mapping", value: map[string]any{"a": "b"}},
		{name: "list", value: []any{"a"}},
	}
	for _, raw := range []string{"no", "on", "Y", "~", "0x1F", "1_000", "0777", "2001-12-14", ".inf", "-.5", "'yes'", "!!str 12", "!!int '7'", "1e3"} {
		vs = append(vs, variant{name: "raw " + raw, value: "RAW-PLACEHOLDER", raw: raw})
	}
	return vs
}

// build writes a document that sets the field at p to v, inside minimal
// objects of every message on the way.
func build(p fieldPath, v variant) []byte {
	root := minimal(ConfigurationFile, nil)
	obj := root
	for i, fd := range p {
		last := i == len(p)-1
		if last {
			obj[fd.JSONName()] = v.value
			if v.sibling {
				obj["unknown_sibling_key"] = "x"
			}
			break
		}
		child := minimal(fd.Message(), p[i+1].ContainingOneof())
		if fd.IsList() {
			obj[fd.JSONName()] = []any{child}
		} else {
			obj[fd.JSONName()] = child
		}
		// A field in a oneof is the only member set.
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			for j := 0; j < od.Fields().Len(); j++ {
				if other := od.Fields().Get(j); other != fd {
					delete(obj, other.JSONName())
				}
			}
		}
		obj = child
	}
	data, err := yaml.Marshal(root)
	if err != nil {
		panic(err)
	}
	if v.raw != "" {
		data = []byte(strings.Replace(string(data), "RAW-PLACEHOLDER", v.raw, 1))
	}
	return data
}

// TestEveryFieldAgainstKAS: for every field of KAS 16.5's schema, a file
// with a valid value, null, values of every other type, YAML 1.1 scalars,
// each of its validation rules broken, and an unknown sibling key; for
// every one pkg/access gives KAS's verdict.
func TestEveryFieldAgainstKAS(t *testing.T) {
	fields := allFields(ConfigurationFile, nil, nil)
	if len(fields) < 60 {
		t.Fatalf("only %d fields in the schema", len(fields))
	}
	accepted, rejectedCount := 0, 0
	for _, p := range fields {
		for _, v := range variants(p[len(p)-1]) {
			data := build(p, v)
			agree(t, p.String()+" "+v.name, data)
			if Read(data) == nil {
				accepted++
			} else {
				rejectedCount++
			}
		}
	}
	// The generator itself is checked: valid values pass, the rest mostly
	// do not.
	for _, p := range fields {
		if err := Read(build(p, variant{value: validSingleOrList(p[len(p)-1])})); err != nil {
			t.Errorf("%s: the valid value is rejected: %v", p, err)
		}
	}
	t.Logf("%d fields, %d files KAS accepts, %d it rejects", len(fields), accepted, rejectedCount)
	if accepted < len(fields) || rejectedCount < 5*len(fields) {
		t.Errorf("too few cases: %d accepted, %d rejected", accepted, rejectedCount)
	}
}

func validSingleOrList(fd protoreflect.FieldDescriptor) any {
	if fd.IsList() {
		return []any{validSingle(fd)}
	}
	return validSingle(fd)
}
