//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package tokenstore

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The real go-keyring backend on a machine without a usable session bus,
// each case in a fresh process (godbus caches its connection per process):
// auto mode falls back to the 0600 file with exactly one notice line, and
// keyring mode fails saying what, why and the fix.
func TestNoSessionBus(t *testing.T) {
	deadSocket := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", deadSocket)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, nobody listens: connection refused

	for _, c := range []struct {
		name, addr, reason string
	}{
		{"unset", "", "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"},
		{"dead socket", "unix:path=" + deadSocket, "connection refused"},
		{"missing socket", "unix:path=/nonexistent/bus,guid=0123", "DBUS_SESSION_BUS_ADDRESS names the socket /nonexistent/bus, which does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			dir := filepath.Join(home, ".config", "kubectl-gitlab")
			// Were godbus to autolaunch, this dbus-launch would leave a mark.
			bin := t.TempDir()
			marker := filepath.Join(bin, "dbus-launch-ran")
			os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755)
			env := []string{
				"DBUS_SESSION_BUS_ADDRESS=" + c.addr, "RUN_USER_DIR=" + t.TempDir(),
				"HOME=" + home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "XDG_RUNTIME_DIR=",
				"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
				"TOKENSTORE_DIR=" + dir,
			}
			run := func(kind string, extra ...string) (helperReport, string) {
				t.Helper()
				cmd := helper(t, "store-ops", append(append(env, "KIND="+kind), extra...)...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("helper: %v\n%s", err, stderr.String())
				}
				var rep helperReport
				if err := json.Unmarshal(out, &rep); err != nil {
					t.Fatalf("helper said %q: %v", out, err)
				}
				noToken(t, "stderr", stderr.String())
				noToken(t, "errors", strings.Join(append(rep.GetErrs, rep.SetErr, rep.ListErr, rep.DeleteErr), "\n"))
				return rep, stderr.String()
			}

			// keyring: a clear error, nothing stored anywhere.
			rep, stderr := run("keyring")
			for _, want := range []string{
				"cannot store the token for https://gitlab.example.com in the OS keyring (Secret Service over D-Bus): ",
				c.reason,
				"; fix: run this inside a desktop session, or start and unlock a Secret Service (e.g. gnome-keyring-daemon --unlock --components=secrets, or KeePassXC), or keep the token in a file with --token-store=file",
			} {
				if !strings.Contains(rep.SetErr, want) {
					t.Errorf("keyring Set error lacks %q:\n%s", want, rep.SetErr)
				}
			}
			if len(rep.GetErrs) != 3 || !strings.Contains(rep.GetErrs[0], "cannot read the token for https://gitlab.example.com from") {
				t.Errorf("keyring Get errors = %q", rep.GetErrs)
			}
			if stderr != "" {
				t.Errorf("keyring mode wrote %q", stderr)
			}
			if hits := filesContaining(t, home, testToken); len(hits) != 0 {
				t.Errorf("keyring mode left the token in %v", hits)
			}

			// auto: the file, one notice line, fast.
			rep, stderr = run("auto", "DELETE=")
			path := filepath.Join(dir, "tokens.json")
			if rep.SetErr != "" || len(rep.Got) != 3 || rep.Got[2] != testToken || len(rep.Listed) != 1 || rep.Listed[0].Kind != "file" {
				t.Fatalf("auto: %+v", rep)
			}
			wantNotice := "notice: no OS keyring (" + c.reason
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "notice: no OS keyring (") || !strings.Contains(lines[0], c.reason) ||
				!strings.HasSuffix(lines[0], "); keeping the token in "+path+" (mode 0600)") {
				t.Errorf("auto stderr = %q, want one line like %q…", stderr, wantNotice)
			}
			if m := mode(t, path); m != 0o600 {
				t.Errorf("token file mode %04o", m)
			}
			if m := mode(t, dir); m != 0o700 {
				t.Errorf("config dir mode %04o", m)
			}
			if hits := filesContaining(t, home, testToken); len(hits) != 1 || hits[0] != path {
				t.Errorf("the token is in %v, want only %s", hits, path)
			}
			if d, _ := time.ParseDuration(rep.Elapsed); d > time.Second {
				t.Errorf("auto mode took %s to fall back", d)
			}
			t.Logf("auto: Set + 3×Get + List took %s; notice: %s", rep.Elapsed, lines[0])

			// A token file that others can read is refused, in auto mode too.
			os.Chmod(path, 0o644)
			rep, _ = run("auto")
			if !strings.Contains(rep.SetErr, "refusing to read "+path+": its mode is 0644") || !strings.Contains(rep.SetErr, "chmod 600 "+path) ||
				len(rep.GetErrs) != 3 || !strings.Contains(rep.GetErrs[0], "refusing to read") {
				t.Errorf("auto with a 0644 file: %+v", rep)
			}

			if _, err := os.Stat(marker); err == nil {
				t.Error("godbus ran dbus-launch: a stray dbus-daemon would outlive us")
			}
		})
	}
}

func TestSessionBusProblem(t *testing.T) {
	empty := t.TempDir()
	withBus := t.TempDir()
	os.WriteFile(withBus+"/bus", nil, 0o600)
	for _, c := range []struct{ addr, runtimeDir, want string }{
		{"", empty, "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"},
		{"autolaunch:", empty, "there is no D-Bus session bus"},
		{"", withBus, ""},
		{"unix:path=" + empty + "/gone,guid=123", empty, "DBUS_SESSION_BUS_ADDRESS names the socket " + empty + "/gone, which does not exist"},
		{"unix:path=" + withBus + "/bus", empty, ""},
		{"unix:abstract=/tmp/dbus-x", empty, ""},
		{"tcp:host=localhost,port=1", empty, ""},
	} {
		err := sessionBusProblemIn(c.addr, c.runtimeDir)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("sessionBusProblemIn(%q) = %v, want %q", c.addr, err, c.want)
		}
	}
}

// setRunUserDir moves where the helper looks for a systemd user bus.
func setRunUserDir(d string) { runUserDir = d }
