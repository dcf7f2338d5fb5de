package cmd

import (
	"errors"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testpty"
)

// TestTerminalPickThroughPTY: the picker as the real terminal runs it, in
// raw mode on a pseudo-terminal, which it leaves as it found it.
func TestTerminalPickThroughPTY(t *testing.T) {
	for _, c := range []struct {
		typed string
		want  int
	}{{"stag\r", 1}, {"\x1b[B\x1b[B\x1b[B\r", 3}, {"\x03", -1}, {"\x1b", -1}} {
		pty := testpty.Open(t)
		term := systemTerminal(pty.Terminal, pty.Terminal)
		if !term.Interactive() {
			t.Fatal("a pseudo-terminal is not interactive")
		}
		type result struct {
			i   int
			err error
		}
		done := make(chan result, 1)
		go func() {
			i, err := term.Pick("Switch to which agent context?", pickOptions)
			done <- result{i, err}
		}()
		pty.WaitFor(t, "Switch to which agent context?", 10*time.Second)
		pty.Type(t, c.typed)
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: no answer; drawn: %q", c.typed, pty.Seen())
		}
		if c.want < 0 && !errors.As(r.err, new(pickCancelled)) || c.want >= 0 && (r.err != nil || r.i != c.want) {
			t.Errorf("%q: %d, %v; want %d", c.typed, r.i, r.err, c.want)
		}
		// Cooked mode again: a line is read only at its end.
		pty.Type(t, "x")
		readDone := make(chan struct{})
		go func() { pty.Terminal.Read(make([]byte, 8)); close(readDone) }()
		select {
		case <-readDone:
			t.Errorf("%q: the terminal stayed in raw mode", c.typed)
		case <-time.After(100 * time.Millisecond):
		}
		pty.Type(t, "\n")
		<-readDone
	}
}
