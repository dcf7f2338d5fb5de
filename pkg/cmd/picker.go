package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The interactive pick of use-context: a list that narrows as the person
// types (the letters of a name in order, not necessarily adjacent), arrows
// (or Ctrl-P/Ctrl-N) to move, Enter to choose, Esc, Ctrl-C or Ctrl-D to
// leave without a choice. It reads keys from a terminal in raw mode and
// redraws its lines in place with a few ANSI sequences; nothing here runs
// at package init, and get-token never calls it.

// pickCancelled is a pick left without a choice.
type pickCancelled struct{}

func (pickCancelled) Error() string { return "no context chosen" }

// keyKind is a key the picker knows.
type keyKind int

const (
	keyRune keyKind = iota
	keyUp
	keyDown
	keyPageUp
	keyPageDown
	keyHome
	keyEnd
	keyEnter
	keyBackspace
	keyClear
	keyCancel
	keyIgnored
)

type key struct {
	kind keyKind
	r    rune
}

// parseKeys splits what one read of a raw terminal returned into keys. An
// escape sequence left unfinished at the end is returned as rest, to be
// completed by the next read; a lone ESC at the end is the Esc key.
func parseKeys(b []byte) (keys []key, rest []byte) {
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == 0x1b:
			k, n, complete := escapeKey(b)
			if !complete {
				return keys, b
			}
			keys = append(keys, k)
			b = b[n:]
			continue
		case c == '\r' || c == '\n':
			keys = append(keys, key{kind: keyEnter})
		case c == 0x7f || c == 0x08:
			keys = append(keys, key{kind: keyBackspace})
		case c == 0x15: // Ctrl-U
			keys = append(keys, key{kind: keyClear})
		case c == 0x03 || c == 0x04: // Ctrl-C, Ctrl-D
			keys = append(keys, key{kind: keyCancel})
		case c == 0x10: // Ctrl-P
			keys = append(keys, key{kind: keyUp})
		case c == 0x0e || c == '\t': // Ctrl-N, Tab
			keys = append(keys, key{kind: keyDown})
		case c < 0x20:
			keys = append(keys, key{kind: keyIgnored})
		default:
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n <= 1 && !utf8.FullRune(b) {
				return keys, b // the rest of the character comes with the next read
			}
			if unicode.IsPrint(r) {
				keys = append(keys, key{kind: keyRune, r: r})
			}
			b = b[n:]
			continue
		}
		b = b[1:]
	}
	return keys, nil
}

// escapeKey reads an escape sequence at the start of b: the key, its
// length, and whether it is complete.
func escapeKey(b []byte) (key, int, bool) {
	if len(b) == 1 {
		return key{kind: keyCancel}, 1, true // Esc
	}
	if b[1] != '[' && b[1] != 'O' {
		return key{kind: keyCancel}, 1, true // Esc, then another key
	}
	// CSI / SS3: parameters, then one final byte in @…~.
	for i := 2; i < len(b); i++ {
		if b[i] >= 0x40 && b[i] <= 0x7e {
			seq := string(b[2 : i+1])
			kind := map[string]keyKind{"A": keyUp, "B": keyDown, "5~": keyPageUp, "6~": keyPageDown,
				"H": keyHome, "1~": keyHome, "F": keyEnd, "4~": keyEnd}[seq]
			if kind == keyRune {
				kind = keyIgnored
			}
			return key{kind: kind}, i + 1, true
		}
		if i > 16 {
			return key{kind: keyIgnored}, i + 1, true
		}
	}
	return key{}, 0, false
}

// fuzzyPicker is the state of a pick.
type fuzzyPicker struct {
	question string
	options  []string
	query    []rune
	matches  []int // indexes into options, best first
	cursor   int   // index into matches
	top      int   // the first match shown
	rows     int   // matches shown at once
	width    int   // the terminal's columns
}

func newFuzzyPicker(question string, options []string, rows, width int) *fuzzyPicker {
	p := &fuzzyPicker{question: question, options: options, rows: max(rows, 1), width: max(width, 20)}
	p.filter()
	return p
}

// filter lists the options that hold the query's letters in order,
// ignoring case: the tighter the letters sit, the higher (those holding
// the query as one piece first), then in the options' own order.
func (p *fuzzyPicker) filter() {
	q := strings.ToLower(string(p.query))
	type scored struct{ index, span int }
	var found []scored
	for i, o := range p.options {
		lower := strings.ToLower(o)
		span, ok := subsequence(lower, q)
		if !ok {
			continue
		}
		if q == "" || strings.Contains(lower, q) {
			span = 0
		}
		found = append(found, scored{i, span})
	}
	slices.SortStableFunc(found, func(a, b scored) int { return a.span - b.span })
	p.matches = p.matches[:0]
	for _, f := range found {
		p.matches = append(p.matches, f.index)
	}
	p.cursor, p.top = 0, 0
}

