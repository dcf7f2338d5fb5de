package kubeconfig

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yamledit"
)

// Values that edits write: string, bool, int64, Map (ordered) and List.
type (
	// Map is an ordered mapping, rendered in the order given.
	Map = yamledit.Map
	// Field is one key of a Map.
	Field = yamledit.Field
	// List is a sequence.
	List = yamledit.List
)

// Document is one kubeconfig file's text, parsed for minimal edits: each
// change splices the bytes it must and leaves comments, key order and every
// other entry byte for byte as they were. (clientcmd's round trip would
// reformat the whole file and drop its comments.)
type Document struct {
	file string
	text *yamledit.Editor
}

// ParseDocument parses a kubeconfig for editing. file names it in errors.
func ParseDocument(file string, data []byte) (*Document, error) {
	text, err := yamledit.New(file, data, func(data []byte) (*yaml.Node, error) { return parseRoot(file, data) })
	if err != nil {
		return nil, err
	}
	return &Document{file: file, text: text}, nil
}

// Bytes is the document's current text.
func (d *Document) Bytes() []byte { return d.text.Bytes() }

// Config decodes the document.
func (d *Document) Config() (Config, error) { return decodeConfig(d.file, d.text.Root()) }

// skeleton is what an empty file gets before its first entry.
var skeleton = Map{{Key: "apiVersion", Value: "v1"}, {Key: "kind", Value: "Config"}}

// entry finds the body of a named entry: clusters[name=X].cluster etc.
func (d *Document) entry(list, field, name string) (item, body yamledit.Cursor, err error) {
	if d.text.Root() == nil {
		return yamledit.Cursor{}, yamledit.Cursor{}, fmt.Errorf("%s: has no %s", d.file, list)
	}
	_, lc, _ := d.text.Get(d.text.RootCursor(), list)
	item, ok := d.text.Item(lc, "name", name)
	if !ok {
		return yamledit.Cursor{}, yamledit.Cursor{}, fmt.Errorf("%s: no %s entry named %q", d.file, strings.TrimSuffix(list, "s"), name)
	}
	_, body, _ = d.text.Get(item, field)
	return item, body, nil
}

// Edits that commands make. Each re-finds its target by name, so that it
// applies to whatever the file holds when the lock is taken.

// SetCurrentContext sets current-context.
func (d *Document) SetCurrentContext(name string) error {
	if err := d.text.EnsureRoot(skeleton); err != nil {
		return err
	}
	return d.verified(d.text.SetEntry(d.text.RootCursor(), "current-context", name), "current-context "+name, func(c Config) bool {
		return c.CurrentContext == name
	})
}

// verified checks, by decoding the edited text, that an edit did what it
// meant to: a safety net for YAML corners (tags, odd indentation) where a
// splice that parses could still mean something else. The caller's file is
// then left unchanged.
func (d *Document) verified(err error, what string, ok func(Config) bool) error {
	if err != nil {
		return err
	}
	const failed = "internal error: setting %s in %s did not take as intended, so the file is left unchanged; please report this with the file's layout (not its secrets)"
	cfg, err := d.Config()
	if err != nil {
		return fmt.Errorf(failed+": %w", what, d.file, err)
	}
	if !ok(cfg) {
		return fmt.Errorf(failed, what, d.file)
	}
	return nil
}

// SetContextNamespace sets the namespace of an existing context.
func (d *Document) SetContextNamespace(context, namespace string) error {
	err := d.setBodyField("contexts", "context", context, "namespace", namespace)
	return d.verified(err, "the namespace of context "+context, func(c Config) bool {
		for _, x := range c.Contexts {
			if x.Name == context {
				return x.Context.Namespace == namespace
			}
		}
		return false
	})
}

func (d *Document) setBodyField(list, field, name, key string, v any) error {
	item, body, err := d.entry(list, field, name)
	if err != nil {
		return err
	}
	if yamledit.IsNull(body.Node()) {
		return d.text.SetEntry(item, field, Map{{Key: key, Value: v}})
	}
	if s, ok := v.(string); ok && d.holds(body, key, s) {
		return nil
	}
	return d.text.SetEntry(body, key, v)
}

