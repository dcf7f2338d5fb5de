package kubeconfig

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yaml11"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yamledit"
)

// ParseError is a kubeconfig that cannot be read. It names file and line,
// and never quotes values, which may be secrets.
type ParseError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			pos += ":" + strconv.Itoa(e.Column)
		}
	}
	return pos + ": " + e.Msg
}

// parseRoot parses a kubeconfig's text into its root mapping; an empty or
// comment-only file has none (nil).
func parseRoot(file string, data []byte) (*yaml.Node, error) {
	d, err := yamledit.Parse(data)
	if err != nil {
		var syntax *yamledit.SyntaxError
		if !errors.As(err, &syntax) {
			return nil, err
		}
		return nil, &ParseError{File: file, Line: syntax.Line, Column: syntax.Column, Msg: "not valid YAML: " + syntax.Msg}
	}
	if d.Kind == 0 || len(d.Content) == 0 {
		return nil, nil
	}
	r := d.Content[0]
	if yamledit.IsNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.MappingNode {
		return nil, &ParseError{File: file, Line: r.Line, Column: r.Column, Msg: "a kubeconfig must be a YAML mapping (apiVersion, kind, clusters, users, contexts)"}
	}
	return r, nil
}

// decoder walks a kubeconfig tree into a Config.
type decoder struct {
	file string
	err  error
	// kind and name are the entry being decoded (context, "x"), for
	// messages and Misread; name is "" while the name is read.
	kind, name string
	misread    []Misread
}

func (d *decoder) fail(n *yaml.Node, format string, args ...any) {
	if d.err == nil {
		d.err = &ParseError{File: d.file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
	}
}

func decodeConfig(file string, root *yaml.Node) (Config, error) {
	var c Config
	if root == nil {
		return c, nil
	}
	d := &decoder{file: file}
	eachEntry(root, func(k, v *yaml.Node) {
		d.checkKey(k)
		switch k.Value {
		case "current-context":
			c.CurrentContext = d.str(v, "current-context")
		case "clusters":
			d.list(v, "clusters", "cluster", func(name string, body *yaml.Node, line int) {
				c.Clusters = append(c.Clusters, NamedCluster{Name: name, Cluster: d.cluster(body), Line: line})
			})
		case "users":
			d.list(v, "users", "user", func(name string, body *yaml.Node, line int) {
				c.Users = append(c.Users, NamedUser{Name: name, User: d.user(body), Line: line})
			})
		case "contexts":
			d.list(v, "contexts", "context", func(name string, body *yaml.Node, line int) {
				c.Contexts = append(c.Contexts, NamedContext{Name: name, Context: d.context(body), Line: line})
			})
		}
	})
	c.Misread = d.misread
	return c, d.err
}

// list decodes clusters/users/contexts: a sequence of {name, <field>}.
// Duplicate names in one file are an error, as they are for kubectl.
func (d *decoder) list(seq *yaml.Node, what, field string, each func(name string, body *yaml.Node, line int)) {
	if yamledit.IsNull(seq) {
		return
	}
	if seq.Kind != yaml.SequenceNode {
		d.fail(seq, "%s: expected a list, found %s", what, kindName(seq))
		return
	}
	seen := map[string]int{}
	for i, item := range seq.Content {
		if item.Kind != yaml.MappingNode {
			d.fail(item, "%s[%d]: expected a mapping with name and %s, found %s", what, i, field, kindName(item))
			return
		}
		_, nameNode := yamledit.Lookup(item, "name")
		if nameNode == nil {
			d.fail(item, "%s[%d]: has no name", what, i)
			return
		}
		d.kind, d.name = field, ""
		name := d.str(nameNode, "name")
		if prev, dup := seen[name]; dup {
			d.fail(nameNode, "%s: duplicate name %q (also at line %d); kubectl refuses this file too: remove or rename one", what, name, prev)
			return
		}
		seen[name] = nameNode.Line
		_, body := yamledit.Lookup(item, field)
		d.name = name
		each(name, body, item.Line)
		d.kind, d.name = "", ""
	}
}

func (d *decoder) cluster(n *yaml.Node) (c Cluster) {
	d.fields(n, "cluster", func(k, v *yaml.Node) {
		switch k.Value {
		case "server":
			c.Server = d.str(v, "server")
		case "certificate-authority":
			c.CertificateAuthority = d.str(v, "certificate-authority")
		case "certificate-authority-data":
			c.CertificateAuthorityData = d.str(v, "certificate-authority-data")
		case "insecure-skip-tls-verify":
			c.InsecureSkipTLSVerify = d.boolean(v, "insecure-skip-tls-verify")
		case "tls-server-name":
			c.TLSServerName = d.str(v, "tls-server-name")
		case "proxy-url":
			c.ProxyURL = d.str(v, "proxy-url")
		}
	})
	return c
}

func (d *decoder) user(n *yaml.Node) (u User) {
	d.fields(n, "user", func(k, v *yaml.Node) {
		switch k.Value {
		case "token":
			u.Token = d.str(v, "token")
		case "tokenFile":
			u.TokenFile = d.str(v, "tokenFile")
		case "client-certificate", "client-certificate-data":
			u.ClientCertificate = !yamledit.IsNull(v)
			if k.Value == "client-certificate" {
				u.ClientCertificateFile = d.str(v, "client-certificate")
			} else {
				u.ClientCertificateData = d.str(v, "client-certificate-data")
			}
		case "client-key":
			u.ClientKeyFile = d.str(v, "client-key")
		case "client-key-data":
			u.ClientKeyData = d.str(v, "client-key-data")
		case "as":
			u.As = d.str(v, "as")
		case "as-uid":
			u.AsUID = d.str(v, "as-uid")
		case "as-groups":
			u.AsGroups = d.strings(v, "as-groups")
		case "as-user-extra":
			if yamledit.IsNull(v) {
				return
			}
			u.AsUserExtra = map[string][]string{}
			d.fields(v, "as-user-extra", func(k, v *yaml.Node) {
				u.AsUserExtra[k.Value] = d.strings(v, "as-user-extra."+k.Value)
			})
		case "auth-provider":
			u.AuthProvider = !yamledit.IsNull(v)
		case "username":
			u.Username = d.str(v, "username")
		case "exec":
			if !yamledit.IsNull(v) {
				u.Exec = d.exec(v)
			}
		}
	})
	return u
}

func (d *decoder) exec(n *yaml.Node) *Exec {
	e := &Exec{}
	d.fields(n, "exec", func(k, v *yaml.Node) {
		switch k.Value {
		case "apiVersion":
			e.APIVersion = d.str(v, "exec.apiVersion")
		case "command":
			e.Command = d.str(v, "exec.command")
		case "args":
			e.Args = d.strings(v, "exec.args")
		case "env":
			if yamledit.IsNull(v) {
				return
			}
			if v.Kind != yaml.SequenceNode {
				d.fail(v, "exec.env: expected a list, found %s", kindName(v))
				return
			}
			for _, item := range v.Content {
				var ev EnvVar
				d.fields(item, "exec.env[]", func(k, v *yaml.Node) {
					switch k.Value {
					case "name":
						ev.Name = d.str(v, "exec.env[].name")
					case "value":
						ev.Value = d.str(v, "exec.env[].value")
					}
				})
				e.Env = append(e.Env, ev)
			}
		case "installHint":
			e.InstallHint = d.str(v, "exec.installHint")
		case "interactiveMode":
			e.InteractiveMode = d.str(v, "exec.interactiveMode")
		case "provideClusterInfo":
			e.ProvideClusterInfo = d.boolean(v, "exec.provideClusterInfo")
		}
	})
	return e
}

func (d *decoder) context(n *yaml.Node) (c Context) {
	d.fields(n, "context", func(k, v *yaml.Node) {
		switch k.Value {
		case "cluster":
			c.Cluster = d.str(v, "cluster")
		case "user":
			c.User = d.str(v, "user")
		case "namespace":
			c.Namespace = d.str(v, "namespace")
		}
	})
	return c
}

func (d *decoder) fields(n *yaml.Node, what string, each func(k, v *yaml.Node)) {
	if n == nil || yamledit.IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, "%s: expected a mapping, found %s", what, kindName(n))
		return
	}
	eachEntry(n, func(k, v *yaml.Node) {
		d.checkKey(k)
		each(k, v)
	})
}

