// Package yamlpos says where in a file a yaml.v3 error is, in the line
// numbers an editor shows.
package yamlpos

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Position is a place in a file: line and column count from 1; a zero
// Column means the whole line.
type Position struct {
	Line   int
	Column int
}

// Locate says where the error err, which parse returned for data, is, and
// gives its message without yaml.v3's "yaml: line N: " prefix. yaml.v3
// names a line in most messages, but for parser errors ("did not find
// expected key") that is where the enclosing block starts, counted from 0.
// The line returned is the first one at which the error appears: the parser
// stops at the first error, so every prefix of the file that reaches it
// fails the same way, and the shorter ones do not. parse must be what gave
// err (it is run again on prefixes of data). Errors without a line (bad
// bytes, unknown anchors) are located in the input; failing all that, the
// position is line 1, never nowhere.
func Locate(data []byte, err error, parse func([]byte) error) (Position, string) {
	line, msg := splitYAMLError(err)
	at := Position{Line: line}
	if at.Line == 0 {
		at = locateProblem(msg, data)
	} else {
		at.Line = firstFailingLine(data, msg, line, parse)
	}
	if n := LineCount(data); at.Line > n {
		at = Position{Line: n}
	}
	return at, msg
}

// Explain adds to a yaml.v3 message what usually causes it, where that is
// known and the message does not say.
func Explain(msg string) string {
	if strings.HasPrefix(msg, "did not find expected key") {
		return msg + " (check the indentation of this line and the one before)"
	}
	return msg
}

// splitYAMLError separates yaml.v3's `yaml: line N: message`.
func splitYAMLError(err error) (line int, msg string) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				return n, text
			}
		}
	}
	return 0, msg
}

// firstFailingLine finds the fewest lines of data that fail to parse with
// message msg, the whole of data being known to. The search starts near
// named, the line yaml.v3 gave, which is at or a little before the error:
// it gallops forward from there, then bisects, so that a large file takes a
// few parses of about the error's length rather than many of the whole.
func firstFailingLine(data []byte, msg string, named int, parse func([]byte) error) int {
	lines := splitLines(data)
	fails := func(k int) bool {
		err := parse(bytes.Join(lines[:k], nil))
		if err == nil {
			return false
		}
		_, m := splitYAMLError(err)
		return m == msg
	}
	n := len(lines)
	// Find lo < hi with !fails(lo) (or lo == 0) and fails(hi).
	lo, hi := min(max(named-1, 1), n), n
	if fails(lo) {
		lo, hi = 0, lo
	} else {
		for step := 1; lo+step < n; step *= 2 {
			if fails(lo + step) {
				hi = lo + step
				break
			}
			lo += step
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// locateProblem finds the place an error message without a line is about.
func locateProblem(msg string, data []byte) Position {
	if rest, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		if anchor, ok := strings.CutSuffix(rest, "' referenced"); ok {
			if i := bytes.Index(data, []byte("*"+anchor)); i >= 0 {
				return offsetPos(data, i)
			}
		}
	}
	if i := firstBadByte(data); i >= 0 {
		return offsetPos(data, i)
	}
	return Position{Line: 1}
}

// firstBadByte returns the offset of the first byte YAML refuses: invalid
// UTF-8, or a control character other than tab, newline and carriage return.
func firstBadByte(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r <= 0x9f && r != 0x85 || r == 0xfffe || r == 0xffff {
			return i
		}
		i += size
	}
	return -1
}

func offsetPos(data []byte, offset int) Position {
	line, start := 1, 0
	for _, l := range splitLines(data) {
		if start+len(l) > offset {
			break
		}
		line, start = line+1, start+len(l)
	}
	return Position{Line: line, Column: offset - start + 1}
}

// LineCount is the highest line number YAML can report for data: one more
// than its line breaks.
func LineCount(data []byte) int {
	n := 1
	for i := 0; i < len(data); {
		if b := breakLen(data[i:]); b > 0 {
			n++
			i += b
			continue
		}
		i++
	}
	return n
}

// splitLines splits after each line break that YAML knows (LF, CRLF, a lone
// CR, NEL, LS and PS), so that line numbers agree with the parser's.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	start := 0
	for i := 0; i < len(data); {
		b := breakLen(data[i:])
		if b == 0 {
			i++
			continue
		}
		i += b
		lines = append(lines, data[start:i])
		start = i
	}
	if start < len(data) {
		lines = append(lines, data[start:])
	}
	return lines
}

// breakLen is the length in bytes of the line break data starts with, or 0.
func breakLen(data []byte) int {
	for _, br := range []string{"\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"} {
		if bytes.HasPrefix(data, []byte(br)) {
			return len(br)
		}
	}
	return 0
}
