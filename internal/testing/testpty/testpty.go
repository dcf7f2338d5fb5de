//go:build linux

// Package testpty opens pseudo-terminals for tests that need a real
// terminal (raw mode, window size) on the other end: the controlling side
// stands for the person at the keyboard. Linux only (/dev/ptmx), with
// golang.org/x/sys, so tests need no pty library.
package testpty

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal: Terminal is what a program reads keys from and
// draws on; what it draws is collected from the controlling side.
type PTY struct {
	Terminal *os.File
	control  *os.File
	mu       sync.Mutex
	seen     bytes.Buffer
	done     chan struct{}
}

// Open opens a pseudo-terminal of 24 rows and 80 columns, closed when the
// test ends.
func Open(t testing.TB) *PTY {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("testpty: %v", err)
	}
	fd := int(control.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		control.Close()
		t.Fatalf("testpty: unlock: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN) // ptsname
	if err != nil {
		control.Close()
		t.Fatalf("testpty: ptsname: %v", err)
	}
	terminal, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		control.Close()
		t.Fatalf("testpty: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(terminal.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatalf("testpty: window size: %v", err)
	}
	p := &PTY{Terminal: terminal, control: control, done: make(chan struct{})}
	go p.collect()
	t.Cleanup(p.Close)
	return p
}

// collect keeps what the program draws, so that it never blocks on a
// full terminal.
func (p *PTY) collect() {
	defer close(p.done)
	buf := make([]byte, 4096)
	for {
		n, err := p.control.Read(buf)
		p.mu.Lock()
		p.seen.Write(buf[:n])
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Close closes both sides.
func (p *PTY) Close() {
	p.Terminal.Close()
	p.control.Close()
	<-p.done
}

// Type sends keys, as a person typing them at once.
func (p *PTY) Type(t testing.TB, keys string) {
	t.Helper()
	if _, err := p.control.Write([]byte(keys)); err != nil {
		t.Fatalf("testpty: typing: %v", err)
	}
}

// Seen is everything drawn so far.
func (p *PTY) Seen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen.String()
}

// WaitFor waits until the drawing holds text, at most timeout.
func (p *PTY) WaitFor(t testing.TB, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Seen(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("testpty: %q not drawn within %s; drawn:\n%q", text, timeout, p.Seen())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// String describes the terminal for messages.
func (p *PTY) String() string { return fmt.Sprintf("pty %s", p.Terminal.Name()) }
