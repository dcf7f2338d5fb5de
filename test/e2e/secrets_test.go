package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/hostile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const (
	sweepPAT        = "glpat-sweepGoodSecret"
	sweepRevokedPAT = "glpat-sweepRevokedSecret"
	sweepNoScopePAT = "glpat-sweepNoScopeSecret"
	sweepWrongPAT   = "glpat-sweepWrongSecret"
	sweepWrongJob   = "glcbt-64_sweepWrongJobToken"
	sweepURLUser    = "glpat-sweepURLUserinfo"
	sweepURLQuery   = "glpat-sweepURLQuery"
	sweepHostilePAT = "glpat-sweepHostileSecret"
)

// TestNoSecretAnywhere runs every command in its success and failure modes
// (bad token, 401, 403, TLS failure, malformed input, URLs that carry
// credentials, servers that redirect elsewhere, names and messages with
// control characters) and checks that neither the job token nor a personal
// access token appears in stdout (except get-token's credential), stderr,
// or any file under HOME and TMPDIR but the token store itself; that no
// redirect target saw a request; and that no control character reached a
// terminal.
func TestNoSecretAnywhere(t *testing.T) {
	secrets := []string{jobToken, sweepPAT, sweepRevokedPAT, sweepNoScopePAT, sweepWrongPAT, sweepWrongJob, sweepURLUser, sweepURLQuery, sweepHostilePAT}
	kas := testkas.Start(t, testkas.Config{
		Agents: []testkas.Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", AccessAs: testkas.AccessAs{CIJob: true}},
			{ID: 5678, Name: "staging", ConfigProjectID: 78, ConfigProjectPath: "group/sub/infra"},
		},
		Jobs: []testkas.Job{{Token: jobToken, ID: 4242, PipelineID: 7, ProjectID: 150, ProjectPath: "group/app", GroupIDs: []int64{23},
			Username: "alice", AllowedAgents: []int64{1234}}},
		PATs: []testkas.PAT{
			{Token: sweepPAT, ID: 1, Name: "laptop", Username: "alice", Scopes: []string{"k8s_proxy", "read_api"}, ExpiresAt: "2099-01-01", Agents: []int64{1234}},
			{Token: sweepRevokedPAT, ID: 2, Name: "old", Scopes: []string{"k8s_proxy"}, Revoked: true},
			{Token: sweepNoScopePAT, ID: 3, Name: "api", Scopes: []string{"read_api"}},
		},
	})
	e := newEnv(t)
	tmp := filepath.Join(e.dir, "tmp")
	os.MkdirAll(tmp, 0o700)
	e.vars["TMPDIR"] = tmp
	e.noBus()
	jobDir := filepath.Join(e.dir, "job") // written by GitLab, outside the sweep
	os.MkdirAll(jobDir, 0o700)
	jobConfig := e.jobKubeconfig("job-agents.yaml", kas.K8sProxyURL, jobToken)
	os.Rename(jobConfig, filepath.Join(jobDir, "kubeconfig"))
	jobConfig = filepath.Join(jobDir, "kubeconfig")
	plugin := filepath.Join(pluginDir, "kubectl-gitlab")
	k := kubectls(t)[0]

	var results []result
	run := func(vars map[string]string, stdin string, args ...string) result {
		t.Helper()
		c := exec.Command(plugin, args...)
		env := map[string]string{}
		for key, v := range e.vars {
			env[key] = v
		}
		for key, v := range vars {
			if v == "" {
				delete(env, key)
			} else {
				env[key] = v
			}
		}
		for key, v := range env {
			c.Env = append(c.Env, key+"="+v)
		}
		c.Stdin = strings.NewReader(stdin)
		var out, errOut strings.Builder
		c.Stdout, c.Stderr = &out, &errOut
		err := c.Run()
		r := result{cmd: "kubectl-gitlab " + strings.Join(args, " "), stdout: out.String(), stderr: errOut.String()}
		if x, ok := err.(*exec.ExitError); ok {
			r.code = x.ExitCode()
		}
		results = append(results, r)
		return r
	}
	job := map[string]string{"KUBECONFIG": jobConfig, "CI_JOB_TOKEN": jobToken, "CI_API_V4_URL": kas.URL + "/api/v4"}
	with := func(base map[string]string, extra ...string) map[string]string {
		m := map[string]string{}
		for key, v := range base {
			m[key] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	trusted := with(job, "KAS_CERTIFICATE", kas.CAFile)

	// A CI job, with GitLab's kubeconfig.
	run(job, "", "version")
	for _, o := range []string{"", "wide", "name", "json", "yaml"} {
		run(job, "", "get-contexts", "--all", "-o", o)
	}
	run(job, "", "current-context")                                                          // none set: error
	run(job, "", "use-context", "nope")                                                      // unknown: error
	run(job, "", "use-context", "prod", "--certificate-authority", filepath.Join(tmp, "no")) // bad CA: error
	run(job, "", "whoami", "--context", "group/agents:prod")                                 // untrusted KAS: TLS error
	run(job, "", "doctor", "--context", "group/agents:prod")                                 // TLS failure named
	run(trusted, "", "use-context", "prod").ok(t)
	run(job, "", "current-context", "-o", "json")
	run(job, "", "whoami").ok(t, "gitlab:ci_job:4242")
	run(job, "", "doctor", "-o", "json")
	run(job, "", "whoami", "--context", "group/sub/infra:staging")                       // KAS 403: agent not allowed
	run(with(job, "CI_JOB_TOKEN", sweepWrongJob), "", "doctor")                          // the kubeconfig's token is GitLab's; the env one is wrong
	run(with(job, "CI_JOB_TOKEN", sweepWrongJob), "", "update-kubeconfig")               // 401
	run(with(job, "SSL_CERT_FILE", filepath.Join(tmp, "none")), "", "update-kubeconfig") // TLS failure
	run(trusted, "", "get-token", "--agent-id", "1234").ok(t, "ci:1234:")
	run(job, "", "get-token", "--agent-id", "abc")
	run(with(job, "KUBERNETES_EXEC_INFO", `{"apiVersion":"client.authentication.k8s.io/v1alpha1"}`), "", "get-token", "--agent-id", "1234")
	run(trusted, "", "update-kubeconfig").ok(t)
	if data, _ := os.ReadFile(jobConfig); strings.Contains(string(data), jobToken) {
		t.Errorf("update-kubeconfig left the job token in the kubeconfig it wrote")
	}
	run(job, "", "whoami").ok(t, "gitlab:ci_job:4242")          // now through the exec entry
	run(with(job, "CI_JOB_TOKEN", sweepWrongJob), "", "whoami") // KAS 401 through the exec entry
	run(with(job, "CI_JOB_TOKEN", ""), "", "whoami")            // no token: get-token's hint
	malformed := filepath.Join(jobDir, "malformed")
	os.WriteFile(malformed, []byte("users:\n- name: u\n  user:\n    token: ci:1:"+jobToken+"\n  bad indent: [\n"), 0o600)
	run(with(job, "KUBECONFIG", malformed), "", "get-contexts")
	os.WriteFile(malformed, []byte("users:\n- name: u\n  user:\n    token:\n      t: ci:1:"+jobToken+"\n"), 0o600)
	run(with(job, "KUBECONFIG", malformed), "", "use-context", "x")
	run(job, "", "__complete", "use-context", "")
	run(job, "", "completion", "bash")

	// A workstation.
	ws := map[string]string{"SSL_CERT_FILE": kas.CAFile, "KUBECONFIG": ""}
	run(ws, sweepWrongPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin")
	run(ws, sweepRevokedPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin")
	run(ws, sweepNoScopePAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin")
	run(ws, sweepPAT+"\n", "login", "--gitlab-url", kas.URL, "--token-stdin").ok(t)
	run(ws, "", "login", "--status")
	run(ws, "", "login", "--status", "-o", "json")
	run(ws, "", "update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--use-context", "agent-1234").ok(t)
	run(ws, "", "get-token", "--agent-id", "1234").ok(t, "pat:1234:")
	run(ws, "", "whoami")
	run(ws, "", "doctor")
	run(with(ws, "GITLAB_TOKEN", sweepWrongPAT), "", "update-kubeconfig", "--gitlab-url", kas.URL, "--project", "group/agents")
	run(ws, "", "logout").ok(t)
	run(ws, "", "get-token", "--agent-id", "1234")

	// A cluster server URL that carries credentials, and flags that do.
	writeJobFile := func(name, testdata, server string) string {
		data, err := os.ReadFile(filepath.Join(moduleRoot(), "testdata", "kubeconfig", testdata))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "https://kas.gitlab.example/k8s-proxy", server)
		path := filepath.Join(jobDir, name)
		os.WriteFile(path, []byte(strings.ReplaceAll(text, "JOBTOKEN", jobToken)), 0o600)
		return path
	}
	credServer := strings.Replace(strings.TrimSuffix(kas.K8sProxyURL, "/"), "https://", "https://alice:"+sweepURLUser+"@", 1) + "?private_token=" + sweepURLQuery
	cred := with(job, "KUBECONFIG", writeJobFile("cred-url", "job-agents.yaml", credServer), "SSL_CERT_FILE", kas.CAFile)
	run(cred, "", "get-contexts", "-o", "wide").ok(t, "https://REDACTED@", "private_token=REDACTED")
	run(cred, "", "get-contexts", "-o", "json")
	run(cred, "", "get-contexts", "-o", "yaml")
	run(cred, "", "use-context", "prod").ok(t)
	run(cred, "", "current-context", "-o", "json").ok(t, "REDACTED@")
	run(cred, "", "whoami").ok(t, "gitlab:ci_job:4242")
	run(cred, "", "whoami", "-o", "json").ok(t, "REDACTED@")
	run(cred, "", "doctor")
	run(cred, "", "doctor", "-o", "json")
	run(ws, "glpat-x\n", "login", "--gitlab-url", "https://gitlab.example.com/?private_token="+sweepURLQuery, "--token-stdin").fails(t, "private_token=REDACTED")
	run(ws, "", "update-kubeconfig", "--gitlab-url", kas.URL, "--agent", "1234", "--kas-url", "https://u:"+sweepURLUser+"@kas.example/k8s-proxy/").fails(t, "REDACTED@")
	run(ws, "", "get-token", "--agent-id", "1234", "--gitlab-url", "https://u:"+sweepURLUser+"@gitlab.example.com").fails(t)

	// Servers that redirect elsewhere: to another host, to plain http on the
	// same port, to another port.
	hs := hostile.Start(t)
	hs.Answer("GET", "/landed", 200, `{"id":9,"name":"laptop","active":true,"scopes":["k8s_proxy"],"expires_at":"2099-01-01","allowed_agents":[]}`)
	hs.Answer("POST", "/landed", 201, `{"status":{"userInfo":{"username":"attacker"}}}`)
	hs.Redirect("GET", "/api/v4/personal_access_tokens/self", 302, hostile.OtherHost, "/landed")
	hs.Redirect("GET", "/api/v4/job/allowed_agents", 307, hostile.OriginHTTP, "/landed")
	hs.Redirect("POST", "/k8s-proxy/apis/authentication.k8s.io/v1/selfsubjectreviews", 303, hostile.OtherPort, "/landed")
	hostileWS := with(ws, "SSL_CERT_FILE", hs.CAFile)
	run(hostileWS, sweepHostilePAT+"\n", "login", "--gitlab-url", hs.URL, "--token-stdin").fails(t, "302 Found", "not followed")
	run(with(job, "CI_API_V4_URL", hs.URL+"/api/v4", "SSL_CERT_FILE", hs.CAFile, "KUBECONFIG", filepath.Join(tmp, "redirected")), "", "update-kubeconfig").fails(t, "307 Temporary Redirect", "not followed")
	hostileKAS := with(job, "KUBECONFIG", writeJobFile("hostile-kas", "job-agents.yaml", hs.URL+"/k8s-proxy"), "SSL_CERT_FILE", hs.CAFile)
	run(hostileKAS, "", "use-context", "prod").ok(t)
	run(hostileKAS, "", "whoami").fails(t, "303 See Other", "not followed")
	for _, r := range hs.Requests() {
		if r.Listener != hostile.Origin {
			t.Errorf("a redirect was followed: %s saw %s %s", r.Listener, r.Method, r.Path)
		}
	}

	// Names, a namespace and a server's message with control characters.
	names := with(job, "KUBECONFIG", writeJobFile("names", "hostile/names.yaml", kas.K8sProxyURL), "SSL_CERT_FILE", kas.CAFile)
	run(names, "", "get-contexts", "-o", "wide")
	run(names, "", "get-contexts", "-o", "name")
	run(names, "", "current-context")
	run(names, "", "whoami").ok(t, "gitlab:ci_job:4242")
	run(names, "", "doctor")
	hs.Answer("GET", "/k8s-proxy/version", 403, `{"kind":"Status","message":"forbidden\u001b]0;owned\u0007\u001b[2J\r"}`)
	run(hostileKAS, "", "doctor").fails(t, "doctor: failed")

	// Through real kubectl too: kubectl shows get-token's stderr.
	e.vars["KUBECONFIG"] = jobConfig
	e.vars["CI_JOB_TOKEN"] = sweepWrongJob
	kubectlRun := e.run(k.Path, "get", "pods")
	results = append(results, kubectlRun)

	for _, r := range results {
		getToken := strings.HasPrefix(r.cmd, "kubectl-gitlab get-token")
		for _, s := range secrets {
			if strings.Contains(r.stderr, s) || (!getToken && strings.Contains(r.stdout, s)) {
				t.Errorf("a secret (%s…) reached the output of %s:\n%s", s[:10], r.cmd, r)
			}
		}
		// What the plugin prints for people; not kubectl's own output, nor
		// what programs read (the credential, the completion script).
		if r.cmd == kubectlRun.cmd {
			continue
		}
		machine := getToken || strings.HasPrefix(r.cmd, "kubectl-gitlab completion")
		if strings.ContainsAny(r.stderr, "\x1b\x07\r\u009b") || (!machine && strings.ContainsAny(r.stdout, "\x1b\x07\r\u009b")) {
			t.Errorf("a control character reached the terminal from %s:\n%q\n%q", r.cmd, r.stdout, r.stderr)
		}
	}
	store := filepath.Join(e.vars["HOME"], ".config", "kubectl-gitlab", "tokens.json")
	for _, dir := range []string{e.vars["HOME"], tmp} {
		for _, s := range secrets {
			for _, f := range filesContaining(dir, s) {
				if f != store {
					t.Errorf("%s holds a secret (%s…)", f, s[:10])
				}
			}
		}
	}
	// The sweep can see: the malformed kubeconfig we wrote outside it
	// holds the token, and is found.
	if len(filesContaining(jobDir, jobToken)) == 0 {
		t.Fatal("the file sweep cannot find a secret it should")
	}
	t.Logf("%d command runs swept", len(results))
}
