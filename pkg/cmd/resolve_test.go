package cmd

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/doctor"
)

// Which context each command picks (README "Which context a command
// uses"). Every command asks agentcontext.Resolve:
//
//   - use-context: NAME, --agent-id, $KUBE_CONTEXT, the only agent context;
//     several and nothing to choose is an error that lists them.
//   - update-kubeconfig --use-context NAME: NAME, as use-context NAME.
//   - doctor: --context NAME as use-context NAME; else the current context
//     when it is an agent context; else what use-context would pick. A
//     resolution error is its failed "context" check (doctor exits 1 when a
//     check fails).
//   - whoami: --context NAME as use-context NAME; else the current context,
//     agent context or not (the cluster plain kubectl talks to).
//   - current-context: the current context.
//
// No current context, or one that names no context, is the same error with
// exit code 2 in current-context and whoami; its fix says what use-context
// would switch to.

// outcome is what one command chose: a context, or an error's first line
// and fix.
type outcome struct {
	context  string
	err, fix string
	code     int
}

var switchedTo = regexp.MustCompile(`Switched to context "([^"]+)"`)

// fromStderr splits "error: what\n  fix…" into what and the unindented
// fix; warnings before it do not count.
func fromStderr(r result) outcome {
	stderr := r.stderr
	if i := strings.Index(stderr, "error: "); i >= 0 {
		stderr = stderr[i:]
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	o := outcome{code: r.code, err: strings.TrimPrefix(lines[0], "error: ")}
	var fix []string
	for _, l := range lines[1:] {
		fix = append(fix, strings.TrimPrefix(l, "  "))
	}
	o.fix = strings.Join(fix, "\n")
	return o
}

// reviewTransport answers every request with a SelfSubjectReview, so that
// whoami and doctor get as far as the context they chose.
type reviewTransport struct{}

func (reviewTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview","status":{"userInfo":{"username":"tester"}}}`
	return &http.Response{StatusCode: http.StatusCreated, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestContextResolution pins each situation's answer in every command that
// picks a context, in-process. Within a case, every command that fails
// gives the same message and fix, and (but doctor) the same exit code.
func TestContextResolution(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra"},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, ProjectID: 150, AllowedAgents: []int64{1234, 5678}}},
	})
	const (
		prod    = "group/agents:prod"
		staging = "group/sub/infra:staging"
		deploy  = "gitlab-deploy"
		noneSet = "error: no current context is set"
	)
	// Each want is a context name, "error: " and the start of the error,
	// or "" where the command cannot express the query.
	cases := []struct {
		name, file                           string
		query                                string // use-context NAME, --context NAME, --use-context NAME
		agentID                              string // use-context --agent-id
		kubeContext                          string
		use, doctor, whoami, current, update string
	}{
		{name: "full name", file: "job-agents.yaml", query: staging,
			use: staging, doctor: staging, whoami: staging, update: staging},
		{name: "agent name", file: "job-agents.yaml", query: "staging",
			use: staging, doctor: staging, whoami: staging, update: staging},
		{name: "name beats the current context and KUBE_CONTEXT", file: "job-agents-current.yaml", query: "prod", kubeContext: "staging",
			use: prod, doctor: prod, whoami: prod, update: prod},
		{name: "unknown name", file: "job-agents.yaml", query: "nope",
			use: `error: no context named "nope"`, doctor: `error: no context named "nope"`, whoami: `error: no context named "nope"`, update: `error: no context named "nope"`},
		{name: "ambiguous agent name", file: "job-same-agent-name.yaml", query: "prod",
			use: `error: agent name "prod" is ambiguous`, doctor: `error: agent name "prod" is ambiguous`, whoami: `error: agent name "prod" is ambiguous`, update: `error: agent name "prod" is ambiguous`},
		{name: "agent ID", file: "job-agents.yaml", agentID: "5678", use: staging},
		{name: "unknown agent ID", file: "job-agents.yaml", agentID: "99", use: "error: no agent context for agent ID 99"},
		{name: "KUBE_CONTEXT as an agent name", file: "job-agents.yaml", kubeContext: "prod",
			use: prod, doctor: prod, whoami: noneSet, current: noneSet},
		{name: "KUBE_CONTEXT over gitlab-deploy", file: "job-gitlab-deploy.yaml", kubeContext: prod,
			use: prod, doctor: prod, whoami: deploy, current: deploy},
		{name: "unknown KUBE_CONTEXT", file: "job-agents.yaml", kubeContext: "x:y",
			use: `error: no context named $KUBE_CONTEXT "x:y"`, doctor: `error: no context named $KUBE_CONTEXT "x:y"`, whoami: noneSet, current: noneSet},
		{name: "the only agent context", file: "job-gitlab-deploy-one-agent.yaml",
			use: prod, doctor: prod, whoami: deploy, current: deploy},
		{name: "no agent contexts", file: "multi/1-base.yaml",
			use: "error: no agent contexts in", doctor: "error: no agent contexts in", whoami: noneSet, current: noneSet},
		{name: "several agent contexts, nothing to choose", file: "job-agents.yaml",
			use: "error: 2 agent contexts in", doctor: "error: 2 agent contexts in", whoami: noneSet, current: noneSet},
		{name: "gitlab-deploy current", file: "job-gitlab-deploy.yaml",
			use: "error: 2 agent contexts in", doctor: "error: 2 agent contexts in", whoami: deploy, current: deploy},
		{name: "an agent context current", file: "job-agents-current.yaml", kubeContext: prod,
			use: prod, doctor: staging, whoami: staging, current: staging},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			path := h.kubeconfig(c.file, kas.URL+"/k8s-proxy")
			original := mustRead(t, path)
			h.env["KUBECONFIG"] = path
			if c.kubeContext != "" {
				h.env["KUBE_CONTEXT"] = c.kubeContext
			}
			// run runs one command on the original kubeconfig.
			run := func(args ...string) result {
				if err := os.WriteFile(path, []byte(original), 0o600); err != nil {
					t.Fatal(err)
				}
				return h.run(args...)
			}
			withName := func(flag string, args ...string) []string {
				switch {
				case c.query != "" && flag == "":
					return append(args, c.query)
				case c.query != "":
					return append(args, flag, c.query)
				}
				return args
			}
			got := map[string]outcome{}
			if c.use != "" {
				args := withName("", "use-context")
				if c.agentID != "" {
					args = append(args, "--agent-id", c.agentID)
				}
				r := run(args...)
				if m := switchedTo.FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
					got["use-context"] = outcome{context: m[1]}
				} else {
					got["use-context"] = fromStderr(r)
				}
			}
			if c.current != "" {
				r := run("current-context")
				if r.code == 0 {
					got["current-context"] = outcome{context: strings.TrimSpace(r.stdout)}
				} else {
					got["current-context"] = fromStderr(r)
				}
			}
			h.transport = reviewTransport{}
			if c.whoami != "" {
				r := run(withName("--context", "whoami", "-o", "json")...)
				var view whoamiView
				if r.code == 0 && json.Unmarshal([]byte(r.stdout), &view) == nil {
					got["whoami"] = outcome{context: view.Context}
				} else {
					got["whoami"] = fromStderr(r)
				}
			}
			if c.doctor != "" {
				r := run(withName("--context", "doctor", "-o", "json")...)
				rep := doctorReport(t, r)
				check, _ := rep.Get("context")
				switch check.Status {
				case doctor.Pass:
					got["doctor"] = outcome{context: rep.Context}
				case doctor.Fail:
					if r.code != ExitFailed {
						t.Errorf("doctor: a failed check, but exit code %d", r.code)
					}
					got["doctor"] = outcome{err: check.Found, fix: check.Fix, code: ExitBadInput}
				default:
					t.Fatalf("doctor's context check: %+v", check)
				}
			}
			if c.update != "" {
				h.transport = kas.Client().Transport
				h.inJob(kas)
				r := run(withName("--use-context", "update-kubeconfig")...)
				if m := switchedTo.FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
					got["update-kubeconfig --use-context"] = outcome{context: m[1]}
				} else {
					got["update-kubeconfig --use-context"] = fromStderr(r)
				}
			}

			want := map[string]string{"use-context": c.use, "current-context": c.current, "whoami": c.whoami, "doctor": c.doctor, "update-kubeconfig --use-context": c.update}
			// Commands that give the same error give the same words.
			seen := map[string]outcome{}
			for cmd, w := range want {
				if w == "" {
					continue
				}
				o := got[cmd]
				if msg, isErr := strings.CutPrefix(w, "error: "); isErr {
					if o.code != ExitBadInput || !strings.HasPrefix(o.err, msg) {
						t.Errorf("%s: %+v, want exit code 2 and an error that starts %q", cmd, o, msg)
						continue
					}
					if o.fix == "" {
						t.Errorf("%s: error %q without a fix", cmd, o.err)
					}
					if other, ok := seen[w]; ok && (o.err != other.err || o.fix != other.fix) {
						t.Errorf("%s says\n%s\n%s\nwhere another command says\n%s\n%s", cmd, o.err, o.fix, other.err, other.fix)
					}
					seen[w] = o
					continue
				}
				if o.context != w {
					t.Errorf("%s chose %+v, want %q", cmd, o, w)
				}
			}
		})
	}
}
