package testkas

import (
	"fmt"
	"strconv"
	"strings"
)

// A small GraphQL reader: enough of the query language (October 2021
// spec) for the queries clients send GitLab: an optional operation
// keyword, name and variable definitions, nested selections with aliases
// and arguments whose values are variables or literals. Fragments,
// directives and mutations are refused with a parse error, as a schema
// that has none of them would refuse them.

// gqlField is one field of a selection set.
type gqlField struct {
	Alias, Name string
	Args        []gqlArg
	Selections  []gqlField
	Line, Col   int
}

// Key is the name the field has in the answer.
func (f gqlField) Key() string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

type gqlArg struct {
	Name  string
	Value gqlValue
}

// gqlValue is a variable reference or a literal (string, int64, float64,
// bool, nil, an enum name as gqlEnum, []gqlValue).
type gqlValue struct {
	Variable string
	Literal  any
}

type gqlEnum string

// gqlOperation is the one operation of a query document.
type gqlOperation struct {
	Kind       string            // query (also when the keyword is left out)
	Name       string            // "" for an anonymous query
	Declared   []string          // every variable defined
	Defaults   map[string]any    // variables' default values
	Required   map[string]string // non-null variables without a default: name → type
	Selections []gqlField
}

// gqlParseError is graphql-ruby's parse error: message and position.
type gqlParseError struct {
	Message   string
	Line, Col int
}

func (e *gqlParseError) Error() string { return e.Message }

type gqlToken struct {
	kind      string // name, int, float, string, punct, eof
	text      string
	line, col int
}

type gqlLexer struct {
	src       string
	pos       int
	line, col int
}

func (l *gqlLexer) next() (gqlToken, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		case c == '\n':
			l.pos++
			l.line++
			l.col = 1
		case c == ' ' || c == '\t' || c == '\r' || c == ',':
			l.pos++
			l.col++
		default:
			return l.token()
		}
	}
	return gqlToken{kind: "eof", line: l.line, col: l.col}, nil
}

