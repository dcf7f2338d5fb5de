package cmd

import (
	"strings"
	"testing"
)

// The browser opens where a person sits at this machine's screen: not
// over SSH, not on a Unix without a display.
func TestBrowserCommand(t *testing.T) {
	for _, c := range []struct {
		goos string
		env  map[string]string
		want string // argv joined; "" for none
	}{
		{"linux", map[string]string{"DISPLAY": ":0"}, "xdg-open"},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "xdg-open"},
		{"linux", map[string]string{}, ""},
		{"freebsd", map[string]string{"DISPLAY": ":0"}, "xdg-open"},
		{"linux", map[string]string{"DISPLAY": ":0", "SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}, ""},
		{"linux", map[string]string{"DISPLAY": "localhost:10.0", "SSH_TTY": "/dev/pts/1"}, ""},
		{"darwin", map[string]string{}, "open"},
		{"darwin", map[string]string{"SSH_CLIENT": "10.0.0.1 5 22"}, ""},
		{"windows", map[string]string{}, "rundll32 url.dll,FileProtocolHandler"},
		{"linux", map[string]string{"BROWSER": "firefox:chromium"}, "firefox"},
		{"linux", map[string]string{"BROWSER": "w3m", "SSH_CONNECTION": "x"}, ""},
	} {
		got := strings.Join(browserCommand(c.goos, func(k string) string { return c.env[k] }), " ")
		if got != c.want {
			t.Errorf("%s %v: %q, want %q", c.goos, c.env, got, c.want)
		}
	}
	if systemBrowser("linux", func(string) (string, bool) { return "", false }) != nil {
		t.Errorf("an opener without a display")
	}
	open := systemBrowser("linux", func(k string) (string, bool) {
		return map[string]string{"BROWSER": "/nonexistent/browser"}[k], k == "BROWSER"
	})
	if err := open("javascript:alert(1)"); err == nil {
		t.Errorf("opened a URL that is not http(s)")
	}
	if err := open("https://gitlab.example.com/oauth/device"); err == nil {
		t.Errorf("a browser that does not exist opened")
	}
}
