package access

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Severity says whether a diagnostic fails the check.
type Severity string

const (
	// SeverityError: KAS rejects the file (Diagnostic.Rejects), or GitLab
	// ignores what is written, so the configuration does not do what it
	// says. `lint` exits 1.
	SeverityError Severity = "error"
	// SeverityWarning: the configuration works, but likely not as meant.
	SeverityWarning Severity = "warning"
)

// Codes of diagnostics, stable for scripts that read the JSON form.
const (
	// KAS rejects the file.
	CodeYAMLSyntax          = "yaml-syntax"
	CodeYAMLValue           = "yaml-value"
	CodeFileTooBig          = "file-too-big"
	CodeUnknownKey          = "unknown-key"
	CodeRemovedKey          = "removed-key"
	CodeWrongType           = "wrong-type"
	CodeMissingValue        = "missing-value"
	CodeEmptyValue          = "empty-value"
	CodeInvalidValue        = "invalid-value"
	CodeConflictingAccessAs = "conflicting-access-as"
	CodeEmptyAccessAs       = "empty-access-as"

	// KAS accepts the file, but GitLab does not do what it says.
	CodeInvalidPath        = "invalid-path"
	CodeTooManyEntries     = "too-many-entries"
	CodeDuplicateEntry     = "duplicate-entry"
	CodeInvalidEnvironment = "invalid-environment"
	CodeInvalidNamespace   = "invalid-namespace"
	CodeNoUserAccessAs     = "user-access-without-access-as"

	// Warnings.
	CodeDuplicateKey      = "duplicate-key"
	CodeSecondDocument    = "second-document"
	CodeNeedsNewerGitLab  = "needs-newer-gitlab"
	CodeEmptyEnvironments = "empty-environments"
	CodeLiteralVariable   = "variable-not-expanded"
	CodeNotOnGitLabCom    = "not-on-gitlab-com"
	CodeOutsideTopLevel   = "outside-top-level-group"
	CodePaidFeature       = "needs-premium"
)

// Diagnostic is one problem found in a configuration file.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column,omitempty"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	// Suggestion is the replacement the message proposes, when there is a
	// single obvious one (the key to write instead of a misspelt one).
	Suggestion string `json:"suggestion,omitempty"`
	// Rejects says KAS rejects the whole file for this: it keeps the
	// previous configuration, and nothing in this file takes effect.
	Rejects bool `json:"rejects,omitempty"`
}

// String formats d like a compiler: `file:line:col: severity: message`.
// The column is left out when it is unknown.
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(d.Line))
	if d.Column > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(d.Column))
	}
	b.WriteString(": ")
	b.WriteString(string(d.Severity))
	b.WriteString(": ")
	b.WriteString(d.Message)
	return b.String()
}

func countSeverity(ds []Diagnostic, s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// sortDiagnostics orders by position, then errors before warnings, so the
// output reads top to bottom like the file.
func sortDiagnostics(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Severity == SeverityError && b.Severity != SeverityError
	})
}

// diagnostics collects problems for one file.
type diagnostics struct {
	file string
	list []Diagnostic
}

func (c *diagnostics) add(sev Severity, code string, at Pos, suggestion, format string, args ...any) {
	line := at.Line
	if line < 1 {
		line = 1 // every diagnostic points somewhere, even when the parser could not say where
	}
	c.list = append(c.list, Diagnostic{
		File: c.file, Line: line, Column: at.Column,
		Severity: sev, Code: code, Message: fmt.Sprintf(format, args...), Suggestion: suggestion,
	})
}

// addRejection adds an error that makes KAS reject the file.
func (c *diagnostics) addRejection(code string, at Pos, suggestion, format string, args ...any) {
	c.add(SeverityError, code, at, suggestion, format, args...)
	c.list[len(c.list)-1].Rejects = true
}

func (c *diagnostics) errorf(code string, at Pos, format string, args ...any) {
	c.add(SeverityError, code, at, "", format, args...)
}

func (c *diagnostics) warnf(code string, at Pos, format string, args ...any) {
	c.add(SeverityWarning, code, at, "", format, args...)
}

// LintResult is what Lint found in one file.
type LintResult struct {
	File        string       `json:"file"`
	Diagnostics []Diagnostic `json:"diagnostics"`
	Errors      int          `json:"errors"`
	Warnings    int          `json:"warnings"`
	// OK is true when there is no error (warnings allowed).
	OK bool `json:"ok"`
	// Rejected is true when KAS rejects the file: the agent then keeps its
	// previous configuration.
	Rejected bool `json:"rejected"`
	// Config is the parsed file, for callers that go on to Explain it.
	Config *Config `json:"-"`
}

// HasErrors reports whether the file has an error; `lint` then exits 1.
func (r *LintResult) HasErrors() bool { return r.Errors > 0 }

// Summary is one line that says whether the file is fine.
func (r *LintResult) Summary() string {
	if r.Errors == 0 && r.Warnings == 0 {
		return r.File + ": ok, no problems found"
	}
	verdict := "ok"
	switch {
	case r.Rejected:
		verdict = "FAILED, KAS rejects this file and keeps the previous configuration"
	case r.Errors > 0:
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %s, %s, %s", r.File, verdict, plural(r.Errors, "error"), plural(r.Warnings, "warning"))
}

// WriteText writes one line per diagnostic, then the summary.
func (r *LintResult) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the result as one indented JSON object.
func (r *LintResult) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // placeholders such as <job id> stay readable
	return enc.Encode(r)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
