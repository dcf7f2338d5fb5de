// Package kasoracle reads an agent configuration file exactly as KAS 16.5
// does, to hold pkg/access to the same verdict.
//
// KAS (gitlab-agent at commit 8daa08cc, public as pluralsh/kubernetes-agent;
// internal/module/agent_configuration/server/server.go,
// parseYAMLToConfiguration and fetchConfiguration) refuses a file larger than
// 128 KiB, turns the YAML into JSON with sigs.k8s.io/yaml.YAMLToJSON, treats
// "null" as an empty configuration, decodes the JSON with
// protojson.Unmarshal into agentcfg.ConfigurationFile, and calls
// ValidateAll(). This package does the same with the same library versions
// (go.mod), on the message descriptor of pkg/agentcfg/agentcfg.proto
// (testdata/agentcfg-8daa08cc.txtpb, extracted from the generated
// agentcfg.pb.go), and applies its protoc-gen-validate rules, read from the
// descriptor's options, the way the generated agentcfg.pb.validate.go does.
package kasoracle

import (
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/envoyproxy/protoc-gen-validate/validate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/durationpb"
	"sigs.k8s.io/yaml"
)

//go:embed testdata/agentcfg-8daa08cc.txtpb
var descriptorText []byte

// maxConfigurationFileSize is KAS's default
// (agent_configuration/server/defaulting.go).
const maxConfigurationFileSize = 128 * 1024

// ConfigurationFile is agentcfg.ConfigurationFile.
var ConfigurationFile = func() protoreflect.MessageDescriptor {
	var fdp descriptorpb.FileDescriptorProto
	if err := (prototext.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(descriptorText, &fdp); err != nil {
		panic(err)
	}
	fd, err := protodesc.NewFile(&fdp, protoregistry.GlobalFiles)
	if err != nil {
		panic(err)
	}
	return fd.Messages().ByName("ConfigurationFile")
}()

// Read is KAS's verdict on a file: nil when KAS accepts it, else KAS's
// error.
func Read(data []byte) error {
	if len(data) > maxConfigurationFileSize {
		return fmt.Errorf("file too big: %d bytes", len(data))
	}
	configJSON, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("YAMLToJSON: %w", err)
	}
	if string(configJSON) == "null" {
		return nil
	}
	msg := dynamicpb.NewMessage(ConfigurationFile)
	if err := protojson.Unmarshal(configJSON, msg); err != nil {
		return fmt.Errorf("protojson.Unmarshal: %w", err)
	}
	return validateMessage(msg, string(ConfigurationFile.Name()))
}

