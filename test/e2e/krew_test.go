package e2e

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	// releaseVersion and previousVersion are the two releases the tests
	// make; the upgrade goes from the previous to the release.
	releaseVersion  = "v0.2.0"
	previousVersion = "v0.1.0"

	// releaseDownloads is where the manifest's archives live by default.
	releaseDownloads = "https://gitlab.com/kubectl-gitlab/kubectl-gitlab/-/releases/" + releaseVersion + "/downloads/"
)

// releasePlatforms are the platforms `make dist` must produce, os/arch.
var releasePlatforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

// hostPlatform is the platform whose archive krew installs here.
var hostPlatform = runtime.GOOS + "/" + runtime.GOARCH

// TestKrewRelease: the release that `make dist` makes (hack/dist) holds an
// archive per platform with the right content and sums, a manifest that
// krew's own validator accepts, and installs offline with real krew, after
// which `kubectl gitlab` runs the stamped version.
func TestKrewRelease(t *testing.T) {
	tools := buildKrewTools(t)
	k := kubectls(t)[0]
	dir := runDist(t, releaseVersion, "")
	manifestPath := filepath.Join(dir, "plugin.yaml")
	m := readManifest(t, manifestPath)

	t.Run("ArchivesChecksumsAndManifest", func(t *testing.T) {
		sums := readChecksums(t, filepath.Join(dir, "checksums.txt"))
		var want []string
		for _, p := range releasePlatforms {
			want = append(want, archiveName(releaseVersion, p))
		}
		if got := slices.Sorted(maps.Keys(sums)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Fatalf("checksums.txt lists %v, want %v", got, want)
		}
		checkManifest(t, m, releaseVersion, releaseDownloads)
		for i, p := range m.Spec.Platforms {
			platform := releasePlatforms[i]
			archive := archiveName(releaseVersion, platform)
			bin := binaryName(platform)
			actual := fileSHA256(t, filepath.Join(dir, archive))
			if p.SHA256 != actual || sums[archive] != actual {
				t.Errorf("%s: manifest sha256 %s, checksums.txt %s, archive %s", archive, p.SHA256, sums[archive], actual)
			}
			if got, want := archiveEntries(t, filepath.Join(dir, archive)), []string{"LICENSE", "README.md", bin}; !slices.Equal(got, want) {
				t.Errorf("%s holds %v, want %v", archive, got, want)
			}
		}
	})

	t.Run("KrewValidation", func(t *testing.T) {
		// The validator takes the plugin's name from the file's name, as
		// krew-index stores it: plugins/gitlab.yaml.
		indexed := filepath.Join(t.TempDir(), "gitlab.yaml")
		copyFile(t, manifestPath, indexed)
		e := newEnv(t)
		// -skip-install: the full run downloads the release URLs; the next
		// subtest runs it against a loopback copy.
		r := e.run(tools.Validator, "-manifest", indexed, "-skip-install").ok(t)
		for _, want := range []string{"structural validation OK", "all spec.platform[] items are used", "no overlapping spec.platform[].selector"} {
			if !strings.Contains(r.stderr, want) {
				t.Fatalf("validate-krew-manifest did not say %q:\n%s", want, r)
			}
		}
		t.Logf("validate-krew-manifest:\n%s", r.stderr)
	})

	t.Run("KrewValidationInstallsEveryPlatform", func(t *testing.T) {
		// The validator's full run installs every platform's archive (with
		// KREW_OS and KREW_ARCH) and checks that a LICENSE lands, as
		// krew-index's CI does. It downloads, so it gets the same release
		// rendered for a loopback server.
		releases := newReleaseServer(t)
		served := runDist(t, releaseVersion, releases.downloadURL(releaseVersion))
		releases.serve(releaseVersion, served)
		indexed := filepath.Join(t.TempDir(), "gitlab.yaml")
		copyFile(t, filepath.Join(served, "plugin.yaml"), indexed)
		e := newKrewEnv(t, tools, k)
		r := e.run(tools.Validator, "-manifest", indexed).ok(t)
		if want := fmt.Sprintf("all %d spec.platforms installed fine", len(releasePlatforms)); !strings.Contains(r.stderr, want) {
			t.Fatalf("validate-krew-manifest did not say %q:\n%s", want, r)
		}
		for _, p := range releasePlatforms {
			if want := "/" + releaseVersion + "/downloads/" + archiveName(releaseVersion, p); !releases.served(want) {
				t.Errorf("the validator never downloaded %s; served %v", want, releases.paths())
			}
		}
		t.Logf("validate-krew-manifest:\n%s", r.stderr)
	})

	t.Run("InstallOffline", func(t *testing.T) {
		e := newKrewEnv(t, tools, k)
		archive := filepath.Join(dir, archiveName(releaseVersion, hostPlatform))
		e.run(k.Path, "krew", "install", "--manifest="+manifestPath, "--archive="+archive).ok(t)
		e.run(k.Path, "plugin", "list").ok(t, filepath.Join(e.krewRoot, "bin", "kubectl-gitlab"))
		e.run(k.Path, "gitlab", "version").ok(t, "kubectl-gitlab "+releaseVersion+" (")
		for _, installed := range []string{"receipts/gitlab.yaml", "store/gitlab/" + releaseVersion + "/LICENSE"} {
			if _, err := os.Stat(filepath.Join(e.krewRoot, filepath.FromSlash(installed))); err != nil {
				t.Errorf("krew did not install %s: %v", installed, err)
			}
		}
	})
}

