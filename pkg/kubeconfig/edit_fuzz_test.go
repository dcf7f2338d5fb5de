package kubeconfig

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/yamlpos"
)

// FuzzEdit: for generated kubeconfigs and edits, the result loads in
// client-go, what was edited reads back as set, every other entry is
// unchanged, and applying the same edits again changes nothing.
func FuzzEdit(f *testing.F) {
	f.Add([]byte{0}, uint8(0), "new-ns")
	f.Add([]byte{1, 2, 3, 4, 5}, uint8(3), "x")
	f.Add([]byte{7, 7, 7, 0, 1}, uint8(5), "007")
	f.Add([]byte("kubeconfig"), uint8(9), "a b")
	f.Fuzz(func(t *testing.T, seed []byte, op uint8, value string) {
		if strings.ContainsAny(value, "\x00\r\n\t") || !isPrintable(value) {
			return
		}
		text, names := testkubeconfig.Styled(seed)
		before, err := clientcmd.Load([]byte(text))
		if err != nil {
			t.Fatalf("the generator wrote an invalid kubeconfig: %v\n%s", err, text)
		}
		target := names[int(op)%len(names)]
		cluster, user := before.Contexts[target].Cluster, before.Contexts[target].AuthInfo
		newName := "new/" + value
		edits := []func(*Document) error{
			func(d *Document) error { return d.SetCurrentContext(target) },
			func(d *Document) error { return d.SetContextNamespace(target, value) },
			func(d *Document) error { return d.SetClusterCA(cluster, "QUJD") },
			func(d *Document) error {
				return d.UpsertUser(user, Map{{Key: "exec", Value: Map{{Key: "apiVersion", Value: "client.authentication.k8s.io/v1"}, {Key: "command", Value: "kubectl-gitlab"}, {Key: "args", Value: List{"get-token", "--agent-id=1"}}, {Key: "interactiveMode", Value: "Never"}}}})
			},
			func(d *Document) error {
				return d.UpsertContext(newName, Map{{Key: "cluster", Value: cluster}, {Key: "user", Value: user}, {Key: "namespace", Value: value}})
			},
			func(d *Document) error {
				return d.UpsertCluster(cluster, Map{{Key: "server", Value: "https://" + value}})
			},
		}
		chosen := []func(*Document) error{edits[int(op)%len(edits)], edits[int(op/8)%len(edits)]}
		once := apply(t, text, chosen)
		after, err := clientcmd.Load(once)
		if err != nil {
			t.Fatalf("client-go cannot load the result: %v\nbefore:\n%s\nafter:\n%s", err, text, once)
		}
		twice := apply(t, string(once), chosen)
		if !bytes.Equal(once, twice) {
			t.Fatalf("not idempotent:\n%s\nthen:\n%s", once, twice)
		}
		touched := map[string]bool{"context:" + target: true, "cluster:" + cluster: true, "user:" + user: true, "context:" + newName: true}
		assertUntouched(t, before, after, touched, text, once)
	})
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

func apply(t *testing.T, text string, edits []func(*Document) error) []byte {
	t.Helper()
	d, err := ParseDocument("fuzz.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	for _, e := range edits {
		if err := e(d); err != nil {
			t.Fatalf("edit failed: %v\n%s", err, d.Bytes())
		}
	}
	return d.Bytes()
}

func assertUntouched(t *testing.T, before, after *clientcmdapi.Config, touched map[string]bool, in string, out []byte) {
	t.Helper()
	for name, c := range before.Contexts {
		if !touched["context:"+name] && !reflect.DeepEqual(stripOrigin(c), stripOrigin(after.Contexts[name])) {
			t.Fatalf("context %q changed:\n%s\n->\n%s", name, in, out)
		}
	}
	for name, c := range before.Clusters {
		if !touched["cluster:"+name] && !reflect.DeepEqual(c.Server, after.Clusters[name].Server) {
			t.Fatalf("cluster %q changed:\n%s\n->\n%s", name, in, out)
		}
	}
	for name, u := range before.AuthInfos {
		if !touched["user:"+name] && (after.AuthInfos[name] == nil || u.Token != after.AuthInfos[name].Token) {
			t.Fatalf("user %q changed:\n%s\n->\n%s", name, in, out)
		}
	}
}

func stripOrigin(c *clientcmdapi.Context) *clientcmdapi.Context {
	if c == nil {
		return nil
	}
	cp := *c
	cp.LocationOfOrigin = ""
	cp.Extensions = nil
	return &cp
}

// FuzzParseDocument: arbitrary bytes never panic the parser or an edit,
// and an edit that succeeds on a file client-go reads leaves one it reads.
func FuzzParseDocument(f *testing.F) {
	f.Add([]byte("apiVersion: v1\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n"))
	f.Add([]byte("{\"contexts\": [{\"name\": \"a\", \"context\": {}}]}"))
	f.Add([]byte("current-context: a # c\nclusters: []\n"))
	f.Add([]byte("- a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument("fuzz.yaml", data)
		if err != nil {
			// Every error points into the file; a syntax error at a line.
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("not a ParseError: %v", err)
			}
			if pe.Line < 0 || pe.Line > yamlpos.LineCount(data) || (strings.HasPrefix(pe.Msg, "not valid YAML") && pe.Line == 0) {
				t.Fatalf("error outside the file's %d lines: %v", yamlpos.LineCount(data), err)
			}
			return
		}
		cfg, err := d.Config()
		if err != nil {
			return
		}
		_, loadErr := clientcmd.Load(data)
		name := "x"
		if len(cfg.Contexts) > 0 {
			name = cfg.Contexts[0].Name
		}
		if err := d.SetCurrentContext(name); err != nil {
			return
		}
		if err := d.UpsertContext("fuzz/new:ctx", Map{{Key: "cluster", Value: "c"}, {Key: "user", Value: "u"}}); err != nil {
			return
		}
		if loadErr == nil {
			if got, err := clientcmd.Load(d.Bytes()); err != nil || got.CurrentContext != name {
				t.Fatalf("after editing, client-go: %v (current %q)\nbefore:\n%q\nafter:\n%q", err, got.CurrentContext, data, d.Bytes())
			}
		}
	})
}
