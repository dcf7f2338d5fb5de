package termsafe

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func TestText(t *testing.T) {
	cases := map[string]string{
		"group/agents:prod":           "group/agents:prod",
		"prod\x1b]0;pwned\x07":        `prod\u001b]0;pwned\u0007`,
		"a\rb\nc\td":                  `a\rb\nc\td`,
		"ns\x7f\u009b31m":             `ns\u007f\u009b31m`,
		"agent-\u202eevil":            `agent-\u202eevil`,
		"bad\xffbyte\xc3":             `bad\xffbyte\xc3`,
		"Zürich 東京 ok":                "Zürich 東京 ok",
		"\u0085 is NEL, a C1 control": `\u0085 is NEL, a C1 control`,
	}
	for in, want := range cases {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterKeepsLayout(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Write([]byte("NAME\tNAMESPACE\nprod\x1b[2J\tdefault\r\n"))
	if got, want := out.String(), "NAME\tNAMESPACE\nprod\\u001b[2J\tdefault\\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriterJoinsSplitRunes(t *testing.T) {
	text := "é東\u009b🙂\xff."
	for cut := 0; cut <= len(text); cut++ {
		var out bytes.Buffer
		w := NewWriter(&out)
		w.Write([]byte(text[:cut]))
		w.Write([]byte(text[cut:]))
		w.Flush()
		if got, want := out.String(), `é東\u009b🙂\xff.`; got != want {
			t.Errorf("cut at %d: got %q, want %q", cut, got, want)
		}
	}
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Write([]byte("x\xe6\x9d")) // the start of 東, never completed
	w.Flush()
	if got := out.String(); got != `x\xe6\x9d` {
		t.Errorf("an unfinished sequence flushed as %q", got)
	}
}

// What encoding/json leaves raw (DEL, C1 controls) the Writer escapes in a
// form JSON reads back as the same string, so -o json stays valid.
func TestWriterKeepsJSONValid(t *testing.T) {
	value := map[string]string{"name": "a\x7fb\u009bc\u202ed\x1be"}
	data, _ := json.Marshal(value)
	var out bytes.Buffer
	NewWriter(&out).Write(data)
	if strings.ContainsRune(out.String(), 0x9b) || strings.ContainsRune(out.String(), 0x7f) {
		t.Fatalf("raw controls left: %q", out.String())
	}
	var back map[string]string
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["name"] != value["name"] {
		t.Fatalf("escaped JSON %q reads back as %q, %v", out.String(), back["name"], err)
	}
}

// And YAML: what yaml.v3 writes stays YAML that reads back the same.
func TestWriterKeepsYAMLValid(t *testing.T) {
	value := map[string]string{"name": "a\x7fb\u009bc\u202ed\x1be\u0085f\rg"}
	data, err := yaml.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	NewWriter(&out).Write(data)
	if hasControl(strings.NewReplacer("\n", "", "\t", "").Replace(out.String())) {
		t.Fatalf("raw controls left: %q", out.String())
	}
	var back map[string]string
	if err := yaml.Unmarshal(out.Bytes(), &back); err != nil || back["name"] != value["name"] {
		t.Fatalf("escaped YAML %q reads back as %q, %v", out.String(), back["name"], err)
	}
}

// hasControl reports a character that may act on a terminal.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || isControl(r) {
			return true
		}
	}
	return false
}

// FuzzText: no control character and no invalid UTF-8 comes out, and what
// has none goes through unchanged.
func FuzzText(f *testing.F) {
	for _, s := range []string{"prod", "a\x1b[31mb", "\r\n\t", "\xc2\x9b", "\xe2\x80\xae", "\xff\xfe", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if hasControl(got) || !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q still holds a control character or invalid UTF-8", s, got)
		}
		if !hasControl(s) && utf8.ValidString(s) && got != s {
			t.Fatalf("Text(%q) = %q changed harmless text", s, got)
		}
	})
}

// FuzzWriter: however the stream is cut into writes, the output is that
// of one write, and holds no control character but line breaks and tabs.
func FuzzWriter(f *testing.F) {
	f.Add("NAME\tNS\nprod\x1b[2J\tdefault\n", uint8(7))
	f.Add("é東\u009b🙂\xff.", uint8(2))
	f.Fuzz(func(t *testing.T, s string, step uint8) {
		var whole, parts bytes.Buffer
		w := NewWriter(&whole)
		w.Write([]byte(s))
		w.Flush()
		pw := NewWriter(&parts)
		n := int(step%8) + 1
		for i := 0; i < len(s); i += n {
			pw.Write([]byte(s[i:min(i+n, len(s))]))
		}
		pw.Flush()
		if whole.String() != parts.String() {
			t.Fatalf("%q in writes of %d: %q, in one: %q", s, n, parts.String(), whole.String())
		}
		if hasControl(strings.NewReplacer("\n", "", "\t", "").Replace(whole.String())) || !utf8.ValidString(whole.String()) {
			t.Fatalf("Writer(%q) = %q still holds a control character", s, whole.String())
		}
	})
}

// BenchmarkWriter: the cost of escaping on the way to the terminal, for
// get-contexts' output of 5,000 contexts (about 1 MB, written in pieces),
// against writing it straight.
func BenchmarkWriter(b *testing.B) {
	line := []byte("*         group/agents:prod-1234         1234       apps        exec       https://kas.gitlab.example.com/k8s-proxy/   system\n")
	var page []byte
	for len(page) < 4096 {
		page = append(page, line...)
	}
	const pages = 256 // 1 MiB
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(pages * int64(len(page)))
		for b.Loop() {
			for range pages {
				io.Discard.Write(page)
			}
		}
	})
	b.Run("termsafe", func(b *testing.B) {
		b.SetBytes(pages * int64(len(page)))
		for b.Loop() {
			w := NewWriter(io.Discard)
			for range pages {
				w.Write(page)
			}
			w.Flush()
		}
	})
}
