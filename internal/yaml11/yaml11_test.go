package yaml11

import (
	"regexp"
	"testing"
)

// IsYAMLStyleFloat is yaml.v2's regular expression, written out.
func TestYAMLStyleFloat(t *testing.T) {
	re := regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	for _, s := range []string{"", "1", "-1", "+1", ".5", "-.5", "5.", "1.5", "1e3", "1E-3", "1e", "1e+", ".e1", ".", "-", "+.5e5", "1.5.5", "e3", "1_0", "0x1", "1.e2", "--1", "1e3e3"} {
		if got, want := IsYAMLStyleFloat(s), re.MatchString(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}

// TestMisread: the values kubectl refuses in a kubeconfig when they are
// unquoted (a number or a boolean where a string belongs), and some it
// reads as text. Psych leaves 1e3 and 0o17 plain (research on GitLab's
// job kubeconfig); it quotes the others.
func TestMisread(t *testing.T) {
	for in, want := range map[string]string{
		"1e3": "a number", "0o17": "a number", "1e-3": "a number", "123": "a number", "08": "a number", "1_000": "a number", "0x1F": "a number", ".5": "a number",
		"yes": "true or false", "y": "true or false", "off": "true or false", "True": "true or false",
		"apps": "", "kube-system": "", "1h": "", "2024-01-01": "", "~": "", "null": "", "": "", "group/agents:prod": "", "ci:1:tok": "", "e3": "", "1e": "",
	} {
		if got := Misread(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
