package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// lintCase is a file and what lint must say of it.
type lintCase struct {
	name string
	yaml string
	opts LintOptions
	// want are `line:col severity code`, in order.
	want []string
	// wantText are substrings of the text output.
	wantText []string
	// rejected: KAS rejects the file.
	rejected bool
}

func runLintCases(t *testing.T, tests []lintCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Lint("config.yaml", []byte(strings.TrimPrefix(tt.yaml, "\n")), tt.opts)
			text := textOf(t, res)
			if got := shortAll(res.Diagnostics); !equalStrings(got, tt.want) {
				t.Errorf("diagnostics\n got %q\nwant %q\n%s", got, tt.want, text)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(text, s) {
					t.Errorf("output lacks %q:\n%s", s, text)
				}
			}
			wantErr := false
			for _, w := range tt.want {
				wantErr = wantErr || strings.Contains(w, " error ")
			}
			if res.HasErrors() != wantErr || res.OK == wantErr {
				t.Errorf("HasErrors() = %v, OK = %v, want errors %v", res.HasErrors(), res.OK, wantErr)
			}
			if res.Rejected != tt.rejected {
				t.Errorf("Rejected = %v, want %v\n%s", res.Rejected, tt.rejected, text)
			}
			for _, d := range res.Diagnostics {
				if d.Rejects && !strings.HasSuffix(d.Message, rejected) && !strings.Contains(d.Message, rejected+".") {
					t.Errorf("a rejection that does not say what happens: %s", d)
				}
			}
		})
	}
}

// manyEntries writes a ci_access with n projects and m groups, one line
// each: project i is on line 3+i, group i on line n+4+i.
func manyEntries(n, m int) string {
	var b strings.Builder
	b.WriteString("ci_access:\n  projects:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - id: top/p%d\n", i)
	}
	b.WriteString("  groups:\n")
	for i := 0; i < m; i++ {
		fmt.Fprintf(&b, "    - id: top/g%d\n", i)
	}
	return b.String()
}

func TestLintJSON(t *testing.T) {
	res := Lint("config.yaml", []byte("ci_access:\n  project: []\n"), LintOptions{})
	var b bytes.Buffer
	if err := res.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		File        string
		Errors      int
		Warnings    int
		OK          bool
		Rejected    bool
		Diagnostics []Diagnostic
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := Diagnostic{File: "config.yaml", Line: 2, Column: 3, Severity: SeverityError, Code: CodeUnknownKey,
		Message: "unknown key `project` in `ci_access`; did you mean `projects`? " + rejected, Suggestion: "projects", Rejects: true}
	if got.File != "config.yaml" || got.Errors != 1 || got.Warnings != 0 || got.OK || !got.Rejected || len(got.Diagnostics) != 1 || got.Diagnostics[0] != want {
		t.Errorf("JSON = %s", b.String())
	}
	if !strings.Contains(b.String(), `"rejects": true`) {
		t.Errorf("JSON = %s", b.String())
	}

	// A clean file has an empty list, not null, for consumers that iterate.
	b.Reset()
	if err := Lint("ok.yaml", []byte("ci_access: {instance: {}}\n"), LintOptions{}).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"diagnostics": []`) || !strings.Contains(b.String(), `"ok": true`) || !strings.Contains(b.String(), `"rejected": false`) {
		t.Errorf("JSON = %s", b.String())
	}
}

func TestDiagnosticString(t *testing.T) {
	d := Diagnostic{File: "f.yaml", Line: 3, Column: 5, Severity: SeverityWarning, Message: "m"}
	if got := d.String(); got != "f.yaml:3:5: warning: m" {
		t.Errorf("got %q", got)
	}
	d.Column = 0
	if got := d.String(); got != "f.yaml:3: warning: m" {
		t.Errorf("got %q", got)
	}
}

func TestClosestKey(t *testing.T) {
	known := []string{"id", "default_namespace", "environments", "protected_branches_only", "access_as"}
	for in, want := range map[string]string{
		"project":        "",
		"ID":             "id",
		"enviroment":     "environments",
		"environment":    "environments",
		"Access-As":      "access_as",
		"accessas":       "access_as",
		"namespace":      "",
		"protected":      "",
		"default_ns":     "",
		"protected_only": "",
	} {
		if got := closestKey(in, known); got != want {
			t.Errorf("closestKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := closestKey("project", schema().field("ci_access").msg.names()); got != "projects" {
		t.Errorf("closestKey(project) = %q", got)
	}
	if got := closestKey("user_access", []string{"ci_access"}); got != "" {
		t.Errorf("user_access is not a typo of ci_access, got %q", got)
	}
}