// subsequence reports whether s holds q's runes in order, and the
// shortest span (in bytes) that holds them, from any start.
func subsequence(s, q string) (span int, ok bool) {
	if q == "" {
		return 0, true
	}
	first, _ := utf8.DecodeRuneInString(q)
	best := -1
	for start := 0; start < len(s); {
		j := strings.IndexRune(s[start:], first)
		if j < 0 {
			break
		}
		start += j
		i := start
		matched := true
		for _, r := range q {
			k := strings.IndexRune(s[i:], r)
			if k < 0 {
				matched = false
				break
			}
			i += k + utf8.RuneLen(r)
		}
		if !matched {
			break // no later start can match either
		}
		if best < 0 || i-start < best {
			best = i - start
		}
		start += utf8.RuneLen(first)
	}
	return best, best >= 0
}

// key handles one key: done when the pick is over, with the option's index
// or pickCancelled.
func (p *fuzzyPicker) key(k key) (done bool, chosen int, err error) {
	switch k.kind {
	case keyRune:
		p.query = append(p.query, k.r)
		p.filter()
	case keyBackspace:
		if len(p.query) > 0 {
			p.query = p.query[:len(p.query)-1]
			p.filter()
		}
	case keyClear:
		p.query = p.query[:0]
		p.filter()
	case keyUp:
		p.move(-1)
	case keyDown:
		p.move(1)
	case keyPageUp:
		p.move(-p.rows)
	case keyPageDown:
		p.move(p.rows)
	case keyHome:
		p.move(-len(p.matches))
	case keyEnd:
		p.move(len(p.matches))
	case keyEnter:
		if len(p.matches) > 0 {
			return true, p.matches[p.cursor], nil
		}
	case keyCancel:
		return true, 0, pickCancelled{}
	}
	return false, 0, nil
}

func (p *fuzzyPicker) move(by int) {
	if len(p.matches) == 0 {
		return
	}
	p.cursor = min(max(p.cursor+by, 0), len(p.matches)-1)
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+p.rows {
		p.top = p.cursor - p.rows + 1
	}
}

// frame is the picker's lines: the question with what was typed, the
// matches in view (the chosen one marked), and a count.
func (p *fuzzyPicker) frame() []string {
	lines := []string{p.fit(p.question + " " + string(p.query))}
	end := min(p.top+p.rows, len(p.matches))
	for i := p.top; i < end; i++ {
		mark := "  "
		if i == p.cursor {
			mark = "> "
		}
		lines = append(lines, p.fit(mark+p.options[p.matches[i]]))
	}
	count := fmt.Sprintf("  %d/%d  (type to filter, ↑/↓ to move, Enter to switch, Esc to cancel)", len(p.matches), len(p.options))
	return append(lines, p.fit(count))
}

// fit cuts a line to the terminal's width, so that no line wraps and the
// redraw stays in place.
func (p *fuzzyPicker) fit(s string) string {
	if utf8.RuneCountInString(s) < p.width {
		return s
	}
	r := []rune(s)
	return string(r[:p.width-2]) + "…"
}

// draw replaces the previous frame with the current one. The cursor is
// kept on the question line, after what was typed, so the next frame
// starts there.
func (p *fuzzyPicker) draw(w io.Writer) {
	var b strings.Builder
	b.WriteString("\r\x1b[J") // to the start of the question line, clear below
	lines := p.frame()
	b.WriteString(strings.Join(lines, "\r\n"))
	fmt.Fprintf(&b, "\x1b[%dA\r\x1b[%dC", len(lines)-1, utf8.RuneCountInString(lines[0]))
	io.WriteString(w, b.String())
}

// clear erases the frame.
func clearFrame(w io.Writer) { io.WriteString(w, "\r\x1b[J") }

// pickFuzzy runs a pick: keys from in (a terminal in raw mode), frames to
// out. rows and width are the terminal's size.
func pickFuzzy(in io.Reader, out io.Writer, question string, options []string, rows, width int) (int, error) {
	p := newFuzzyPicker(question, options, min(max(rows-2, 1), 15), width)
	p.draw(out)
	defer clearFrame(out)
	buf := make([]byte, 256)
	var pending []byte
	for {
		n, err := in.Read(buf)
		if n > 0 {
			keys, rest := parseKeys(append(pending, buf[:n]...))
			pending = append([]byte(nil), rest...)
			for _, k := range keys {
				if done, i, err := p.key(k); done {
					return i, err
				}
			}
			p.draw(out)
		}
		if err != nil {
			return 0, pickCancelled{} // the terminal went away
		}
	}
}
