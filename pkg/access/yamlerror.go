package access

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// syntaxError reports a YAML parser error at the line where it is. yaml.v3
// names a line in most messages, but for parser errors ("did not find
// expected key") that is where the enclosing block starts, counted from 0.
// The line reported here is the first one at which the error appears: the
// parser stops at the first error, so every prefix of the file that reaches
// it fails the same way, and the shorter ones do not. Errors without a line
// (bad bytes, unknown anchors) are located in the input; failing all that the
// diagnostic points at line 1, never nowhere.
func (p *parser) syntaxError(err error, data []byte) {
	line, msg := splitYAMLError(err)
	at := Pos{Line: line}
	if at.Line == 0 {
		at = locateProblem(msg, data)
	} else if l := firstFailingLine(data, msg); l > 0 {
		at.Line = l
	}
	if n := lineCount(data); at.Line > n {
		at = Pos{Line: n}
	}
	if strings.HasPrefix(msg, "did not find expected key") {
		msg += " (check the indentation of this line and the one before)"
	}
	p.diags.errorf(CodeYAMLSyntax, at, "the file is not valid YAML: %s; fix the syntax (GitLab cannot read the agent configuration at all)", msg)
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

// firstFailingLine finds, by bisection, the fewest lines of data that fail
// to parse with message msg; 0 when even the whole file does not.
func firstFailingLine(data []byte, msg string) int {
	lines := splitLines(data)
	fails := func(k int) bool {
		err := checkSyntax(bytes.Join(lines[:k], nil))
		if err == nil {
			return false
		}
		_, m := splitYAMLError(err)
		return m == msg
	}
	if !fails(len(lines)) {
		return 0
	}
	lo, hi := 1, len(lines) // fails(hi) holds
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// checkSyntax parses the first two documents, as readDocument does, and
// returns the first error.
func checkSyntax(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < 2; i++ {
		if _, err := decodeNode(dec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// locateProblem finds the place an error message without a line is about.
func locateProblem(msg string, data []byte) Pos {
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
	return Pos{Line: 1}
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

func offsetPos(data []byte, offset int) Pos {
	line, start := 1, 0
	for _, l := range splitLines(data) {
		if start+len(l) > offset {
			break
		}
		line, start = line+1, start+len(l)
	}
	return Pos{Line: line, Column: offset - start + 1}
}

// lineCount is the highest line number YAML can report for data: one more
// than its line breaks.
func lineCount(data []byte) int {
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
