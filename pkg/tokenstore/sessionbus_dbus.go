//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package tokenstore

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// keyringName names the OS keyring that go-keyring uses on this OS.
func keyringName() string { return "the OS keyring (Secret Service over D-Bus)" }

// keyringFix says how to get a working keyring here.
func keyringFix() string {
	return "run this inside a desktop session, or start and unlock a Secret Service (e.g. gnome-keyring-daemon --unlock --components=secrets, or KeePassXC), or keep the token in a file with --token-store=file"
}

// sessionBusProblem says why go-keyring cannot reach a session bus, before
// it tries: without DBUS_SESSION_BUS_ADDRESS, godbus falls back to running
// dbus-launch, which starts a dbus-daemon that outlives us, on every call.
func sessionBusProblem() error {
	return sessionBusProblemIn(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), runUserDir+"/"+strconv.Itoa(os.Getuid()))
}

// runUserDir is where godbus looks for a systemd user bus; tests move it.
var runUserDir = "/run/user"

func sessionBusProblemIn(addr, runtimeDir string) error {
	if addr == "" || addr == "autolaunch:" {
		// godbus also finds the systemd user bus here on its own.
		if _, err := os.Stat(runtimeDir + "/bus"); err == nil {
			return nil
		}
		return errors.New("there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
	}
	// A stale address (a session that has ended) is the common failure;
	// name it rather than report a bare dial error.
	if path, ok := unixBusPath(addr); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("DBUS_SESSION_BUS_ADDRESS names the socket %s, which does not exist (a session that has ended?)", path)
		}
	}
	return nil
}

// unixBusPath returns the socket path of a single unix:path=… address.
func unixBusPath(addr string) (string, bool) {
	rest, ok := strings.CutPrefix(addr, "unix:")
	if !ok || strings.Contains(addr, ";") {
		return "", false
	}
	for _, kv := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(kv, "path="); ok {
			p, err := url.PathUnescape(v)
			return p, err == nil
		}
	}
	return "", false
}

// explainBusError puts go-keyring's D-Bus errors in words.
func explainBusError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("cannot connect to the D-Bus session bus (%w)", err)
	case strings.Contains(msg, "org.freedesktop.secrets"):
		return fmt.Errorf("no Secret Service runs on the D-Bus session bus (%w)", err)
	case strings.Contains(msg, "failed to unlock correct collection"):
		return fmt.Errorf("the Secret Service's login collection is locked or missing (%w)", err)
	}
	return err
}