// validateMessage applies the protoc-gen-validate rules of every field and
// oneof, and recurses into set messages, as ValidateAll does.
func validateMessage(m protoreflect.Message, where string) error {
	var errs []error
	md := m.Descriptor()
	for i := 0; i < md.Oneofs().Len(); i++ {
		od := md.Oneofs().Get(i)
		if proto.GetExtension(od.Options(), validate.E_Required).(bool) && m.WhichOneof(od) == nil {
			errs = append(errs, fmt.Errorf("%s.%s: value is required", where, od.Name()))
		}
	}
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		fieldWhere := where + "." + string(fd.Name())
		if od := fd.ContainingOneof(); od != nil && m.WhichOneof(od) != fd {
			continue // rules of a oneof member apply only when it is the one set
		}
		rules, _ := proto.GetExtension(fd.Options(), validate.E_Rules).(*validate.FieldRules)
		errs = append(errs, applyRules(m, fd, rules, fieldWhere)...)
		switch {
		case fd.IsList() && fd.Message() != nil:
			list := m.Get(fd).List()
			for j := 0; j < list.Len(); j++ {
				if err := validateMessage(list.Get(j).Message(), fmt.Sprintf("%s[%d]", fieldWhere, j)); err != nil {
					errs = append(errs, err)
				}
			}
		case fd.Message() != nil && !fd.IsMap() && m.Has(fd) && fd.Message().FullName() != "google.protobuf.Duration":
			if err := validateMessage(m.Get(fd).Message(), fieldWhere); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// applyRules checks one field's rules. It panics on a rule it does not
// implement, so that a schema change cannot make the oracle silently lax.
func applyRules(m protoreflect.Message, fd protoreflect.FieldDescriptor, rules *validate.FieldRules, where string) []error {
	if rules == nil {
		return nil
	}
	rest := proto.Clone(rules).(*validate.FieldRules)
	var errs []error
	checkString := func(s string, r *validate.StringRules, at string) {
		if r.MinBytes != nil && uint64(len(s)) < r.GetMinBytes() {
			errs = append(errs, fmt.Errorf("%s: value length must be at least %d bytes", at, r.GetMinBytes()))
		}
		if len(r.In) > 0 {
			ok := false
			for _, in := range r.In {
				ok = ok || s == in
			}
			if !ok {
				errs = append(errs, fmt.Errorf("%s: value must be in list %v", at, r.In))
			}
		}
	}
	consumeString := func(r *validate.StringRules) {
		r.MinBytes, r.In = nil, nil
		if proto.Size(r) != 0 {
			panic(fmt.Sprintf("%s: unhandled string rule %v", where, r))
		}
	}
	switch {
	case rules.GetString_() != nil:
		// A proto3 optional field is checked only when set.
		if !fd.HasPresence() || m.Has(fd) {
			checkString(m.Get(fd).String(), rules.GetString_(), where)
		}
		consumeString(rest.GetString_())
		rest.Type = nil
	case rules.GetRepeated() != nil:
		r := rules.GetRepeated()
		list := m.Get(fd).List()
		if r.MinItems != nil && uint64(list.Len()) < r.GetMinItems() {
			errs = append(errs, fmt.Errorf("%s: value must contain at least %d item(s)", where, r.GetMinItems()))
		}
		if items := r.GetItems(); items != nil {
			if items.GetString_() == nil {
				panic(fmt.Sprintf("%s: unhandled item rule %v", where, items))
			}
			for i := 0; i < list.Len(); i++ {
				checkString(list.Get(i).String(), items.GetString_(), fmt.Sprintf("%s[%d]", where, i))
			}
			itemRest := proto.Clone(items).(*validate.FieldRules)
			consumeString(itemRest.GetString_())
		}
		rr := rest.GetRepeated()
		rr.MinItems, rr.Items = nil, nil
		if proto.Size(rr) != 0 {
			panic(fmt.Sprintf("%s: unhandled repeated rule %v", where, rr))
		}
		rest.Type = nil
	case rules.GetMessage() != nil:
		if rules.GetMessage().GetRequired() && !m.Has(fd) {
			errs = append(errs, fmt.Errorf("%s: value is required", where))
		}
		rest.Message = nil
	case rules.GetDuration() != nil:
		r := rules.GetDuration()
		if m.Has(fd) {
			d := m.Get(fd).Message()
			secs := d.Get(d.Descriptor().Fields().ByName("seconds")).Int()
			nanos := d.Get(d.Descriptor().Fields().ByName("nanos")).Int()
			dur := time.Duration(secs)*time.Second + time.Duration(nanos)
			if gt := r.GetGt(); gt != nil && dur <= time.Duration(gt.GetSeconds())*time.Second+time.Duration(gt.GetNanos()) {
				errs = append(errs, fmt.Errorf("%s: value must be greater than %v", where, gt.AsDuration()))
			}
		}
		rd := rest.GetDuration()
		rd.Gt = nil
		if proto.Size(rd) != 0 {
			panic(fmt.Sprintf("%s: unhandled duration rule %v", where, rd))
		}
		rest.Type = nil
	}
	if proto.Size(rest) != 0 {
		panic(fmt.Sprintf("%s: unhandled rules %v", where, rest))
	}
	return errs
}
