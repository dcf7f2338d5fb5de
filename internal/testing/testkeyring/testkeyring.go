// Package testkeyring lets a test demand a real, working Secret Service.
//
// Tests that need one carry the build tag "secretservice" and are run by
// the Makefile under hack/keyring/with-secret-service.sh, which provides a
// private D-Bus session with an unlocked gnome-keyring:
//
//	hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 ./pkg/tokenstore/ ./internal/testing/testkeyring/
//
// Without the tag those tests are not built, so plain `go test ./...` stays
// green on a machine without a keyring; with it, a missing keyring fails
// the test (never skips it), with the command to run it properly.
package testkeyring

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Script is the wrapper, relative to the module root.
const Script = "hack/keyring/with-secret-service.sh"

// EnvVar is set to 1 by Script inside its session.
const EnvVar = "KUBECTL_GITLAB_SECRET_SERVICE"

// T is the part of testing.TB that Require uses.
type T interface {
	Helper()
	Name() string
	Fatalf(format string, args ...any)
}

// probeTimeout bounds the probe: a bus without a working Secret Service can
// make go-keyring wait forever.
const probeTimeout = 10 * time.Second

// Require fails t unless this process reaches a Secret Service that stores,
// returns and deletes a probe item.
func Require(t T) {
	t.Helper()
	if err := Probe(); err != nil {
		t.Fatalf("%s needs a running, unlocked Secret Service on a D-Bus session bus: %v\nfix: run it under the script, from the module root:\n  %s", t.Name(), err, Command(t.Name(), callerPackageDir()))
	}
}

// Probe does a Set/Get/Delete round-trip of a throw-away item.
func Probe() error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv(EnvVar) == "" {
			return fmt.Errorf("DBUS_SESSION_BUS_ADDRESS is not set and %s is not set (not running under %s)", EnvVar, Script)
		}
		return fmt.Errorf("DBUS_SESSION_BUS_ADDRESS is not set (although %s is: was it unset on the way?)", EnvVar)
	}
	done := make(chan error, 1)
	go func() { done <- roundTrip() }()
	select {
	case err := <-done:
		return err
	case <-time.After(probeTimeout):
		return fmt.Errorf("the Secret Service did not answer within %s (locked collection, or no daemon on the bus %s)", probeTimeout, os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	}
}

func roundTrip() error {
	const service = "kubectl-gitlab-testkeyring-probe"
	user := fmt.Sprintf("probe-%d-%d", os.Getpid(), time.Now().UnixNano())
	want := "probe-secret-" + user
	if err := keyring.Set(service, user, want); err != nil {
		return fmt.Errorf("storing a probe item failed: %v", err)
	}
	got, err := keyring.Get(service, user)
	if err != nil {
		return fmt.Errorf("reading the probe item back failed: %v", err)
	}
	if got != want {
		return fmt.Errorf("the probe item came back changed")
	}
	if err := keyring.Delete(service, user); err != nil {
		return fmt.Errorf("deleting the probe item failed: %v", err)
	}
	return nil
}

// Command is the command line that runs test testName of the package in
// pkgDir (relative to the module root, e.g. "pkg/tokenstore") under Script.
func Command(testName, pkgDir string) string {
	run := ""
	if testName != "" {
		top, _, _ := strings.Cut(testName, "/")
		run = " -run '^" + top + "$'"
	}
	pkg := "./..."
	switch pkgDir = strings.Trim(pkgDir, "/"); pkgDir {
	case "":
	case ".":
		pkg = "."
	default:
		pkg = "./" + pkgDir + "/"
	}
	return fmt.Sprintf("%s go test -tags secretservice -count=1%s %s", Script, run, pkg)
}

// callerPackageDir finds the calling test's package directory relative to
// the module root, or "" when it cannot tell.
func callerPackageDir() string {
	_, file, _, ok := runtime.Caller(2)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	for root := dir; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				return ""
			}
			return filepath.ToSlash(rel)
		}
		parent := filepath.Dir(root)
		if parent == root {
			return ""
		}
		root = parent
	}
}
