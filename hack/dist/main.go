// Command dist builds the release artifacts of kubectl-gitlab into one
// directory (dist/ by default):
//
//	kubectl-gitlab_<version>_<os>_<arch>.tar.gz   (.zip for windows)
//	checksums.txt                                 sha256sum format
//	plugin.yaml                                   the krew manifest
//
// Each archive holds the binary (kubectl-gitlab, kubectl-gitlab.exe on
// Windows), LICENSE and README.md. The krew manifest is rendered from
// krew/plugin.yaml.tmpl with each archive's download URL and sha256. Run it
// from the repository root, usually as `make dist VERSION=vX.Y.Z`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	pkgPath = "gitlab.com/kubectl-gitlab/kubectl-gitlab"
	mainPkg = "./cmd/kubectl-gitlab"

	// releasesURL is where GitLab serves a release's assets: an asset link
	// whose filepath is /<archive> is downloadable at
	// <releasesURL>/<tag>/downloads/<archive>.
	releasesURL = "https://gitlab.com/kubectl-gitlab/kubectl-gitlab/-/releases"

	manifestTemplate = "krew/plugin.yaml.tmpl"
)

// allPlatforms are the release's platforms, in the order the manifest lists them.
var allPlatforms = []platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// docFiles go into every archive beside the binary; krew refuses a plugin
// whose installation holds no LICENSE.
var docFiles = []string{"LICENSE", "README.md"}

// semverTag is what krew accepts as spec.version: v, then semantic versioning.
var semverTag = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

type platform struct{ OS, Arch string }

func (p platform) String() string { return p.OS + "/" + p.Arch }

func (p platform) binary() string {
	if p.OS == "windows" {
		return "kubectl-gitlab.exe"
	}
	return "kubectl-gitlab"
}

func (p platform) archive(version string) string {
	ext := ".tar.gz"
	if p.OS == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("kubectl-gitlab_%s_%s_%s%s", version, p.OS, p.Arch, ext)
}

type options struct {
	version     string
	commit      string
	outDir      string
	downloadURL string
	platforms   []platform
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	var platforms string
	fs := flag.NewFlagSet("dist", flag.ContinueOnError)
	fs.StringVar(&o.version, "version", "", "the release version, vX.Y.Z (required)")
	fs.StringVar(&o.commit, "commit", "", "the git commit to stamp into the binaries")
	fs.StringVar(&o.outDir, "out", "dist", "the output directory")
	fs.StringVar(&o.downloadURL, "download-url", "", "the URL the archives are downloaded from (default "+releasesURL+"/<version>/downloads)")
	fs.StringVar(&platforms, "platforms", "", "comma-separated os/arch list (default: all six release platforms)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if !semverTag.MatchString(o.version) {
		return o, fmt.Errorf("-version %q: a release needs a semantic version with a v prefix, e.g. make dist VERSION=v1.2.3 (krew rejects anything else)", o.version)
	}
	if o.downloadURL == "" {
		o.downloadURL = releasesURL + "/" + o.version + "/downloads"
	}
	o.downloadURL = strings.TrimSuffix(o.downloadURL, "/")
	var err error
	o.platforms, err = parsePlatforms(platforms)
	return o, err
}

func parsePlatforms(list string) ([]platform, error) {
	if list == "" {
		return allPlatforms, nil
	}
	var selected []platform
	for _, name := range strings.Split(list, ",") {
		known := false
		for _, p := range allPlatforms {
			if p.String() == strings.TrimSpace(name) {
				selected, known = append(selected, p), true
			}
		}
		if !known {
			return nil, fmt.Errorf("-platforms: %q is not a release platform (%v)", name, allPlatforms)
		}
	}
	return selected, nil
}

func run(o options) error {
	for _, f := range append([]string{"go.mod", manifestTemplate}, docFiles...) {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("run from the repository root: %w", err)
		}
	}
	mtime, err := archiveTime()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	if err := removeOldArtifacts(o.outDir); err != nil {
		return err
	}
	buildDir, err := os.MkdirTemp("", "kubectl-gitlab-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(buildDir)

	var artifacts []artifact
	for _, p := range o.platforms {
		bin := filepath.Join(buildDir, p.OS+"_"+p.Arch, p.binary())
		if err := build(p, bin, o.version, o.commit); err != nil {
			return err
		}
		name := p.archive(o.version)
		path := filepath.Join(o.outDir, name)
		entries := []archiveEntry{{Name: p.binary(), Path: bin, Mode: 0o755}}
		for _, f := range docFiles {
			entries = append(entries, archiveEntry{Name: f, Path: f, Mode: 0o644})
		}
		if err := writeArchive(path, entries, mtime); err != nil {
			return fmt.Errorf("packing %s: %w", name, err)
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return err
		}
		artifacts = append(artifacts, artifact{platform: p, Name: name, SHA256: sum})
		fmt.Println(path)
	}

	checksums := filepath.Join(o.outDir, "checksums.txt")
	if err := writeChecksums(checksums, artifacts); err != nil {
		return err
	}
	fmt.Println(checksums)
	manifest := filepath.Join(o.outDir, "plugin.yaml")
	if err := writeManifest(manifest, manifestTemplate, o.version, o.downloadURL, artifacts); err != nil {
		return err
	}
	fmt.Println(manifest)
	return nil
}

// artifact is one packed archive.
type artifact struct {
	platform
	Name   string
	SHA256 string // lowercase hex
}

func build(p platform, out, version, commit string) error {
	ldflags := "-s -w -X " + pkgPath + "/pkg/version.Version=" + version
	if commit != "" {
		ldflags += " -X " + pkgPath + "/pkg/version.Commit=" + commit
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, mainPkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building for %s: %w", p, err)
	}
	return nil
}

// archiveTime is the modification time of every archive entry, so that
// the same commit packs into the same bytes: $SOURCE_DATE_EPOCH (the
// reproducible-builds convention), else the commit time of HEAD.
func archiveTime() (time.Time, error) {
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, errors.New("no git commit to date the archive entries with; set SOURCE_DATE_EPOCH")
		}
		epoch = strings.TrimSpace(string(out))
	}
	seconds, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", epoch, err)
	}
	return time.Unix(seconds, 0).UTC(), nil
}

// removeOldArtifacts deletes the archives of earlier runs, so that
// checksums.txt and the directory list the same files.
func removeOldArtifacts(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "kubectl-gitlab_*"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return nil
}
