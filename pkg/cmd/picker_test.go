package cmd

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

var pickOptions = []string{"group/agents:prod", "group/agents:staging", "other-group/cluster-management:shared", "other/cluster-management:infra"}

// chunks is a terminal that delivers what was typed in the pieces given,
// one per read, as a slow terminal or a network hop may.
type chunks []string

func (c *chunks) Read(b []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(b, (*c)[0])
	(*c)[0] = (*c)[0][n:]
	if (*c)[0] == "" {
		*c = (*c)[1:]
	}
	return n, nil
}

func TestPickFuzzy(t *testing.T) {
	cases := []struct {
		name   string
		typed  []string
		want   int // -1: cancelled
		frames []string
	}{
		{"Enter takes the first", []string{"\r"}, 0, nil},
		{"letters in order narrow the list, the tightest first", []string{"stg", "\r"}, 1, []string{"> group/agents:staging", "3/4"}},
		{"one piece ranks before scattered letters", []string{"ra", "\r"}, 3, []string{"> other/cluster-management:infra\r\n  other-group/cluster-management:shared"}},
		{"case does not matter", []string{"SHARED\r"}, 2, nil},
		{"down arrow", []string{"\x1b[B\x1b[B\r"}, 2, nil},
		{"down then up, SS3 arrows", []string{"\x1bOB\x1bOB\x1bOA\r"}, 1, nil},
		{"Ctrl-N, Ctrl-P, Tab", []string{"\x0e\x0e\x10\t\r"}, 2, nil},
		{"moving stops at the ends", []string{"\x1b[A\x1b[A\r"}, 0, nil},
		{"End, Home, PageDown", []string{"\x1b[F\r"}, 3, nil},
		{"backspace widens again", []string{"zz", "\x7f\x7f", "prod\r"}, 0, []string{"0/4"}},
		{"Ctrl-U clears", []string{"zzz\x15\x1b[B\r"}, 1, nil},
		{"an arrow split across reads", []string{"\x1b[", "B\r"}, 1, nil},
		{"a character split across reads", []string{"\xc3", "\xa9\x7fstag\r"}, 1, nil},
		{"Enter with no match does nothing", []string{"nomatch\r", "\x15\r"}, 0, []string{"0/4"}},
		{"Esc", []string{"sta", "\x1b"}, -1, nil},
		{"Ctrl-C", []string{"\x03"}, -1, nil},
		{"Ctrl-D", []string{"\x04"}, -1, nil},
		{"the terminal closes", []string{"sta"}, -1, nil},
	}
	for _, c := range cases {
		in := chunks(append([]string(nil), c.typed...))
		var out bytes.Buffer
		got, err := pickFuzzy(&in, &out, "Switch to which agent context?", pickOptions, 24, 80)
		if c.want < 0 {
			if !errors.As(err, new(pickCancelled)) {
				t.Errorf("%s: %d, %v; want cancelled", c.name, got, err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, got, err, c.want)
		}
		for _, f := range c.frames {
			if !strings.Contains(out.String(), f) {
				t.Errorf("%s: no frame shows %q:\n%q", c.name, f, out.String())
			}
		}
		if !strings.HasSuffix(out.String(), "\r\x1b[J") {
			t.Errorf("%s: the list is not erased at the end: %q", c.name, out.String())
		}
	}
}

// TestPickFuzzyScrollsAndFits: a long list shows the rows the terminal
// has, follows the cursor, and never wraps a line.
func TestPickFuzzyScrollsAndFits(t *testing.T) {
	var options []string
	for i := range 40 {
		options = append(options, strings.Repeat("x", 100)+string(rune('a'+i%26)))
	}
	p := newFuzzyPicker("Switch?", options, 5, 30)
	for range 7 {
		p.key(key{kind: keyDown})
	}
	frame := p.frame()
	if len(frame) != 7 || !strings.HasPrefix(frame[5], "> ") || p.top != 3 {
		t.Errorf("frame %q, top %d", frame, p.top)
	}
	for _, line := range frame {
		if n := len([]rune(line)); n >= 30 {
			t.Errorf("line of %d runes on 30 columns: %q", n, line)
		}
	}
	p.key(key{kind: keyPageUp})
	p.key(key{kind: keyPageUp})
	if p.cursor != 0 || p.top != 0 {
		t.Errorf("after PageUp: cursor %d, top %d", p.cursor, p.top)
	}
}

// FuzzPickFuzzy: whatever a terminal delivers, in whatever pieces, the
// pick ends (at the latest when the input does) with an option or
// cancelled, never a panic or an index out of range.
func FuzzPickFuzzy(f *testing.F) {
	f.Add([]byte("stg\r"), uint8(2))
	f.Add([]byte("\x1b[B\x1b[5~\x1bOA\xc3\xa9\x7f\r"), uint8(1))
	f.Add([]byte("\x1b[1;5A\x1b[99999999999999999~\x15\x03"), uint8(3))
	f.Fuzz(func(t *testing.T, typed []byte, cut uint8) {
		var pieces chunks
		for len(typed) > 0 {
			n := min(int(cut%7)+1, len(typed))
			pieces = append(pieces, string(typed[:n]))
			typed = typed[n:]
		}
		i, err := pickFuzzy(&pieces, io.Discard, "Switch?", pickOptions, int(cut%30), int(cut))
		if err == nil && (i < 0 || i >= len(pickOptions)) {
			t.Fatalf("index %d", i)
		}
		if err != nil && !errors.As(err, new(pickCancelled)) {
			t.Fatalf("error %v", err)
		}
	})
}