// TestKrewUpgrade: krew installs the previous release from an index, then
// `kubectl krew upgrade` replaces it with the release, both downloaded from
// a loopback server (krew 0.4.3 upgrades only what an index lists; it skips
// plugins installed with --manifest). A kubeconfig exec entry that names
// kubectl-gitlab, as update-kubeconfig writes it, keeps working across the
// upgrade and runs the new version.
func TestKrewUpgrade(t *testing.T) {
	tools := buildKrewTools(t)
	k := kubectls(t)[0]
	releases := newReleaseServer(t)
	previous := runDist(t, previousVersion, releases.downloadURL(previousVersion), hostPlatform)
	release := runDist(t, releaseVersion, releases.downloadURL(releaseVersion), hostPlatform)
	releases.serve(previousVersion, previous)
	releases.serve(releaseVersion, release)

	kas := jobKAS(t)
	e := newKrewEnv(t, tools, k)
	e.vars["CI_JOB_TOKEN"] = jobToken
	e.execKubeconfig(kas.K8sProxyURL, kas.CAFile, 1234)
	var kubectlRuns []result
	kubectl := func(args ...string) result {
		r := e.run(k.Path, args...)
		kubectlRuns = append(kubectlRuns, r)
		return r
	}
	// works checks the exec entry: the credential the plugin prints by hand,
	// and one that kubectl gets from it and KAS accepts.
	works := func(version string) {
		t.Helper()
		plugin := e.lookPath("kubectl-gitlab")
		if want := filepath.Join(e.krewRoot, "bin", "kubectl-gitlab"); plugin != want {
			t.Fatalf("PATH resolves kubectl-gitlab to %s, want krew's %s", plugin, want)
		}
		e.run(plugin, "version").ok(t, "kubectl-gitlab "+version+" (")
		var cred struct {
			Kind   string `json:"kind"`
			Status struct {
				Token string `json:"token"`
			} `json:"status"`
		}
		r := e.run(plugin, "get-token", "--agent-id", "1234").ok(t)
		if err := json.Unmarshal([]byte(r.stdout), &cred); err != nil || cred.Kind != "ExecCredential" || cred.Status.Token != "ci:1234:"+jobToken {
			t.Fatalf("%s: get-token printed no ExecCredential with ci:1234:<job token> (%v):\n%s", version, err, r)
		}
		kas.Reset()
		kubectl("get", "pods").ok(t, "hello-0")
		if !kas.SawBearer("ci:1234:" + jobToken) {
			t.Fatalf("%s: testkas did not see ci:1234:<job token>; saw %+v", version, kas.Requests())
		}
	}

	e.indexManifest(filepath.Join(previous, "plugin.yaml"))
	kubectl("krew", "install", "gitlab", "--no-update-index").ok(t)
	kubectl("gitlab", "version").ok(t, "kubectl-gitlab "+previousVersion+" (")
	works(previousVersion)

	e.indexManifest(filepath.Join(release, "plugin.yaml"))
	if r := kubectl("krew", "upgrade", "gitlab", "--no-update-index").ok(t); !strings.Contains(r.stderr, "Upgraded plugin: gitlab") {
		t.Fatalf("krew did not upgrade:\n%s", r)
	}
	kubectl("gitlab", "version").ok(t, "kubectl-gitlab "+releaseVersion+" (")
	works(releaseVersion)

	if _, err := os.Stat(filepath.Join(e.krewRoot, "store", "gitlab", previousVersion)); !os.IsNotExist(err) {
		t.Errorf("krew left the previous version installed: %v", err)
	}
	for _, v := range []string{previousVersion, releaseVersion} {
		if want := "/" + v + "/downloads/" + archiveName(v, hostPlatform); !releases.served(want) {
			t.Errorf("krew never downloaded %s; served %v", want, releases.paths())
		}
	}
	noSecret(t, jobToken, kubectlRuns...)
}

