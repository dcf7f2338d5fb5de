// Package yaml11 is how yaml.v2 (gopkg.in/yaml.v2 v2.4.0, resolve.go)
// reads a scalar: YAML 1.1, where an unquoted no is false and 1e3 a
// number. Two readers the plugin must agree with use it through
// sigs.k8s.io/yaml: KAS, reading an agent's config.yaml, and kubectl's
// client-go, reading a kubeconfig (YAML to JSON, then encoding/json, so a
// number where a string belongs fails the whole file). Nothing here runs
// at package init: no regular expression is compiled.
package yaml11

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Misread says what yaml.v2 makes of a plain (unquoted) scalar that is
// not text: "a number" or "true or false"; "" when it stays text (a
// timestamp stays text in the untyped values sigs.k8s.io/yaml decodes, and
// null is no value at all).
func Misread(plain string) string {
	switch _, v := Resolve("", plain); v.(type) {
	case bool:
		return "true or false"
	case int64, uint64, float64:
		return "a number"
	}
	return ""
}

// IsYAMLStyleFloat matches yaml.v2's yamlStyleFloat,
// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$, without compiling a
// regular expression when the plugin starts.
func IsYAMLStyleFloat(s string) bool {
	n := NumScan{S: s}
	n.Accept("-+")
	if n.Accept(".") {
		if n.Digits() == 0 {
			return false
		}
	} else {
		if n.Digits() == 0 {
			return false
		}
		if n.Accept(".") {
			n.Digits()
		}
	}
	return n.Exponent() && n.Done()
}

// Resolve is yaml.v2's resolve (resolve.go) of a scalar with tag ("" for
// a plain one; tags in short form, !!str …): the tag it resolves to and
// its Go value (nil, bool, int64, uint64, float64, time.Time or string).
func Resolve(tag, in string) (string, any) {
	if tag == "!!str" {
		return "!!str", in
	}
	hint := byte('N')
	if in != "" {
		hint = resolveHint(in[0])
	}
	if hint == 0 {
		return "!!str", in
	}
	switch in {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return "!!bool", true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return "!!bool", false
	case "", "~", "null", "Null", "NULL":
		return "!!null", nil
	case ".nan", ".NaN", ".NAN":
		return "!!float", math.NaN()
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return "!!float", math.Inf(+1)
	case "-.inf", "-.Inf", "-.INF":
		return "!!float", math.Inf(-1)
	case "<<":
		return "!!merge", "<<"
	}
	switch hint {
	case '.':
		if f, err := strconv.ParseFloat(in, 64); err == nil {
			return "!!float", f
		}
	case 'D', 'S':
		if tag == "" || tag == "!!timestamp" {
			if t, ok := parseTimestamp(in); ok {
				return "!!timestamp", t
			}
		}
		plain := strings.ReplaceAll(in, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return "!!int", i
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return "!!int", u
		}
		if IsYAMLStyleFloat(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return "!!float", f
			}
		}
		if strings.HasPrefix(plain, "0b") {
			if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
				return "!!int", i
			}
			if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
				return "!!int", u
			}
		} else if strings.HasPrefix(plain, "-0b") {
			if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
				return "!!int", i
			}
		}
	}
	return "!!str", in
}

// resolveHint is yaml.v2's resolveTable.
func resolveHint(c byte) byte {
	switch {
	case c == '+' || c == '-':
		return 'S'
	case c >= '0' && c <= '9':
		return 'D'
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		return 'M'
	case c == '.':
		return '.'
	}
	return 0
}

var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// parseTimestamp is yaml.v2's.
func parseTimestamp(s string) (time.Time, bool) {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return time.Time{}, false
	}
	for _, format := range timestampFormats {
		if t, err := time.Parse(format, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// NumScan reads the syntax of a number in S.
type NumScan struct {
	S string
	i int
}

// Accept moves past the next byte if it is one of chars.
func (n *NumScan) Accept(chars string) bool {
	if n.i < len(n.S) && strings.IndexByte(chars, n.S[n.i]) >= 0 {
		n.i++
		return true
	}
	return false
}

// Digits moves past a run of decimal digits and says how many.
func (n *NumScan) Digits() int {
	start := n.i
	for n.i < len(n.S) && n.S[n.i] >= '0' && n.S[n.i] <= '9' {
		n.i++
	}
	return n.i - start
}

// Exponent moves past an optional [eE][-+]?digits.
func (n *NumScan) Exponent() bool {
	if !n.Accept("eE") {
		return true
	}
	n.Accept("+-")
	return n.Digits() > 0
}

// Done reports whether all of S was read.
func (n *NumScan) Done() bool { return n.i == len(n.S) }