func (l *gqlLexer) token() (gqlToken, error) {
	start, line, col := l.pos, l.line, l.col
	advance := func(n int) { l.pos += n; l.col += n }
	c := l.src[l.pos]
	switch {
	case strings.HasPrefix(l.src[l.pos:], "..."):
		advance(3)
		return gqlToken{kind: "punct", text: "...", line: line, col: col}, nil
	case strings.IndexByte("!$&():=@[]{|}", c) >= 0:
		advance(1)
		return gqlToken{kind: "punct", text: string(c), line: line, col: col}, nil
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		for l.pos < len(l.src) && isNameByte(l.src[l.pos]) {
			advance(1)
		}
		return gqlToken{kind: "name", text: l.src[start:l.pos], line: line, col: col}, nil
	case c == '-' || c >= '0' && c <= '9':
		advance(1)
		kind := "int"
		for l.pos < len(l.src) {
			d := l.src[l.pos]
			if d == '.' || d == 'e' || d == 'E' || d == '+' || (d == '-' && kind == "float") {
				kind = "float"
			} else if d < '0' || d > '9' {
				break
			}
			advance(1)
		}
		return gqlToken{kind: kind, text: l.src[start:l.pos], line: line, col: col}, nil
	case c == '"':
		var b strings.Builder
		advance(1)
		for l.pos < len(l.src) {
			d := l.src[l.pos]
			switch {
			case d == '"':
				advance(1)
				return gqlToken{kind: "string", text: b.String(), line: line, col: col}, nil
			case d == '\n':
				return gqlToken{}, &gqlParseError{Message: "Unterminated string", Line: line, Col: col}
			case d == '\\' && l.pos+1 < len(l.src):
				e := l.src[l.pos+1]
				if e == 'u' && l.pos+6 <= len(l.src) {
					n, err := strconv.ParseUint(l.src[l.pos+2:l.pos+6], 16, 32)
					if err != nil {
						return gqlToken{}, &gqlParseError{Message: "Bad unicode escape", Line: line, Col: col}
					}
					b.WriteRune(rune(n))
					advance(6)
					continue
				}
				replacement, ok := map[byte]string{'"': `"`, '\\': `\`, '/': "/", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t"}[e]
				if !ok {
					return gqlToken{}, &gqlParseError{Message: "Bad escape", Line: line, Col: col}
				}
				b.WriteString(replacement)
				advance(2)
			default:
				b.WriteByte(d)
				advance(1)
			}
		}
		return gqlToken{}, &gqlParseError{Message: "Unterminated string", Line: line, Col: col}
	}
	return gqlToken{}, &gqlParseError{Message: fmt.Sprintf("Parse error on %q (error) at [%d, %d]", string(c), line, col), Line: line, Col: col}
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type gqlParser struct {
	lex  gqlLexer
	tok  gqlToken
	deep int
}

// parseGraphQL reads a document that holds one operation.
func parseGraphQL(src string) (*gqlOperation, error) {
	p := &gqlParser{lex: gqlLexer{src: src, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	op := &gqlOperation{Kind: "query", Defaults: map[string]any{}, Required: map[string]string{}}
	if p.tok.kind == "name" {
		if p.tok.text != "query" {
			return nil, p.unexpected() // mutation, subscription, fragment: nothing of the kind here
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == "name" {
			op.Name = p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if p.is("(") {
			if err := p.variables(op); err != nil {
				return nil, err
			}
		}
	}
	sel, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	op.Selections = sel
	if p.tok.kind != "eof" {
		return nil, p.unexpected() // a second operation or a fragment
	}
	return op, nil
}

func (p *gqlParser) advance() error {
	t, err := p.lex.next()
	p.tok = t
	return err
}

func (p *gqlParser) is(punct string) bool { return p.tok.kind == "punct" && p.tok.text == punct }

// unexpected is graphql-ruby's message for a token the grammar does not
// allow there.
func (p *gqlParser) unexpected() error {
	text := p.tok.text
	if p.tok.kind == "eof" {
		return &gqlParseError{Message: "Unexpected end of document", Line: p.tok.line, Col: p.tok.col}
	}
	kind := map[string]string{"name": "IDENTIFIER", "int": "INT", "float": "FLOAT", "string": "STRING"}[p.tok.kind]
	if p.tok.kind == "punct" {
		kind = gqlPunctNames[text]
	}
	return &gqlParseError{Message: fmt.Sprintf("Parse error on %q (%s) at [%d, %d]", text, kind, p.tok.line, p.tok.col),
		Line: p.tok.line, Col: p.tok.col}
}

// gqlPunctNames are graphql-ruby's lexer's names for punctuators.
var gqlPunctNames = map[string]string{"{": "LCURLY", "}": "RCURLY", "(": "LPAREN", ")": "RPAREN", "[": "LBRACKET", "]": "RBRACKET",
	":": "COLON", "$": "VAR_SIGN", "!": "BANG", "=": "EQUALS", "...": "ELLIPSIS", "@": "DIR_SIGN", "|": "PIPE", "&": "AMP"}

func (p *gqlParser) expect(punct string) error {
	if !p.is(punct) {
		return p.unexpected()
	}
	return p.advance()
}

func (p *gqlParser) name() (string, error) {
	if p.tok.kind != "name" {
		return "", p.unexpected()
	}
	n := p.tok.text
	return n, p.advance()
}

// variables reads ($name: Type = default, …).
func (p *gqlParser) variables(op *gqlOperation) error {
	if err := p.expect("("); err != nil {
		return err
	}
	for !p.is(")") {
		if err := p.expect("$"); err != nil {
			return err
		}
		name, err := p.name()
		if err != nil {
			return err
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		typ, err := p.typeRef()
		if err != nil {
			return err
		}
		op.Declared = append(op.Declared, name)
		if p.is("=") {
			if err := p.advance(); err != nil {
				return err
			}
			v, err := p.value(true)
			if err != nil {
				return err
			}
			op.Defaults[name] = v.Literal
		} else if strings.HasSuffix(typ, "!") {
			op.Required[name] = typ
		}
	}
	return p.advance()
}

// typeRef reads a type: Name, [Type], either with a trailing !.
func (p *gqlParser) typeRef() (string, error) {
	var typ string
	if p.is("[") {
		if err := p.advance(); err != nil {
			return "", err
		}
		inner, err := p.typeRef()
		if err != nil {
			return "", err
		}
		if err := p.expect("]"); err != nil {
			return "", err
		}
		typ = "[" + inner + "]"
	} else {
		n, err := p.name()
		if err != nil {
			return "", err
		}
		typ = n
	}
	if p.is("!") {
		typ += "!"
		return typ, p.advance()
	}
	return typ, nil
}

func (p *gqlParser) selectionSet() ([]gqlField, error) {
	if p.deep++; p.deep > 30 { // GitLab refuses deeper queries anyway (max depth 20)
		return nil, &gqlParseError{Message: "Query has too many levels", Line: p.tok.line, Col: p.tok.col}
	}
	defer func() { p.deep-- }()
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var fields []gqlField
	for !p.is("}") {
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return nil, p.unexpected()
	}
	return fields, p.advance()
}

func (p *gqlParser) field() (gqlField, error) {
	f := gqlField{Line: p.tok.line, Col: p.tok.col}
	name, err := p.name()
	if err != nil {
		return f, err
	}
	f.Name = name
	if p.is(":") {
		if err := p.advance(); err != nil {
			return f, err
		}
		if f.Name, err = p.name(); err != nil {
			return f, err
		}
		f.Alias = name
	}
	if p.is("(") {
		if err := p.advance(); err != nil {
			return f, err
		}
		for !p.is(")") {
			argName, err := p.name()
			if err != nil {
				return f, err
			}
			if err := p.expect(":"); err != nil {
				return f, err
			}
			v, err := p.value(false)
			if err != nil {
				return f, err
			}
			f.Args = append(f.Args, gqlArg{Name: argName, Value: v})
		}
		if err := p.advance(); err != nil {
			return f, err
		}
	}
	if p.is("{") {
		if f.Selections, err = p.selectionSet(); err != nil {
			return f, err
		}
	}
	return f, nil
}

// value reads a value; constant forbids variables (defaults).
func (p *gqlParser) value(constant bool) (gqlValue, error) {
	t := p.tok
	switch {
	case p.is("$") && !constant:
		if err := p.advance(); err != nil {
			return gqlValue{}, err
		}
		n, err := p.name()
		return gqlValue{Variable: n}, err
	case p.is("["):
		if err := p.advance(); err != nil {
			return gqlValue{}, err
		}
		list := []gqlValue{}
		for !p.is("]") {
			v, err := p.value(constant)
			if err != nil {
				return gqlValue{}, err
			}
			list = append(list, v)
		}
		return gqlValue{Literal: list}, p.advance()
	case t.kind == "string":
		return gqlValue{Literal: t.text}, p.advance()
	case t.kind == "int":
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return gqlValue{}, p.unexpected()
		}
		return gqlValue{Literal: n}, p.advance()
	case t.kind == "float":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return gqlValue{}, p.unexpected()
		}
		return gqlValue{Literal: f}, p.advance()
	case t.kind == "name":
		var v any = gqlEnum(t.text)
		switch t.text {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			v = nil
		}
		return gqlValue{Literal: v}, p.advance()
	}
	return gqlValue{}, p.unexpected() // input objects are not needed here
}
