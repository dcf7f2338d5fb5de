package access

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yaml11"
)

// rejected is the end of every message about a mistake that makes KAS
// reject the file.
const rejected = "KAS rejects the whole file, and the agent keeps its previous configuration (ci_access and user_access included)"

// schemaCheck checks the JSON that KAS gets against the schema the way
// protojson.Unmarshal (google.golang.org/protobuf v1.31.0,
// encoding/protojson/decode.go) and the generated ValidateAll methods do, and
// reports every violation, where KAS stops at the first.
type schemaCheck struct {
	diags *diagnostics
}

// reject reports a mistake that makes KAS reject the file.
func (c *schemaCheck) reject(code string, at Pos, suggestion, format string, args ...any) {
	c.diags.addRejection(code, at, suggestion, format, args...)
}

// file checks the document's value: an object, or null for an empty file.
func (c *schemaCheck) file(v *jv) {
	if v == nil || v.kind == jNull {
		return
	}
	if v.kind != jObject {
		c.reject(CodeWrongType, v.at, "", "an agent configuration is a mapping with keys such as `ci_access`, not %s; %s", describeValue(v), rejected)
		v.bad = true
		return
	}
	c.message(v, schema(), "")
}

// message checks an object against a message: protojson's field lookup and
// value types, then protoc-gen-validate's rules.
func (c *schemaCheck) message(v *jv, m *message, where string) {
	setOneofs := map[string]string{}
	for i := range v.fields {
		f := &v.fields[i]
		if strings.HasPrefix(f.key, badKeyPrefix) {
			continue // reported as a YAML error
		}
		fd := m.field(f.key)
		if fd == nil {
			c.unknownField(v, f, m, where)
			f.val.bad = true
			continue
		}
		fieldWhere := join(where, f.key)
		if f.val.kind == jNull {
			if fd.msg == nil || fd.msg.name != "CiAccessInstanceCF" {
				continue // protojson leaves a null field unset
			}
			c.diags.warnf(CodeMissingValue, f.keyAt, "`%s` has no value, which KAS reads as not written: it authorizes nothing; write `instance: {}`", fieldWhere)
			continue
		}
		if fd.oneof != "" {
			if other, ok := setOneofs[fd.oneof]; ok {
				c.reject(CodeConflictingAccessAs, f.keyAt, "", "%s names both `%s` and `%s`, but only one of %s may be set; keep one. %s", whereOrTop(where), other, f.key, quoteList(m.oneofMembers(fd.oneof)), rejected)
				f.val.bad = true
				continue
			}
			setOneofs[fd.oneof] = f.key
		}
		c.value(f.val, fd, fieldWhere, f.key)
	}
	c.validate(v, m, where, setOneofs)
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func whereOrTop(where string) string {
	if where == "" {
		return "the agent configuration"
	}
	return "`" + where + "`"
}

// value checks one field's non-null value.
func (c *schemaCheck) value(v *jv, fd *field, where, name string) {
	switch {
	case fd.list:
		if v.kind != jArray {
			hint := ""
			if v.kind == jString && fd.typ == tString {
				hint = fmt.Sprintf(" (write `%s: [%s]`)", name, v.text)
			}
			c.typeError(v, where, "a list"+hint)
			return
		}
		for i, item := range v.items {
			itemWhere := fmt.Sprintf("%s[%d]", where, i)
			if item.bad {
				continue
			}
			if item.kind == jNull {
				c.reject(CodeMissingValue, item.at, "", "item %d of `%s` is empty (null), which KAS cannot read as %s; remove it or write a value. %s", i, where, typeName(fd), rejected)
				item.bad = true
				continue
			}
			c.single(item, fd, itemWhere)
		}
	default:
		c.single(v, fd, where)
	}
}

// single checks a value that is not a list.
func (c *schemaCheck) single(v *jv, fd *field, where string) {
	if v.bad {
		return // a value JSON cannot hold, reported as a YAML error
	}
	switch fd.typ {
	case tString:
		if v.kind != jString {
			c.typeError(v, where, "a string")
		}
	case tBool:
		if v.kind != jBool {
			c.typeError(v, where, "true or false")
		}
	case tEnum:
		switch v.kind {
		case jString:
			for _, name := range fd.enum {
				if v.text == name {
					return
				}
			}
			c.reject(CodeInvalidValue, v.at, closestKey(v.text, fd.enum), "`%s` is %q, which is not one of %s; %s", where, v.text, quoteList(fd.enum), rejected)
			v.bad = true
		case jNumber:
			if !jsonWhole(v.text, 32, true) {
				c.typeError(v, where, "one of "+quoteList(fd.enum))
			}
		default:
			c.typeError(v, where, "one of "+quoteList(fd.enum))
		}
	case tDuration:
		if v.kind != jString {
			c.typeError(v, where, `a duration in seconds as a string, such as "3600s"`)
			return
		}
		if _, ok := parseDuration(v.text); !ok {
			c.reject(CodeInvalidValue, v.at, "", "`%s` is %q, but durations are written in seconds with an `s`, such as \"3600s\" or \"1.5s\" (not \"1h\"); %s", where, v.text, rejected)
			v.bad = true
		}
	case tInt64, tUint64:
		bits, signed := 64, fd.typ == tInt64
		text := v.text
		switch v.kind {
		case jNumber:
		case jString:
			if strings.TrimSpace(text) != text || !isJSONNumber(text) {
				c.typeError(v, where, "a whole number")
				return
			}
		default:
			c.typeError(v, where, "a whole number")
			return
		}
		if !jsonWhole(text, bits, signed) {
			c.typeError(v, where, "a whole number in range")
		}
	case tStringMap:
		if v.kind != jObject {
			c.typeError(v, where, "a mapping of names to strings")
			return
		}
		for _, f := range v.fields {
			if f.val.kind != jString {
				c.typeError(f.val, join(where, f.key), "a string")
			}
		}
	case tMessage:
		if v.kind != jObject {
			c.typeError(v, where, "a mapping"+messageHint(fd, v))
			return
		}
		c.message(v, fd.msg, where)
	}
}

// messageHint suggests the mapping to write instead of a scalar.
func messageHint(fd *field, v *jv) string {
	switch {
	case fd.msg.name == "CiAccessAsCF":
		return " such as `{ci_job: {}}`"
	case fd.msg.name == "UserAccessAsCF":
		return " such as `{user: {}}`"
	case len(fd.msg.fields) == 0:
		return fmt.Sprintf(": write `%s: {}`", fd.name)
	case (fd.msg.field("id") != nil) && v.kind == jString:
		return fmt.Sprintf(": write `- id: %s`", v.text)
	case fd.msg.name == "CiAccessInstanceCF":
		return ": write `instance: {}`"
	}
	return ""
}

func typeName(fd *field) string {
	switch fd.typ {
	case tString:
		return "a string"
	case tMessage:
		return "a mapping"
	}
	return "a value"
}

// typeError reports a value of the wrong JSON type.
func (c *schemaCheck) typeError(v *jv, where, want string) {
	c.reject(CodeWrongType, v.at, "", "`%s` must be %s, not %s%s; %s", where, want, describeValue(v), quoteHint(v), rejected)
	v.bad = true
}

// describeValue names a JSON value for messages, saying what YAML 1.1 made
// of an unquoted scalar.
func describeValue(v *jv) string {
	var s string
	switch v.kind {
	case jNull:
		s = "empty (null)"
	case jBool:
		s = "the boolean " + strconv.FormatBool(v.b)
	case jNumber:
		s = "the number " + v.text
	case jString:
		return fmt.Sprintf("the string %q", v.text)
	case jObject:
		return "a mapping"
	case jArray:
		return "a list"
	}
	if value := s[strings.LastIndexByte(s, ' ')+1:]; v.plain != "" && v.plain != value {
		s += fmt.Sprintf(" (YAML 1.1, which KAS reads, takes an unquoted `%s` for %s)", v.plain, value)
	}
	return s
}

// quoteHint suggests quoting a scalar that YAML read as another type.
func quoteHint(v *jv) string {
	if v.plain != "" {
		return fmt.Sprintf("; if you mean the text, quote it: \"%s\"", v.plain)
	}
	return ""
}

// unknownField reports a key the message does not have.
func (c *schemaCheck) unknownField(obj *jv, f *jfield, m *message, where string) {
	place := whereOrTop(where)
	if story, ok := m.gone[f.key]; ok {
		in := ""
		if where != "" {
			in = " in " + place
		}
		c.reject(CodeRemovedKey, f.keyAt, "", "`%s`%s is no longer part of the agent configuration: %s; remove it. %s", f.key, in, story, rejected)
		return
	}
	if hint := misplacedHint(f.key, where); hint != "" {
		c.reject(CodeUnknownKey, f.keyAt, "", "unknown key `%s` in %s: %s; %s", f.key, place, hint, rejected)
		return
	}
	if where == "" && f.val.node != nil && f.val.node.Anchor != "" {
		c.reject(CodeUnknownKey, f.keyAt, "", "unknown top-level key `%s`: a key that only holds the YAML anchor &%s is a field all the same, and there is no `%s`; move the anchor to the first place that uses it, or write the values out. %s", f.key, f.val.node.Anchor, f.key, rejected)
		return
	}
	if s := closestKey(f.key, m.names()); s != "" {
		c.reject(CodeUnknownKey, f.keyAt, s, "unknown key `%s` in %s; did you mean `%s`? %s", f.key, place, s, rejected)
		return
	}
	if len(m.fields) == 0 {
		c.reject(CodeUnknownKey, f.keyAt, "", "unknown key `%s` in %s, which takes no settings: write `%s: {}`. %s", f.key, place, lastName(where), rejected)
		return
	}
	c.reject(CodeUnknownKey, f.keyAt, "", "unknown key `%s` in %s (known: %s); %s", f.key, place, quoteList(m.names()), rejected)
}

func lastName(where string) string {
	if i := strings.LastIndexByte(where, '.'); i >= 0 {
		return where[i+1:]
	}
	return where
}

// misplacedHint explains keys that are valid one level up or down.
func misplacedHint(key, where string) string {
	switch {
	case strings.HasSuffix(where, ".access_as") && (key == "username" || key == "uid" || key == "groups" || key == "extra"):
		return fmt.Sprintf("`%s` belongs under `impersonate`: write `access_as: {impersonate: {%s: …}}`", key, key)
	case where == "ci_access" && (key == "id" || key == "environments" || key == "access_as" || key == "default_namespace" || key == "protected_branches_only"):
		return fmt.Sprintf("`%s` belongs to an item of `projects` or `groups`, as in `projects: [{id: group/project, %s: …}]`", key, key)
	case where == "" && (key == "projects" || key == "groups" || key == "instance"):
		return fmt.Sprintf("`%s` belongs under `ci_access` (or `user_access`), not at the top level", key)
	case where == "" && key == "access_as":
		return "`access_as` belongs to an entry of `ci_access`, or under `user_access`"
	case where == "ci_access.instance" && key == "id":
		return "`instance` takes no `id`: it authorizes every project of the instance; remove `id`, or move this entry to `projects` or `groups`"
	}
	return ""
}

// validate applies protoc-gen-validate's rules (agentcfg.pb.validate.go).
func (c *schemaCheck) validate(v *jv, m *message, where string, setOneofs map[string]string) {
	for _, fd := range m.fields {
		val := v.get(fd.name)
		present := val.usable()
		if val != nil && val.bad {
			continue
		}
		fieldWhere := join(where, fd.name)
		switch {
		case fd.list && fd.minItems > 0 && (!present || len(val.items) < fd.minItems):
			at := v.where()
			if present {
				at = val.at
			}
			c.reject(CodeMissingValue, at, "", "`%s` needs at least %d value; write `%s: [value]`. %s", fieldWhere, fd.minItems, fd.name, rejected)
		case fd.list && fd.minBytes && present:
			for i, item := range val.items {
				if item.kind == jString && item.text == "" {
					c.reject(CodeEmptyValue, item.at, "", "item %d of `%s` is an empty string, which KAS does not allow; remove it or write a value. %s", i, fieldWhere, rejected)
					item.bad = true
				}
			}
		case fd.list:
		case fd.minBytes && (present || !fd.presence && fd.oneof == ""):
			if present && val.text != "" {
				break
			}
			if fd.oneof != "" && setOneofs[fd.oneof] != fd.name {
				break
			}
			if present {
				c.reject(CodeEmptyValue, val.at, "", "`%s` is empty; KAS requires a value. %s", fieldWhere, rejected)
				val.bad = true
			} else {
				c.reject(CodeMissingValue, v.where(), "", "%s has no `%s`, which KAS requires%s. %s", whereOrTop(where), fd.name, missingHint(m, fd), rejected)
			}
		case len(fd.in) > 0 && present:
			ok := false
			for _, s := range fd.in {
				ok = ok || val.text == s
			}
			if !ok {
				c.reject(CodeInvalidValue, val.at, closestKey(val.text, fd.in[1:]), "`%s` is %q, which is not one of %s; %s", fieldWhere, val.text, quoteList(fd.in[1:]), rejected)
				val.bad = true
			}
		case fd.durationGT0 && present:
			if d, ok := parseDuration(val.text); ok && d.Sign() <= 0 {
				c.reject(CodeInvalidValue, val.at, "", "`%s` is %q, but it must be longer than zero; %s", fieldWhere, val.text, rejected)
				val.bad = true
			}
		}
	}
	for _, oneof := range m.requiredOneofs {
		if _, ok := setOneofs[oneof]; !ok {
			code := CodeMissingValue
			if m.name == "CiAccessAsCF" || m.name == "UserAccessAsCF" {
				code = CodeEmptyAccessAs
			}
			c.reject(code, v.where(), "", "%s names none of %s, and KAS requires one%s. %s", whereOrTop(where), quoteList(m.oneofMembers(oneof)), oneofHint(m), rejected)
		}
	}
}

func missingHint(m *message, fd *field) string {
	switch {
	case fd.name == "id":
		return fmt.Sprintf(": add `id: path/to/%s`", strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(m.name), "ciaccess"), "cf"))
	case fd.name == "username":
		return " (Kubernetes impersonates no one without it): add `username: <user>`"
	case fd.name == "cadence":
		return ` when container_scanning is set: add a cron expression such as cadence: "0 0 * * *"`
	}
	return ""
}

