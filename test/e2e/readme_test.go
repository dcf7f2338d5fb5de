package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

// readmeBlocks returns the README's fenced code blocks of one language.
func readmeBlocks(t *testing.T, lang string) []string {
	data, err := os.ReadFile(filepath.Join(moduleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

type ciJob struct {
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
}

// TestReadmeCIExamples runs the script lines of every .gitlab-ci.yml
// example in the README, as a job would, against testkas: GitLab's job
// kubeconfig (with a gitlab-deploy context in the way), the job's
// variables, a self-signed KAS whose CA is in KAS_CERTIFICATE.
func TestReadmeCIExamples(t *testing.T) {
	k := kubectls(t)[0]
	jobs := 0
	for _, block := range readmeBlocks(t, "yaml") {
		var doc map[string]ciJob
		if yaml.Unmarshal([]byte(block), &doc) != nil {
			continue
		}
		for name, job := range doc {
			if len(job.Script) == 0 {
				continue // users: examples, jobs that only extend a template
			}
			jobs++
			t.Run(name+"/"+job.Script[0], func(t *testing.T) {
				kas := testkas.Start(t, testkas.Config{
					Agents: []testkas.Agent{
						{ID: 1234, Name: "agent-name", ConfigProjectID: 77, ConfigProjectPath: "path/to/agent/project"},
						{ID: 5678, Name: "other", ConfigProjectID: 78, ConfigProjectPath: "path/to/agent/project"},
					},
					Jobs: []testkas.Job{{Token: jobToken, ID: 4242, ProjectID: 150, AllowedAgents: []int64{1234, 5678}}},
				})
				e := newEnv(t)
				path := e.jobKubeconfig("job-gitlab-deploy.yaml", kas.K8sProxyURL, jobToken)
				rewriteAgents(t, path)
				bin := filepath.Join(e.dir, "bin")
				os.MkdirAll(bin, 0o755)
				os.Symlink(k.Path, filepath.Join(bin, "kubectl"))
				e.vars["PATH"] = bin + string(os.PathListSeparator) + e.vars["PATH"]
				e.vars["CI_JOB_TOKEN"] = jobToken
				e.vars["CI_API_V4_URL"] = kas.URL + "/api/v4"
				e.vars["CI_SERVER_URL"] = kas.URL
				e.vars["KAS_CERTIFICATE"] = kas.CAFile // a File-type CI/CD variable
				if name == ".deploy" {
					e.vars["KUBE_CONTEXT"] = "path/to/agent/project:agent-name" // environment-scoped
				}
				for k, v := range job.Variables {
					e.vars[k] = v
				}
				var all []result
				for _, line := range job.Script {
					r := e.run("/bin/sh", "-ec", line)
					all = append(all, r)
					r.ok(t)
				}
				if !kas.SawBearer("ci:1234:" + jobToken) {
					t.Errorf("the job never reached agent 1234 through KAS")
				}
				noSecret(t, jobToken, all...)
			})
		}
	}
	if jobs < 5 {
		t.Fatalf("found only %d CI examples in the README", jobs)
	}
}

// rewriteAgents renames the testdata agents to the README's placeholders.
func rewriteAgents(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "group/agents:prod", "path/to/agent/project:agent-name")
	text = strings.ReplaceAll(text, "group/agents:review", "path/to/agent/project:other")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeAccessExamples runs the README's access commands on the GitLab
// page's example with the projects typo: lint finds it (exit 1), explain
// says KAS rejects the file (exit 2).
func TestReadmeAccessExamples(t *testing.T) {
	e := newEnv(t)
	typo, err := os.ReadFile(filepath.Join(moduleRoot(), "testdata", "access", "corpus", "gitlabhq", "ci_cd_workflow", "most-specific-wins-project-typo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(e.dir, ".gitlab", "agents", "prod"), 0o755)
	os.WriteFile(filepath.Join(e.dir, ".gitlab", "agents", "prod", "config.yaml"), typo, 0o644)
	bin := filepath.Join(e.dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.Symlink(kubectls(t)[0].Path, filepath.Join(bin, "kubectl"))
	e.vars["PATH"] = bin + string(os.PathListSeparator) + e.vars["PATH"]
	ran := 0
	for _, block := range readmeBlocks(t, "sh") {
		if !strings.Contains(block, "kubectl gitlab access") {
			continue
		}
		var command, expect string
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "# "):
				expect = strings.TrimSuffix(strings.TrimPrefix(line, "# "), " …")
				r := e.run("/bin/sh", "-c", command)
				switch {
				case strings.Contains(command, " lint "):
					r.fails(t) // the example has an error to find
				case strings.Contains(expect, "REJECTED"):
					if r.code != 2 {
						t.Errorf("%s: exit %d, want 2 for a file KAS rejects:\n%s", command, r.code, r)
					}
				default:
					r.ok(t)
					expect = ""
				}
				if !strings.Contains(r.stdout, expect) {
					t.Errorf("%s: output lacks %q:\n%s", command, expect, r)
				}
				ran++
				command = ""
			case strings.HasSuffix(line, "\\"):
				command += strings.TrimSuffix(line, "\\")
			default:
				command += line
			}
		}
	}
	if ran != 3 {
		t.Fatalf("ran %d access examples, want 3", ran)
	}
}

// TestReadmePathTableCoversEveryDirectory: every directory of the
// repository is in the README's path table (or below a row of it), so a
// newcomer finds the room for each thing.
func TestReadmePathTableCoversEveryDirectory(t *testing.T) {
	root := moduleRoot()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	table := string(data)[strings.Index(string(data), "| path | what |"):]
	var rows []string // paths and globs, without trailing slashes
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		cell := strings.SplitN(line, "|", 3)[1]
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
			rows = append(rows, strings.TrimSuffix(m[1], "/"))
		}
	}
	covered := func(dir string) bool {
		for _, r := range rows {
			// A row names the directory, one above it, or a file in it.
			if r == dir || strings.HasPrefix(dir, r+"/") || filepath.Dir(r) == dir {
				return true
			}
			// pkg/*/testdata covers pkg/x/testdata/fuzz/…
			if strings.Contains(r, "*") {
				parts := strings.Split(dir, "/")
				for i := range parts {
					if ok, _ := filepath.Match(r, strings.Join(parts[:i+1], "/")); ok {
						return true
					}
				}
			}
		}
		return false
	}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == root {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "bin" || rel == "dist" || (strings.HasPrefix(d.Name(), ".") && rel != ".ci") {
			return filepath.SkipDir
		}
		entries, _ := os.ReadDir(path)
		holdsFiles := slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return !e.IsDir() })
		if holdsFiles && !covered(rel) {
			t.Errorf("README's path table has no row for %s/", rel)
		}
		return nil
	})
}
