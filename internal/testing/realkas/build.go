package realkas

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

// SourcesEnv names the environment variable that may name another
// directory with the two source archives below; by default they are the
// ones in testdata/sources. See the README.
const SourcesEnv = "KUBECTL_GITLAB_AGENT_SOURCES"

// archive is an upstream source snapshot, pinned by its hash.
type archive struct {
	file   string
	sha256 string
	dir    string // the top directory it unpacks into
}

var (
	// gitlabAgent is gitlab-org/cluster-integration/gitlab-agent at commit
	// 8daa08cc06d84365f1de966815952793bef37247 (KAS and agentk 16.5).
	gitlabAgent = archive{"gitlab-agent-8daa08cc.tar.gz", "5b37f252bfdaed64544c6c2b4559f6499b05996df978ca79dbf3e6d8802509e4", "gitlab-agent"}
	// cliUtils is sigs.k8s.io/cli-utils at the pseudo-version gitlab-agent's
	// go.mod requires, which the module proxy does not serve.
	cliUtils = archive{"cli-utils-0b156cb0.tar.gz", "65303129f684f4f89dd30e78a1a87cab15cdac08adf26ba93798bf68cc677164", "cli-utils"}
)

const (
	// buildRecipe is part of the cache key: change it whenever the way the
	// binaries are built changes (the testdata files count by themselves).
	buildRecipe = "realkas v1 GOFLAGS=-mod=mod CGO_ENABLED=0 -trimpath " + buildLDFlags

	// buildLDFlags stamps the version that KAS puts in its Via header and
	// agentk in its User-Agent, as a release build would.
	buildLDFlags = "-s -w" +
		" -X gitlab.com/gitlab-org/cluster-integration/gitlab-agent/v16/cmd.Version=" + Version +
		" -X gitlab.com/gitlab-org/cluster-integration/gitlab-agent/v16/cmd.Commit=8daa08cc"

	// Version is the release of KAS and agentk that the archive holds.
	Version = "v16.5.0"

	// reportModule is the one module gitlab-agent needs that the proxy
	// refuses; only agentk's starboard_vulnerability module imports it.
	reportModule = "gitlab.com/gitlab-org/security-products/analyzers/report/v3"
)

// The requires that only reportModule needed; left in go.mod they would
// make the go command fetch them.
var reportOnlyRequires = []string{
	"gitlab.com/gitlab-org/security-products/analyzers/common/v2",
	"gitlab.com/gitlab-org/security-products/analyzers/ruleset",
}

// testdata holds what we add to the unpacked tree: the fake Gitaly's main
// package and the stand-in for reportModule. They are ours, not upstream's.
//
//go:embed testdata/fakegitaly/main.go testdata/reportstub/report.go
var testdata embed.FS

// Binaries is where the built programs are.
type Binaries struct {
	KAS        string
	Agentk     string
	FakeGitaly string
}

var binaryNames = []string{"kas", "agentk", "fakegitaly"}

// Build returns kas, agentk and the fake Gitaly, built from the archives in
// $KUBECTL_GITLAB_AGENT_SOURCES once and then taken from the cache, keyed
// by the archives' hashes and the recipe. A missing archive, a wrong hash or
// a failed build fails the test: it never skips.
func Build(t testing.TB) Binaries {
	t.Helper()
	bins, err := build(t)
	if err != nil {
		t.Fatalf("realkas: %v", err)
	}
	return bins
}

func build(t testing.TB) (Binaries, error) {
	t.Helper()
	sources, err := sourcesDir()
	if err != nil {
		return Binaries{}, err
	}
	key := sha256.New()
	key.Write([]byte(buildRecipe))
	for _, a := range []archive{gitlabAgent, cliUtils} {
		if err := a.verify(sources); err != nil {
			return Binaries{}, err
		}
		key.Write([]byte(a.sha256))
	}
	for _, name := range []string{"testdata/fakegitaly/main.go", "testdata/reportstub/report.go"} {
		data, err := testdata.ReadFile(name)
		if err != nil {
			return Binaries{}, err
		}
		fmt.Fprintf(key, "%s %d\n", name, len(data))
		key.Write(data)
	}
	name := "realkas-" + hex.EncodeToString(key.Sum(nil))[:16]
	dir, err := testprocess.Cached(t, "kas, agentk and fakegitaly", name, binaryNames, func(out string) error {
		return buildInto(sources, out)
	})
	if err != nil {
		return Binaries{}, err
	}
	return Binaries{KAS: filepath.Join(dir, "kas"), Agentk: filepath.Join(dir, "agentk"), FakeGitaly: filepath.Join(dir, "fakegitaly")}, nil
}

