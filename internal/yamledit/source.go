package yamledit

import (
	"bytes"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// source is a YAML text's bytes with what is needed to map yaml.Node
// positions (1-based line, column in characters) to byte offsets.
type source struct {
	data      []byte
	lineStart []int // byte offset where each line starts; lineStart[0] is line 1
	newline   string
}

func newSource(data []byte) *source {
	s := &source{data: data, newline: "\n"}
	s.lineStart = append(s.lineStart, 0)
	// Line breaks as YAML counts them: "\n", "\r\n", and a lone "\r".
	for i, b := range data {
		if b == '\n' || (b == '\r' && (i+1 == len(data) || data[i+1] != '\n')) {
			s.lineStart = append(s.lineStart, i+1)
		}
	}
	switch {
	case bytes.Contains(data, []byte("\r\n")):
		s.newline = "\r\n"
	case bytes.IndexByte(data, '\r') >= 0 && bytes.IndexByte(data, '\n') < 0:
		s.newline = "\r"
	}
	return s
}

// offset converts a yaml position to a byte offset. yaml.v3 counts columns
// in characters, so non-ASCII text earlier on the line shifts the offset.
func (s *source) offset(line, column int) int {
	if line < 1 {
		return 0
	}
	if line > len(s.lineStart) {
		return len(s.data)
	}
	off := s.lineStart[line-1]
	for c := 1; c < column && off < len(s.data); c++ {
		if s.data[off] == '\n' || s.data[off] == '\r' {
			break
		}
		_, size := utf8.DecodeRune(s.data[off:])
		off += size
	}
	return off
}

func (s *source) nodeOffset(n *yaml.Node) int { return s.offset(n.Line, n.Column) }

// lineOf returns the 1-based line that contains the byte at off.
func (s *source) lineOf(off int) int {
	lo, hi := 0, len(s.lineStart)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s.lineStart[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1
}

// lineBounds returns where line n starts and where its content ends (before
// "\n" or "\r\n"), and where the next line starts.
func (s *source) lineBounds(n int) (start, contentEnd, next int) {
	start = s.lineStart[n-1]
	next = len(s.data)
	if n < len(s.lineStart) {
		next = s.lineStart[n]
	}
	contentEnd = start + len(trimBreak(s.data[start:next]))
	return start, contentEnd, next
}

// onlySpaceBefore reports whether nothing but blanks precede off on its line.
func (s *source) onlySpaceBefore(off int) bool {
	start := s.lineStart[s.lineOf(off)-1]
	for _, b := range s.data[start:off] {
		if b != ' ' && b != '\t' {
			return false
		}
	}
	return true
}

// trimEnd moves end back over trailing lines that are blank or comments no
// deeper than indent, so that a region ends on its last line of content.
// Deeper comment-like lines may be block scalar text and are kept. The
// result is the offset just after the newline of the last kept line (or the
// end of data when that line has none).
func (s *source) trimEnd(start, end, indent int) int {
	if end < len(s.data) && s.onlySpaceBefore(end) {
		end = s.lineStart[s.lineOf(end)-1] // what follows starts its own line
	}
	if end <= start {
		return start
	}
	last := s.lineOf(end - 1)
	first := s.lineOf(start)
	for last > first {
		ls, ce, _ := s.lineBounds(last)
		line := s.data[ls:ce]
		trimmed := bytes.TrimLeft(line, " \t")
		lineIndent := len(line) - len(trimmed)
		if len(trimmed) == 0 || (trimmed[0] == '#' && lineIndent <= indent) {
			last--
			continue
		}
		break
	}
	_, _, next := s.lineBounds(last)
	return next
}

// scalarEnd finds where a scalar's text ends. Block scalars, and plain
// scalars that continue on later lines, end at limit (the end of their
// region). In flow context a plain scalar also stops at , ] or }.
func (s *source) scalarEnd(n *yaml.Node, limit int, inFlow bool) int {
	start := s.nodeOffset(n)
	_, contentEnd, _ := s.lineBounds(n.Line)
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return trimNewline(s.data, limit)
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(s.data); i++ {
			switch s.data[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(s.data)
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(s.data); i++ {
			if s.data[i] == '\'' {
				if i+1 < len(s.data) && s.data[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return len(s.data)
	}
	end := start
	for i := start; i < contentEnd; i++ {
		c := s.data[i]
		if c == '#' && i > start && (s.data[i-1] == ' ' || s.data[i-1] == '\t') {
			break
		}
		if inFlow && (c == ',' || c == ']' || c == '}') {
			break
		}
		if c != ' ' && c != '\t' {
			end = i + 1
		}
	}
	if !inFlow && len(n.Value) > end-start && n.Tag == "!!str" {
		// A plain scalar folded over several lines is longer than its
		// first line; it runs to the end of its region.
		return trimNewline(s.data, limit)
	}
	return end
}

func trimNewline(data []byte, end int) int {
	return len(trimBreak(data[:end]))
}

// endsWithBreak reports whether data[:end] ends with a line break.
func endsWithBreak(data []byte, end int) bool {
	return end > 0 && (data[end-1] == '\n' || data[end-1] == '\r')
}

// trimBreak drops one trailing line break: "\n", "\r\n" or "\r".
func trimBreak(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
