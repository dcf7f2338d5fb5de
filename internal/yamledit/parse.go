package yamledit

import (
	"strconv"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yamlpos"
)

// SyntaxError is text that is not valid YAML, at the line (and column,
// when known) where the mistake is. Msg is yaml.v3's message with what
// usually causes it; it never quotes the text, which may hold secrets.
type SyntaxError struct {
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Parse parses one YAML document into the tree yaml.v3 builds: with the
// fast parser when the text is in its subset, else with yaml.v3. Errors
// are *SyntaxError.
func Parse(data []byte) (*yaml.Node, error) {
	if doc, ok := fastParse(data); ok {
		return doc, nil
	}
	doc := &yaml.Node{}
	if err := yaml.Unmarshal(data, doc); err != nil {
		at, msg := yamlpos.Locate(data, err, func(prefix []byte) error {
			return yaml.Unmarshal(prefix, &yaml.Node{})
		})
		return nil, &SyntaxError{Line: at.Line, Column: at.Column, Msg: yamlpos.Explain(msg)}
	}
	return doc, nil
}

// Lookup finds key in mapping m: its key node and its value, with an alias
// resolved. Both are nil when m is not a mapping or has no such key.
func Lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], Resolve(m.Content[i+1])
		}
	}
	return nil, nil
}

// Resolve follows aliases to the node they name.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is missing or a null scalar ("", ~, null).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}