// checkManifest checks a release manifest against what hack/dist must
// write for version: krew's header, then for each release platform, in
// order, its selector, the archive's URL under downloads, a sha256, and
// the binary and LICENSE to install.
func checkManifest(t *testing.T, m pluginManifest, version, downloads string) {
	t.Helper()
	if len(m.Spec.Platforms) != len(releasePlatforms) {
		t.Fatalf("the manifest has %d platforms, want %d", len(m.Spec.Platforms), len(releasePlatforms))
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "gitlab" ||
		m.Spec.Version != version || m.Spec.Homepage != "https://gitlab.com/kubectl-gitlab/kubectl-gitlab" ||
		m.Spec.ShortDescription == "" || m.Spec.Description == "" || m.Spec.Caveats == "" {
		t.Errorf("manifest header: %+v", m)
	}
	for i, p := range m.Spec.Platforms {
		platform := releasePlatforms[i]
		archive := archiveName(version, platform)
		bin := binaryName(platform)
		if got := p.Selector.MatchLabels["os"] + "/" + p.Selector.MatchLabels["arch"]; got != platform {
			t.Errorf("platform %d selects %s, want %s", i, got, platform)
		}
		if p.URI != downloads+archive {
			t.Errorf("%s: uri %s, want %s", platform, p.URI, downloads+archive)
		}
		if sum, err := hex.DecodeString(p.SHA256); err != nil || len(sum) != sha256.Size || strings.ToLower(p.SHA256) != p.SHA256 {
			t.Errorf("%s: sha256 %q is not a lowercase hex SHA-256", platform, p.SHA256)
		}
		if p.Bin != bin || !slices.Contains(p.Files, manifestFile{From: bin, To: "."}) || !slices.Contains(p.Files, manifestFile{From: "LICENSE", To: "."}) {
			t.Errorf("%s: bin %q files %+v, want %s and LICENSE", platform, p.Bin, p.Files, bin)
		}
	}
}

// TestCommittedManifest: plugin.yaml at the top of the repository is the
// krew manifest of the latest release, as `make dist VERSION=…` wrote it at
// that release's tag. It is what goes to krew-index, and what
// `kubectl krew install --manifest-url` reads before the index has it:
// krew's validator accepts it, and it names every platform's archive of
// its version on the release page.
func TestCommittedManifest(t *testing.T) {
	tools := buildKrewTools(t)
	committed := filepath.Join(moduleRoot(), "plugin.yaml")
	m := readManifest(t, committed)
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(m.Spec.Version) {
		t.Fatalf("plugin.yaml: spec.version %q is not a release version vX.Y.Z", m.Spec.Version)
	}
	checkManifest(t, m, m.Spec.Version, "https://gitlab.com/kubectl-gitlab/kubectl-gitlab/-/releases/"+m.Spec.Version+"/downloads/")

	indexed := filepath.Join(t.TempDir(), "gitlab.yaml")
	copyFile(t, committed, indexed)
	r := newEnv(t).run(tools.Validator, "-manifest", indexed, "-skip-install").ok(t)
	if !strings.Contains(r.stderr, "structural validation OK") {
		t.Fatalf("validate-krew-manifest did not say %q:\n%s", "structural validation OK", r)
	}
}

// runDist runs hack/dist, the tool behind `make dist`, into a new directory
// and returns it. No platforms: all of the release's.
func runDist(t *testing.T, version, downloadURL string, platforms ...string) string {
	t.Helper()
	out := t.TempDir()
	args := []string{"run", "./hack/dist", "-version", version, "-out", out}
	if downloadURL != "" {
		args = append(args, "-download-url", downloadURL)
	}
	if len(platforms) > 0 {
		args = append(args, "-platforms", strings.Join(platforms, ","))
	}
	// Cold, cross-compiling for six platforms takes minutes; warm, seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot()
	began := time.Now()
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, output)
	}
	t.Logf("hack/dist %s %v: %v", version, platforms, time.Since(began).Round(100*time.Millisecond))
	return out
}

// binaryName is the plugin's file name in the archive of platform (os/arch).
func binaryName(platform string) string {
	if strings.HasPrefix(platform, "windows/") {
		return "kubectl-gitlab.exe"
	}
	return "kubectl-gitlab"
}

func archiveName(version, platform string) string {
	goos, arch, _ := strings.Cut(platform, "/")
	ext := ".tar.gz"
	if goos == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("kubectl-gitlab_%s_%s_%s%s", version, goos, arch, ext)
}

