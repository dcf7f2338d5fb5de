package testkeyring

import (
	"fmt"
	"strings"
	"testing"
)

type recorder struct {
	name   string
	failed string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

// Without a session bus, Require must fail (not skip) and say how to run
// the test properly.
func TestRequireFailsWithTheCommandWhenThereIsNoBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv(EnvVar, "")
	r := &recorder{name: "TestSomething/sub"}
	Require(r)
	if r.failed == "" {
		t.Fatal("Require passed without a session bus")
	}
	for _, want := range []string{
		"TestSomething/sub needs a running, unlocked Secret Service",
		"DBUS_SESSION_BUS_ADDRESS is not set",
		"hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 -run '^TestSomething$' ./internal/testing/testkeyring/",
	} {
		if !strings.Contains(r.failed, want) {
			t.Errorf("failure message lacks %q:\n%s", want, r.failed)
		}
	}
}

func TestCommand(t *testing.T) {
	for _, c := range []struct{ name, dir, want string }{
		{"TestA", "pkg/tokenstore", "hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 -run '^TestA$' ./pkg/tokenstore/"},
		{"", "", "hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 ./..."},
		{"TestB/x", ".", "hack/keyring/with-secret-service.sh go test -tags secretservice -count=1 -run '^TestB$' ."},
	} {
		if got := Command(c.name, c.dir); got != c.want {
			t.Errorf("Command(%q, %q) = %q, want %q", c.name, c.dir, got, c.want)
		}
	}
}
