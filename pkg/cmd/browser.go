package cmd

import (
	"errors"
	"os/exec"
	"strings"
)

// browserCommand is the command that opens a URL in the user's browser on
// goos, or nil when no browser should be opened: over SSH the browser
// would open on the wrong machine (or not at all), and a Unix without a
// display has none. $BROWSER, when set, names the browser (its first
// entry: the variable is a colon-separated list).
func browserCommand(goos string, getenv func(string) string) []string {
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" || getenv("SSH_CLIENT") != "" {
		return nil
	}
	if b, _, _ := strings.Cut(getenv("BROWSER"), ":"); b != "" {
		return []string{b}
	}
	switch goos {
	case "darwin":
		return []string{"open"}
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler"}
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	return []string{"xdg-open"}
}

// systemBrowser opens URLs with browserCommand's command, if any. The
// command is started, not waited for (some browsers run until closed).
func systemBrowser(goos string, lookupEnv func(string) (string, bool)) func(url string) error {
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	argv := browserCommand(goos, getenv)
	if argv == nil {
		return nil
	}
	return func(url string) error {
		if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
			return errors.New("not a web URL")
		}
		c := exec.Command(argv[0], append(argv[1:], url)...)
		if err := c.Start(); err != nil {
			return err
		}
		return c.Process.Release()
	}
}