// krewEnv is an env whose PATH holds krew's bin directory, kubectl and
// kubectl-krew, and nothing else: the plugin can only come from krew.
type krewEnv struct {
	*env
	krewRoot string
}

func newKrewEnv(t *testing.T, tools krewTools, k kubectl) *krewEnv {
	e := newEnv(t)
	krewRoot := filepath.Join(e.dir, "krew")
	tooling := filepath.Join(e.dir, "tooling")
	if err := os.MkdirAll(tooling, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"kubectl": k.Path, "kubectl-krew": tools.Krew} {
		if err := os.Symlink(target, filepath.Join(tooling, name)); err != nil {
			t.Fatal(err)
		}
	}
	e.vars["PATH"] = filepath.Join(krewRoot, "bin") + string(os.PathListSeparator) + tooling
	e.vars["KREW_ROOT"] = krewRoot
	e.vars["KREW_NO_UPGRADE_CHECK"] = "1" // never ask GitHub for a newer krew
	return &krewEnv{env: e, krewRoot: krewRoot}
}

// indexManifest puts a manifest into krew's default index, as
// `kubectl krew update` would after the manifest merged into krew-index.
func (e *krewEnv) indexManifest(manifest string) {
	e.t.Helper()
	plugins := filepath.Join(e.krewRoot, "index", "default", "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		e.t.Fatal(err)
	}
	copyFile(e.t, manifest, filepath.Join(plugins, "gitlab.yaml"))
}

// lookPath resolves a program through the env's PATH, as kubectl resolves
// an exec entry's command.
func (e *krewEnv) lookPath(name string) string {
	e.t.Helper()
	for _, dir := range filepath.SplitList(e.vars["PATH"]) {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return path
		}
	}
	e.t.Fatalf("%s is not on PATH %s", name, e.vars["PATH"])
	return ""
}

// execKubeconfig writes a kubeconfig whose only user gets its credential
// from `kubectl-gitlab get-token`, the command resolved through PATH.
func (e *krewEnv) execKubeconfig(k8sProxyURL, caFile string, agentID int) {
	e.t.Helper()
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: gitlab
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: agent:%[3]d
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubectl-gitlab
      args: [get-token, --agent-id=%[3]d]
      interactiveMode: Never
contexts:
- name: group/agents:prod
  context:
    cluster: gitlab
    user: agent:%[3]d
current-context: group/agents:prod
`, strings.TrimSuffix(k8sProxyURL, "/"), caFile, agentID)
	path := filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.vars["KUBECONFIG"] = path
}

// releaseServer stands in for GitLab's release downloads on loopback:
// /<version>/downloads/<archive>.
type releaseServer struct {
	*httptest.Server
	mu   sync.Mutex
	dirs map[string]string
	seen []string
}

func newReleaseServer(t *testing.T) *releaseServer {
	s := &releaseServer{dirs: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *releaseServer) downloadURL(version string) string {
	return s.URL + "/" + version + "/downloads"
}

func (s *releaseServer) serve(version, dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs[version] = dir
}

func (s *releaseServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.URL.Path)
	version, file, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/downloads/")
	dir := s.dirs[version]
	s.mu.Unlock()
	if dir == "" || file == "" || strings.Contains(file, "/") {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, filepath.Join(dir, file))
}

func (s *releaseServer) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func (s *releaseServer) served(path string) bool { return slices.Contains(s.paths(), path) }

// pluginManifest is the part of a krew manifest the tests check.
type pluginManifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Version          string `yaml:"version"`
		Homepage         string `yaml:"homepage"`
		ShortDescription string `yaml:"shortDescription"`
		Description      string `yaml:"description"`
		Caveats          string `yaml:"caveats"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			URI    string         `yaml:"uri"`
			SHA256 string         `yaml:"sha256"`
			Bin    string         `yaml:"bin"`
			Files  []manifestFile `yaml:"files"`
		} `yaml:"platforms"`
	} `yaml:"spec"`
}

type manifestFile struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

func readManifest(t *testing.T, path string) pluginManifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m pluginManifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// readChecksums reads sha256sum lines, insisting on lowercase hex.
func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || sum != strings.ToLower(sum) {
			t.Fatalf("%s: bad line %q", path, line)
		}
		sums[name] = sum
	}
	return sums
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// archiveEntries lists a .tar.gz or .zip, in archive order.
func archiveEntries(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	if strings.HasSuffix(path, ".zip") {
		r, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, f := range r.File {
			names = append(names, f.Name)
		}
		return names
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		names = append(names, hdr.Name)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
