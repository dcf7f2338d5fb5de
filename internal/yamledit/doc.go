// Package yamledit edits YAML text in place: a change splices the bytes it
// must and leaves comments, key order, indentation, quoting and every other
// entry byte for byte as they were. It knows YAML, not what the YAML means.
//
//   - source.go maps yaml.Node positions (line, column in characters) to
//     byte offsets, and finds where a node's text ends.
//   - fastparse.go parses the block-style YAML that generated files are
//     written in several times faster than yaml.v3; Parse (parse.go) falls
//     back to yaml.v3 for anything else, and a differential fuzz test holds
//     the two to the same trees.
//   - editor.go is the cursor/splice core: a Cursor is a node and where its
//     text ends; Get and Item find nodes, SetEntry, DeleteEntry and
//     AppendItem splice text, and every splice is parsed again (ParseFunc)
//     before it is kept.
//   - render.go writes new values (Map, List, scalars) in the style of their
//     neighbours: the file's indentation, block or flow (JSON) style, and
//     line breaks.
package yamledit