func oneofHint(m *message) string {
	switch m.name {
	case "CiAccessAsCF":
		return ": write one of `agent: {}`, `ci_job: {}` or `impersonate: {username: …}`, or remove `access_as` to act as the agent (a key with no value counts as not written)"
	case "GitRefCF":
		return ": write `branch: main`, `tag: v1.0` or `commit: <sha>`, or remove `ref` for the default branch"
	case "UserAccessAsCF":
		return ": write `agent: {}` or `user: {}`"
	}
	return ""
}

// parseDuration is protojson's Duration syntax (well_known_types.go,
// parseDuration and the range check): an optional sign, digits with at most
// nine decimals, then `s`. It returns the duration in nanoseconds.
func parseDuration(s string) (*big.Int, bool) {
	if len(s) < 2 || s[len(s)-1] != 's' {
		return nil, false
	}
	b := s[:len(s)-1]
	neg := false
	switch b[0] {
	case '-':
		neg, b = true, b[1:]
	case '+':
		b = b[1:]
	}
	if b == "" {
		return nil, false
	}
	intp := ""
	switch {
	case b[0] == '0':
		b = b[1:]
	case b[0] >= '1' && b[0] <= '9':
		n := 1
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			n++
		}
		intp, b = b[:n], b[n:]
	case b[0] == '.':
	default:
		return nil, false
	}
	frac := ""
	if b != "" {
		if b[0] != '.' {
			return nil, false
		}
		b = b[1:]
		n := 0
		for n < len(b) && n < 9 && b[n] >= '0' && b[n] <= '9' {
			n++
		}
		if n != len(b) {
			return nil, false
		}
		frac = b
	}
	secs := int64(0)
	if intp != "" {
		var err error
		if secs, err = strconv.ParseInt(intp, 10, 64); err != nil {
			return nil, false
		}
	}
	const maxSeconds = 315576000000
	if secs > maxSeconds {
		return nil, false
	}
	nanos, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	d := new(big.Int).Mul(big.NewInt(secs), big.NewInt(1e9))
	d.Add(d, big.NewInt(nanos))
	if neg {
		d.Neg(d)
	}
	return d, true
}