// holds tells whether the mapping's key already reads as s, to kubectl
// as to this plugin: then its bytes (GitLab's quoting, say) stay. An
// unquoted 1e3 that kubectl misreads is rewritten, quoted.
func (d *Document) holds(m yamledit.Cursor, key, s string) bool {
	_, v, ok := d.text.Get(m, key)
	if !ok {
		return false
	}
	n := v.Node()
	return n.Kind == yaml.ScalarNode && n.Value == s && !yamledit.IsNull(n) && misreadAs(n) == ""
}

// SetClusterCA embeds a CA bundle (base64 of PEM) into a cluster, and drops
// what would conflict with it: a CA file path, and insecure-skip-tls-verify,
// which kubectl refuses together with a CA.
func (d *Document) SetClusterCA(cluster, caDataBase64 string) error {
	if err := d.setBodyField("clusters", "cluster", cluster, "certificate-authority-data", caDataBase64); err != nil {
		return err
	}
	for _, key := range []string{"certificate-authority", "insecure-skip-tls-verify"} {
		_, body, err := d.entry("clusters", "cluster", cluster)
		if err != nil {
			return err
		}
		if err := d.text.DeleteEntry(body, key); err != nil {
			return err
		}
	}
	return d.verified(nil, "the CA of cluster "+cluster, func(c Config) bool {
		for _, x := range c.Clusters {
			if x.Name == cluster {
				return x.Cluster.CertificateAuthorityData == caDataBase64 && x.Cluster.CertificateAuthority == "" && !x.Cluster.InsecureSkipTLSVerify
			}
		}
		return false
	})
}

// RenameContext gives a context another name; a current-context that
// names it is the caller's to change.
func (d *Document) RenameContext(from, to string) error {
	item, _, err := d.entry("contexts", "context", from)
	if err != nil {
		return err
	}
	return d.verified(d.text.SetEntry(item, "name", to), "the name of context "+from, func(c Config) bool {
		return !slices.ContainsFunc(c.Contexts, func(x NamedContext) bool { return x.Name == from }) &&
			slices.ContainsFunc(c.Contexts, func(x NamedContext) bool { return x.Name == to })
	})
}

// UpsertCluster sets the given fields of a cluster, adding it if missing.
func (d *Document) UpsertCluster(name string, fields Map) error {
	return d.upsert("clusters", "cluster", name, fields, false)
}

// UpsertUser replaces a user's body (so a token in it is gone), adding the
// user if missing.
func (d *Document) UpsertUser(name string, body Map) error {
	return d.upsert("users", "user", name, body, true)
}

// UpsertContext sets the given fields of a context, adding it if missing.
func (d *Document) UpsertContext(name string, fields Map) error {
	return d.upsert("contexts", "context", name, fields, false)
}

func (d *Document) upsert(list, field, name string, body Map, replaceBody bool) error {
	before := 0
	if cfg, err := d.Config(); err == nil {
		before = len(cfg.Clusters) + len(cfg.Users) + len(cfg.Contexts)
	}
	err := d.upsertEntry(list, field, name, body, replaceBody)
	return d.verified(err, strings.TrimSuffix(list, "s")+" "+name, func(c Config) bool {
		n := len(c.Clusters) + len(c.Users) + len(c.Contexts)
		if n < before {
			return false // an edit must never lose an entry
		}
		switch list {
		case "clusters":
			return slices.ContainsFunc(c.Clusters, func(x NamedCluster) bool { return x.Name == name })
		case "users":
			return slices.ContainsFunc(c.Users, func(x NamedUser) bool { return x.Name == name })
		}
		return slices.ContainsFunc(c.Contexts, func(x NamedContext) bool { return x.Name == name })
	})
}

func (d *Document) upsertEntry(list, field, name string, body Map, replaceBody bool) error {
	if d.text.Root() != nil {
		_, lc, _ := d.text.Get(d.text.RootCursor(), list)
		if item, ok := d.text.Item(lc, "name", name); ok {
			if replaceBody {
				return d.text.SetEntry(item, field, body)
			}
			for _, f := range body {
				if err := d.setBodyField(list, field, name, f.Key, f.Value); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := d.text.EnsureRoot(skeleton); err != nil {
		return err
	}
	return d.text.AppendItem(d.text.RootCursor(), list, Map{{Key: "name", Value: name}, {Key: field, Value: body}})
}
