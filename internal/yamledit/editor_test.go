package yamledit

import (
	"errors"
	"testing"

	"go.yaml.in/yaml/v3"
)

// rootMapping is the simplest ParseFunc: any mapping, or nothing.
func rootMapping(data []byte) (*yaml.Node, error) {
	doc, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || IsNull(doc.Content[0]) {
		return nil, nil
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a mapping")
	}
	return doc.Content[0], nil
}

// The engine edits any YAML, not only kubeconfigs: here a Deployment-like
// text with its own indentation, comments and a flow mapping.
func TestEditorEditsAnyYAML(t *testing.T) {
	in := "# deploy\n" +
		"spec:\n" +
		"    replicas: 1 # scaled by hand\n" +
		"    containers:\n" +
		"      - name: app\n" +
		"        image: app:1\n" +
		"        resources: {cpu: 1, memory: 1Gi}\n" +
		"      - name: sidecar\n" +
		"        image: proxy:2\n"
	want := "# deploy\n" +
		"spec:\n" +
		"    replicas: 3 # scaled by hand\n" +
		"    containers:\n" +
		"      - name: app\n" +
		"        image: app:2\n" +
		"        resources: {cpu: 1}\n" +
		"      - name: sidecar\n" +
		"        image: proxy:2\n" +
		"      - name: log\n" +
		"        image: log:1\n" +
		"        args:\n" +
		"        - \"007\"\n" // layout is read from top-level lists; this file has none
	e, err := New("deploy.yaml", []byte(in), rootMapping)
	if err != nil {
		t.Fatal(err)
	}
	spec := func() Cursor {
		_, c, ok := e.Get(e.RootCursor(), "spec")
		if !ok {
			t.Fatal("no spec")
		}
		return c
	}
	app := func() Cursor {
		_, list, _ := e.Get(spec(), "containers")
		c, ok := e.Item(list, "name", "app")
		if !ok {
			t.Fatal("no container app")
		}
		return c
	}
	steps := []func() error{
		func() error { return e.SetEntry(spec(), "replicas", int64(3)) },
		func() error { return e.SetEntry(app(), "image", "app:2") },
		func() error { _, res, _ := e.Get(app(), "resources"); return e.DeleteEntry(res, "memory") },
		func() error {
			return e.AppendItem(spec(), "containers", Map{{Key: "name", Value: "log"}, {Key: "image", Value: "log:1"}, {Key: "args", Value: List{"007"}}})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if got := string(e.Bytes()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	_, res, _ := e.Get(app(), "resources")
	if err := e.DeleteEntry(res, "cpu"); err == nil {
		t.Error("removed the only key of a mapping")
	}
}

// A splice that the caller's ParseFunc refuses is not kept.
func TestEditorKeepsTheTextWhenParseRefusesAnEdit(t *testing.T) {
	in := "a: 1\nb: 2\n"
	refuseB3 := func(data []byte) (*yaml.Node, error) {
		root, err := rootMapping(data)
		if _, v := Lookup(root, "b"); err == nil && v != nil && v.Value == "3" {
			return nil, errors.New("b must not be 3")
		}
		return root, err
	}
	e, err := New("t.yaml", []byte(in), refuseB3)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetEntry(e.RootCursor(), "b", int64(3)); err == nil {
		t.Fatal("the refused edit succeeded")
	}
	if string(e.Bytes()) != in {
		t.Errorf("text changed to %q", e.Bytes())
	}
}
