// Package testkubeconfig writes kubeconfigs for tests and benchmarks:
// small ones in many styles for fuzzing, and big ones shaped like a
// platform team's for measuring speed.
package testkubeconfig

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// PlatformTeam is what a platform team keeps: n contexts, half of them
// agent contexts (ci: tokens and exec entries), a cluster per 100 contexts
// (at least one), one in ten with CA data, a comment here and there. The
// current context is cluster-admin-1. AgentContext names its agent
// contexts.
func PlatformTeam(n int) []byte {
	clusters := max(n/100, 1)
	ca := base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\n" + strings.Repeat("MIIB", 220) + "\n-----END CERTIFICATE-----\n"))
	var s strings.Builder
	s.WriteString("# platform team kubeconfig\napiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n")
	for c := range clusters {
		fmt.Fprintf(&s, "- name: kas-%d\n  cluster:\n    server: https://kas-%d.gitlab.example.com/k8s-proxy\n", c, c)
		if c%10 == 0 {
			fmt.Fprintf(&s, "    certificate-authority-data: %s\n", ca)
		}
	}
	s.WriteString("users:\n")
	for i := range n {
		switch {
		case i%4 == 0:
			fmt.Fprintf(&s, "- name: agent:%d\n  user:\n    token: ci:%d:glcbt-64_%08d\n", 100000+i, 100000+i, i)
		case i%4 == 2:
			fmt.Fprintf(&s, "- name: agent:%d\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubectl-gitlab\n      args:\n      - get-token\n      - --agent-id=%d\n      interactiveMode: Never\n", 100000+i, 100000+i)
		default:
			fmt.Fprintf(&s, "- name: admin-%d\n  user:\n    token: static-token-%d # rotated quarterly\n", i, i)
		}
	}
	s.WriteString("contexts:\n")
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&s, "- name: %s\n  context:\n    cluster: kas-%d\n    user: agent:%d\n", AgentContext(i), i%clusters, 100000+i)
		} else {
			fmt.Fprintf(&s, "- name: cluster-admin-%d\n  context:\n    cluster: kas-%d\n    user: admin-%d\n", i, i%clusters, i)
		}
		if i%3 == 0 {
			fmt.Fprintf(&s, "    namespace: ns-%d\n", i)
		}
	}
	s.WriteString("current-context: cluster-admin-1\n")
	return []byte(s.String())
}

// AgentContext is the name of PlatformTeam's context i, an agent context
// for even i.
func AgentContext(i int) string {
	return fmt.Sprintf("group-%d/team-%d/agents-%d:agent-%d", i%97, i%13, i, i)
}

// Styled writes a small kubeconfig in one of many styles, chosen by the
// bytes of seed (a fuzzer's input): indentation, list indentation, key
// order, flow or block bodies, quoting, comments, CRLF. It returns the
// text and the names of its contexts; client-go loads every such text.
func Styled(seed []byte) (text string, contexts []string) {
	r := &byteReader{b: seed}
	step := []int{2, 3, 4}[r.next()%3]
	seqIndent := []int{0, 2}[r.next()%2]
	crlf := r.next()%7 == 0
	const nl = "\n" // CRLF is applied at the end
	n := 1 + int(r.next()%4)
	pad := func(k int) string { return strings.Repeat(" ", k) }
	quote := func(s string) string {
		switch r.next() % 3 {
		case 1:
			return `"` + s + `"`
		case 2:
			return "'" + s + "'"
		}
		return s
	}
	comment := func(indent int) string {
		if r.next()%4 == 0 {
			return pad(indent) + "# note " + fmt.Sprint(r.next()) + nl
		}
		return ""
	}
	lineComment := func() string {
		if r.next()%4 == 0 {
			return "   # note " + fmt.Sprint(r.next())
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(comment(0))
	b.WriteString("apiVersion: v1" + nl + "kind: Config" + nl)
	lists := []string{"clusters", "users", "contexts"}
	if r.next()%2 == 0 {
		lists = []string{"contexts", "users", "clusters"}
	}
	for i := range n {
		contexts = append(contexts, fmt.Sprintf("g%d/agents:a%d", i, i))
	}
	if r.next()%3 == 0 {
		b.WriteString("current-context: " + quote(contexts[0]) + nl)
	}
	for _, list := range lists {
		b.WriteString(comment(0))
		b.WriteString(list + ":" + nl)
		for i := range n {
			item := pad(seqIndent) + "- "
			in := seqIndent + 2
			var body []string
			var field string
			switch list {
			case "clusters":
				field = "cluster"
				body = []string{"server: https://kas" + fmt.Sprint(i) + ".example/k8s-proxy"}
				if r.next()%3 == 0 {
					body = append(body, "insecure-skip-tls-verify: true")
				}
			case "users":
				field = "user"
				body = []string{fmt.Sprintf("token: ci:%d:tok%d", 100+i, i)}
			case "contexts":
				field = "context"
				body = []string{"cluster: c" + fmt.Sprint(i), "user: u" + fmt.Sprint(i)}
				if r.next()%2 == 0 {
					body = append(body, "namespace: ns"+fmt.Sprint(i))
				}
			}
			nameLine := "name: " + quote(map[string]string{"clusters": "c", "users": "u", "contexts": ""}[list]+itemName(list, contexts[i], i))
			var bodyText string
			if r.next()%4 == 0 {
				bodyText = field + ": {" + strings.Join(body, ", ") + "}" + nl
			} else {
				bodyText = field + ":" + nl
				for _, l := range body {
					bodyText += pad(in+step) + l + lineComment() + nl
				}
			}
			if r.next()%2 == 0 {
				b.WriteString(item + nameLine + nl + pad(in) + bodyText)
			} else {
				b.WriteString(item + bodyText + pad(in) + nameLine + nl)
			}
		}
	}
	b.WriteString(comment(0))
	if crlf {
		return strings.ReplaceAll(b.String(), "\n", "\r\n"), contexts
	}
	return b.String(), contexts
}

func itemName(list, ctx string, i int) string {
	if list == "contexts" {
		return ctx
	}
	return fmt.Sprint(i)
}

type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[r.i%len(r.b)] + byte(r.i/len(r.b))
	r.i++
	return v
}