// checkKey refuses keys that are not plain strings ({}: x, [a]: b): kubectl
// reads YAML through JSON, where such keys mean something else.
func (d *decoder) checkKey(k *yaml.Node) {
	if k.Kind != yaml.ScalarNode {
		d.fail(k, "a key must be a string, found %s", kindName(k))
	}
}

// str reads a scalar as a string. The message names the field, not the
// value: the value may be a token.
func (d *decoder) str(n *yaml.Node, what string) string {
	if yamledit.IsNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, "%s: expected a string, found %s", Misread{Field: what, Kind: d.kind, Name: d.name}.field(), kindName(n))
		return ""
	}
	if as := misreadAs(n); as != "" {
		d.misread = append(d.misread, Misread{File: d.file, Line: n.Line, Field: what, Kind: d.kind, Name: d.name, Value: n.Value, As: as})
	}
	return n.Value
}

// misreadAs says what kubectl takes an unquoted scalar for when it is not
// the text this plugin reads: client-go turns YAML into JSON with yaml.v2
// (YAML 1.1), so 1e3 is a number and yes is true.
func misreadAs(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Style != 0 {
		return ""
	}
	return yaml11.Misread(n.Value)
}

func (d *decoder) strings(n *yaml.Node, what string) []string {
	if yamledit.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "%s: expected a list of strings, found %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		out = append(out, d.str(item, what+"[]"))
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	if yamledit.IsNull(n) {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	d.fail(n, "%s: expected true or false", what)
	return false
}

// eachEntry calls each for the key/value pairs of a mapping, resolving
// aliases of values.
func eachEntry(m *yaml.Node, each func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		each(m.Content[i], yamledit.Resolve(m.Content[i+1]))
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}
