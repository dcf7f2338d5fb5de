// Package termsafe keeps text that came from a kubeconfig, GitLab or a
// cluster from acting on the terminal it is shown on. Context names,
// namespaces and server messages may hold control characters: ESC starts
// sequences that move the cursor, retitle the window, rewrite what was
// printed or fake a prompt; BEL, CR and backspace act too, and so do the
// C1 controls (U+0080 to U+009F: U+009B is CSI, ESC [). The bidirectional
// controls (U+202A to U+202E, U+2066 to U+2069) reorder what is shown.
// All of them are written as visible escapes: \r, \uXXXX, and \xNN for a
// byte that is not UTF-8. kubectl's own printers escape ESC and CR only
// (cli-runtime's printers.EscapeTerminal); BEL and C1 controls act on
// terminals as well, so this escapes them all.
//
// Two uses: Text for one field inside a line (line breaks and tabs
// escaped too, so a name cannot start a line of its own or shift a
// table's columns), and Writer for a whole stream of human output (line
// breaks and tabs kept), which cmd.Main puts in front of stderr and
// stdout.
package termsafe

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// Text escapes every control character of s, line breaks and tabs
// included.
func Text(s string) string {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			return string(appendEscaped(nil, []byte(s), false))
		}
	}
	return s
}

// appendEscaped appends p to dst with its control characters escaped;
// keepLayout keeps line breaks and tabs. An incomplete UTF-8 sequence at
// the end is escaped like any invalid byte: Writer holds it back first.
func appendEscaped(dst, p []byte, keepLayout bool) []byte {
	for i := 0; i < len(p); {
		// Runs of printable ASCII, the bulk of any output, in one append.
		j := i
		for j < len(p) && p[j] >= 0x20 && p[j] < 0x7f {
			j++
		}
		dst = append(dst, p[i:j]...)
		if i = j; i == len(p) {
			break
		}
		b := p[i]
		switch {
		case b == '\n' || b == '\t':
			if keepLayout {
				dst = append(dst, b)
			} else if b == '\n' {
				dst = append(dst, `\n`...)
			} else {
				dst = append(dst, `\t`...)
			}
			i++
		case b == '\r':
			dst = append(dst, `\r`...)
			i++
		case b < 0x20 || b == 0x7f:
			dst = appendU(dst, rune(b))
			i++
		case b < 0x80:
			dst = append(dst, b)
			i++
		default:
			r, size := utf8.DecodeRune(p[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, `\x`...)
				dst = append(dst, hex[b>>4], hex[b&0xf])
			case isControl(r):
				dst = appendU(dst, r)
			default:
				dst = append(dst, p[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

const hex = "0123456789abcdef"

// appendU writes r as \uXXXX, which JSON and YAML read as r itself: the
// Writer also carries -o json, where encoding/json leaves DEL and the C1
// controls raw.
func appendU(dst []byte, r rune) []byte {
	s := strconv.FormatInt(int64(r), 16)
	dst = append(dst, `\u`...)
	for range 4 - len(s) {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// isControl: C1 controls and the bidirectional embeddings, overrides and
// isolates (C0 and DEL are single bytes, handled before).
func isControl(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// Writer escapes the control characters of a stream, keeping line breaks
// and tabs. A UTF-8 sequence split between two writes is held back until
// the next one; Flush writes what is held back.
type Writer struct {
	w       io.Writer
	pending []byte
	buf     []byte
}

// NewWriter escapes what is written to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p and writes it.
func (w *Writer) Write(p []byte) (int, error) {
	data := p
	if len(w.pending) > 0 {
		data = append(w.pending, p...)
		w.pending = nil
	}
	if tail := incompleteTail(data); tail > 0 {
		w.pending = append([]byte(nil), data[len(data)-tail:]...)
		data = data[:len(data)-tail]
	}
	out := data
	if needsEscape(data) {
		w.buf = appendEscaped(w.buf[:0], data, true)
		out = w.buf
	}
	if _, err := w.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// needsEscape reports a byte that is neither printable ASCII nor a line
// break or tab: most writes have none, and go through uncopied.
func needsEscape(p []byte) bool {
	for _, b := range p {
		if (b < 0x20 && b != '\n' && b != '\t') || b >= 0x7f {
			return true
		}
	}
	return false
}

// Flush writes a held-back incomplete UTF-8 sequence, escaped.
func (w *Writer) Flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	_, err := w.w.Write(appendEscaped(nil, w.pending, true))
	w.pending = nil
	return err
}

// incompleteTail is the length of the start of a UTF-8 sequence that ends
// p, which the next write may complete; 0 if none.
func incompleteTail(p []byte) int {
	for n := 1; n <= utf8.UTFMax-1 && n <= len(p); n++ {
		b := p[len(p)-n]
		if b < 0x80 {
			return 0
		}
		if utf8.RuneStart(b) {
			if !utf8.FullRune(p[len(p)-n:]) {
				return n
			}
			return 0
		}
	}
	return 0
}