// sourcesDir is $KUBECTL_GITLAB_AGENT_SOURCES when set, else the
// archives kept in this package's testdata (found from this file's path,
// since tests of other packages call Build from their own directories).
func sourcesDir() (string, error) {
	if dir := os.Getenv(SourcesEnv); dir != "" {
		return filepath.Abs(dir)
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot find the realkas package's directory: set %s to the directory that holds %s and %s",
			SourcesEnv, gitlabAgent.file, cliUtils.file)
	}
	return filepath.Join(filepath.Dir(self), "testdata", "sources"), nil
}

// verify checks that the archive is in dir and is the pinned snapshot.
func (a archive) verify(dir string) error {
	f, err := os.Open(filepath.Join(dir, a.file))
	if err != nil {
		return fmt.Errorf("the %s archive: %w (%s names the directory that holds it)", a.dir, err, SourcesEnv)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.sha256 {
		return fmt.Errorf("%s has sha256 %s, want %s: not the pinned snapshot", f.Name(), got, a.sha256)
	}
	return nil
}

// buildInto unpacks both archives into a scratch directory, adds our files,
// points go.mod at them and builds the three programs into out. The scratch
// directory is in out, so that a build killed with the test is cleaned up
// by the next.
func buildInto(sources, out string) error {
	work := filepath.Join(out, "src")
	defer os.RemoveAll(work)
	for _, a := range []archive{gitlabAgent, cliUtils} {
		if err := unpack(filepath.Join(sources, a.file), work); err != nil {
			return fmt.Errorf("unpacking %s: %w", a.file, err)
		}
	}
	tree := filepath.Join(work, gitlabAgent.dir)
	stub := filepath.Join(work, "reportstub")
	for dst, src := range map[string]string{
		filepath.Join(tree, "cmd", "fakegitaly", "main.go"): "testdata/fakegitaly/main.go",
		filepath.Join(stub, "report.go"):                    "testdata/reportstub/report.go",
	} {
		data, err := testdata.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(stub, "go.mod"), []byte("module "+reportModule+"\n\ngo 1.20\n"), 0o644); err != nil {
		return err
	}

	edit := []string{"mod", "edit",
		"-replace=sigs.k8s.io/cli-utils=../" + cliUtils.dir,
		"-replace=" + reportModule + "=../reportstub"}
	for _, m := range reportOnlyRequires {
		edit = append(edit, "-droprequire="+m)
	}
	if err := goCommand(tree, edit...); err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-ldflags=" + buildLDFlags, "-o", out + string(filepath.Separator)}
	for _, name := range binaryNames {
		args = append(args, "./cmd/"+name)
	}
	return goCommand(tree, args...)
}

func goCommand(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	testprocess.KillWithParent(cmd)
	// -mod=mod: the edited go.mod needs no go.sum lines it lacks. GOWORK=off:
	// a go.work around the checkout must not pull this tree in.
	// CGO_ENABLED=0: no C toolchain needed.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// unpack extracts a .tar.gz of directories and regular files into dir,
// refusing any entry that would land outside it.
func unpack(archivePath, dir string) error {
	f, err := os.Open(archivePath)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader { // git archive's commit ID
			continue
		}
		if !filepath.IsLocal(hdr.Name) {
			return fmt.Errorf("entry %q is outside the archive's directory", hdr.Name)
		}
		target := filepath.Join(dir, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644|os.FileMode(hdr.Mode)&0o111)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q: unexpected type %c", hdr.Name, hdr.Typeflag)
		}
	}
}