// isJSONNumber reports whether s is a JSON number.
func isJSONNumber(s string) bool {
	n := yaml11.NumScan{S: s}
	n.Accept("-")
	if !n.Accept("0") && n.Digits() == 0 {
		return false
	}
	if n.Accept(".") && n.Digits() == 0 {
		return false
	}
	return n.Exponent() && n.Done()
}

// jsonIntString is protojson's normalizeToIntString
// (internal/encoding/json/decode_number.go): the integer a JSON number
// stands for, written out, or false when it is not whole.
func jsonIntString(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return "", false
		}
		mant, exp = s[:i], int(e)
	}
	intp, frac, _ := strings.Cut(mant, ".")
	intp = strings.TrimLeft(intp, "0")
	frac = strings.TrimRight(frac, "0")
	if intp == "" && frac == "" {
		return "0", true
	}
	var num string
	if exp >= 0 {
		if len(frac) > exp || len(intp)+exp > 20 {
			return "", false
		}
		num = intp + frac + strings.Repeat("0", exp-len(frac))
	} else {
		if frac != "" {
			return "", false
		}
		idx := len(intp) + exp
		if idx < 0 || strings.Trim(intp[idx:], "0") != "" {
			return "", false
		}
		num = intp[:idx]
	}
	if num == "" {
		num = "0"
	}
	if neg {
		num = "-" + num
	}
	return num, true
}

// jsonWhole reports whether a JSON number is a whole number that fits an
// integer of bits bits, as protojson reads integers.
func jsonWhole(s string, bits int, signed bool) bool {
	n, ok := jsonIntString(s)
	if !ok {
		return false
	}
	var err error
	if signed {
		_, err = strconv.ParseInt(n, 10, bits)
	} else {
		_, err = strconv.ParseUint(n, 10, bits)
	}
	return err == nil
}
