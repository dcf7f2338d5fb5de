package testapiserver

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

const (
	// toolsModuleDir is the module that pins kube-apiserver and etcd, relative
	// to the repository root.
	toolsModuleDir = "test/e2e/tools"

	apiserverPackage = "k8s.io/kubernetes/cmd/kube-apiserver"
	etcdPackage      = "go.etcd.io/etcd/server/v3"

	apiserverBinary = "kube-apiserver"
	etcdBinary      = "etcd"
	// etcdBuiltName is what `go build -o DIR/` names the etcd binary: the last
	// element of its package path without the major-version suffix.
	etcdBuiltName = "server"

	// buildRecipe is part of the cache key: change it whenever the way the
	// binaries are built changes, so that old builds are not reused.
	buildRecipe = "v1 CGO_ENABLED=0 -ldflags=-s -w -X version"
)

// Binaries returns the paths of kube-apiserver and etcd built from the
// versions pinned in test/e2e/tools. They are built once into a cache
// directory keyed by that module's go.mod and go.sum, then reused. A failed
// build fails the test: end-to-end tests must never pass by not running.
func Binaries(t testing.TB) (apiserver, etcd string) {
	t.Helper()
	dir, err := ensureBinaries(t)
	if err != nil {
		t.Fatalf("testapiserver: %v", err)
	}
	return filepath.Join(dir, apiserverBinary), filepath.Join(dir, etcdBinary)
}

func ensureBinaries(t testing.TB) (string, error) {
	t.Helper()
	tools, err := findToolsModule()
	if err != nil {
		return "", err
	}
	key, err := cacheKey(tools)
	if err != nil {
		return "", err
	}
	return testprocess.Cached(t, "kube-apiserver and etcd", key, []string{apiserverBinary, etcdBinary},
		func(dir string) error { return build(tools, dir) })
}

// build compiles both binaries into dir.
func build(tools, dir string) error {
	version, err := kubernetesVersion(filepath.Join(tools, "go.mod"))
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build",
		"-o", dir+string(filepath.Separator),
		"-ldflags", versionLDFlags(version),
		apiserverPackage, etcdPackage)
	cmd.Dir = tools
	// GOWORK=off: a go.work around the checkout must not pull the tools module
	// into another build list. CGO_ENABLED=0: no C toolchain needed.
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s and %s in %s: %v\n%s", apiserverPackage, etcdPackage, tools, err, out)
	}
	return os.Rename(filepath.Join(dir, etcdBuiltName), filepath.Join(dir, etcdBinary))
}

// versionLDFlags stamps the version that `go build` would otherwise leave as
// v0.0.0-master, so that /version and kubectl report the real one.
func versionLDFlags(version string) string {
	major, minor, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	minor, _, _ = strings.Cut(minor, ".")
	const pkg = "k8s.io/component-base/version"
	return strings.Join([]string{
		"-s", "-w",
		"-X", pkg + ".gitVersion=" + version,
		"-X", pkg + ".gitMajor=" + major,
		"-X", pkg + ".gitMinor=" + minor,
		"-X", pkg + ".gitTreeState=clean",
	}, " ")
}

// kubernetesVersion reads the k8s.io/kubernetes version that goMod requires.
func kubernetesVersion(goMod string) (string, error) {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 0 && fields[0] == "require" { // single-line form
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == "k8s.io/kubernetes" {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s does not require k8s.io/kubernetes", goMod)
}

func cacheKey(tools string) (string, error) {
	h := sha256.New()
	h.Write([]byte(buildRecipe))
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(tools, name))
		if err != nil {
			return "", err
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// findToolsModule locates test/e2e/tools: first from this source file's
// location (known when built in the checkout), then by walking up from the
// working directory, which `go test` sets to the package directory.
func findToolsModule() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			candidate := filepath.Join(dir, filepath.FromSlash(toolsModuleDir))
			if _, err := os.Stat(filepath.Join(candidate, "go.mod")); err == nil {
				return candidate, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("cannot find " + toolsModuleDir + "/go.mod above " + strings.Join(starts, " or "))
}
