package testkas

import (
	"bufio"
	"encoding/json"
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
