package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// printStructured writes v as JSON or YAML.
func printStructured(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		defer enc.Close()
		return enc.Encode(v)
	}
	return fmt.Errorf("unknown output format %q", format)
}

// printNote writes a note for people on w (stderr): "note: " before its
// first line, its other lines indented; nothing when note is empty.
func printNote(w io.Writer, note string) {
	printLabelled(w, "note", note)
}

// printLabelled writes text as "label: first line", the other lines
// indented under it.
func printLabelled(w io.Writer, label, text string) {
	if text == "" {
		return
	}
	for i, line := range strings.Split(text, "\n") {
		if i == 0 {
			fmt.Fprintf(w, "%s: %s\n", label, line)
		} else {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
}

// warnMisread warns, on w (stderr), of every value in the kubeconfig that
// kubectl reads otherwise than as written (it then refuses the whole
// file), with how to fix it. skip leaves out one the command just fixed.
func warnMisread(w io.Writer, set *kubeconfig.Set, skip func(kubeconfig.Misread) bool) {
	for _, m := range set.Misread() {
		if skip != nil && skip(m) {
			continue
		}
		printLabelled(w, "warning", m.String()+"\n"+agentcontext.MisreadFix(m))
	}
}
