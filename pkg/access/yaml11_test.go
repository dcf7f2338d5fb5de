package access

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Plain scalars as yaml.v2 (YAML 1.1) resolves them, and the JSON that
// sigs.k8s.io/yaml makes of them. (test/kasoracle checks the same against
// the real libraries on every field and on fuzzed documents.)
func TestYAML11Scalars(t *testing.T) {
	for in, want := range map[string]string{
		"no": "bool false", "No": "bool false", "NO": "bool false", "n": "bool false", "N": "bool false", "off": "bool false", "false": "bool false",
		"yes": "bool true", "y": "bool true", "Y": "bool true", "on": "bool true", "ON": "bool true", "True": "bool true",
		"nO": "string nO", "oN": "string oN", "yES": "string yES",
		"~": "null", "null": "null", "Null": "null", "": "null",
		"12": "number 12", "-3": "number -3", "+1": "number 1", "0x1F": "number 31", "0o17": "number 15", "0777": "number 511",
		"1_000": "number 1000", "0b101": "number 5", "-0b11": "number -3", "18446744073709551615": "number 18446744073709551615",
		"1.5": "number 1.5", ".5": "number 0.5", "1e3": "number 1000", "1.0": "number 1", "-.5": "number -0.5", "1e21": "number 1e+21",
		"2001-12-14": "string 2001-12-14", "2001-12-14t21:59:43.10-05:00": "string 2001-12-14t21:59:43.10-05:00",
		"0x": "string 0x", "1h": "string 1h", "3600s": "string 3600s", "1:30": "string 1:30", "08": "number 8", ".": "string .",
		"<<": "string <<", "=": "string =",
	} {
		t.Run(in, func(t *testing.T) {
			var got string
			rtag, out, err := resolve11("", in)
			if err != nil {
				t.Fatal(err)
			}
			v := newYAMLToJSON(nil).scalar(&yaml.Node{Kind: yaml.ScalarNode, Value: in, Line: 1, Column: 1})
			switch {
			case v.kind == jNull:
				got = "null"
			case v.kind == jBool:
				got = "bool " + map[bool]string{true: "true", false: "false"}[v.b]
			case v.kind == jNumber:
				got = "number " + v.text
			default:
				got = "string " + v.text
			}
			if got != want {
				t.Errorf("%q resolves to %s (%s, %v), want %s", in, got, rtag, out, want)
			}
		})
	}
}

// Explicit tags resolve as yaml.v2 does; a mismatch is an error that makes
// KAS reject the file.
func TestYAML11Tags(t *testing.T) {
	for in, want := range map[string]string{
		"!!str 12":     "",
		"!!int '7'":    "",
		"!!float 1":    "",
		"!!bool yes":   "",
		"! 12":         "",
		"!!binary YWI": "!!binary value contains invalid base64 data",
		"!!null x":     "cannot decode !!str `x` as a !!null",
		"!!int x":      "cannot decode !!str `x` as a !!int",
	} {
		cfg := Parse("c.yaml", []byte("flux: {webhook_receiver_url: "+in+"}\n"))
		var msgs []string
		for _, d := range cfg.Problems {
			msgs = append(msgs, d.Message)
		}
		got := strings.Join(msgs, "; ")
		switch {
		case want == "" && strings.Contains(got, "KAS rejects") && !strings.Contains(got, "must be a string"):
			t.Errorf("%s: %s", in, got)
		case want != "" && !strings.Contains(got, want):
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}
