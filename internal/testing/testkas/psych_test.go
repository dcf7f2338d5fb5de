package testkas

import (
	"bufio"
	"encoding/json"
	"go.yaml.in/yaml/v3"
	"os"
	"strings"
	"testing"
)

// TestPsychScalarMatchesRuby checks psychScalar against what Ruby's Psych
// wrote for each value (testdata/psych-quoting.tsv, written by
// testdata/psych-quoting.rb).
func TestPsychScalarMatchesRuby(t *testing.T) {
	f, err := os.Open("testdata/psych-quoting.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		in, want, ok := strings.Cut(sc.Text(), "\t")
		var s string
		if !ok || json.Unmarshal([]byte(in), &s) != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		lines++
		got, err := psychScalar(s, len("  namespace: "))
		if err != nil || got != want {
			t.Errorf("psychScalar(%q) = %q, %v; Psych wrote %q", s, got, err, want)
		}
	}
	if lines < 200 {
		t.Errorf("only %d values checked", lines)
	}
}

func TestPsychScalarRefusesWhatItDoesNotModel(t *testing.T) {
	for _, s := range []string{"a\nb", "tab\there", "naïve", strings.Repeat("word ", 20)} {
		if got, err := psychScalar(s, 4); err == nil {
			t.Errorf("psychScalar(%q) = %q, want an error", s, got)
		}
	}
}

// FuzzPsychScalar: whatever psychScalar writes is YAML that reads back as
// the same text (a YAML reader keeps a scalar's text for a string field),
// and it refuses only what it does not model.
func FuzzPsychScalar(f *testing.F) {
	for _, s := range []string{"apps", "", "yes", "1e3", "a: b", "'x", `"x`, "a #b", "<<", "- x", "trailing ", "12:30", "~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := psychScalar(s, len("  namespace: "))
		modelled := !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' }) && len(s) < 60
		if err != nil {
			if modelled {
				t.Fatalf("psychScalar(%q): %v", s, err)
			}
			return
		}
		var back struct {
			K string `yaml:"k"`
		}
		if err := yaml.Unmarshal([]byte("k: "+out+"\n"), &back); err != nil || back.K != s {
			t.Fatalf("psychScalar(%q) = %s, which reads back as %q (%v)", s, out, back.K, err)
		}
	})
}
