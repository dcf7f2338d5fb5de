package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/termsafe"
)

// Terminal is a person at a keyboard, if there is one.
type Terminal interface {
	// Interactive reports whether a person can answer (stdin and stderr
	// are terminals).
	Interactive() bool
	// Pick asks the person to choose one of options and returns its index.
	// Options are shown as given: escape what came from a file
	// (termsafe.Text).
	Pick(question string, options []string) (int, error)
	// ReadSecret asks for a secret without echoing it.
	ReadSecret(prompt string) (string, error)
}

type ttyTerminal struct {
	in  *os.File
	out *os.File
}

func systemTerminal(in, out *os.File) Terminal { return ttyTerminal{in: in, out: out} }

func (t ttyTerminal) Interactive() bool {
	return term.IsTerminal(int(t.in.Fd())) && term.IsTerminal(int(t.out.Fd()))
}

// Pick is the fuzzy picker, in raw mode; the numbered list when the
// terminal cannot be put in raw mode.
func (t ttyTerminal) Pick(question string, options []string) (int, error) {
	state, err := term.MakeRaw(int(t.in.Fd()))
	if err != nil {
		return pick(t.in, t.out, question, options)
	}
	defer term.Restore(int(t.in.Fd()), state)
	width, height, err := term.GetSize(int(t.out.Fd()))
	if err != nil {
		width, height = 80, 24
	}
	return pickFuzzy(t.in, t.out, question, options, height, width)
}

func (t ttyTerminal) ReadSecret(prompt string) (string, error) {
	fmt.Fprint(t.out, prompt)
	b, err := term.ReadPassword(int(t.in.Fd()))
	fmt.Fprintln(t.out)
	return strings.TrimSpace(string(b)), err
}

// pick shows a numbered list and reads a number (or a name) from in.
func pick(in io.Reader, out io.Writer, question string, options []string) (int, error) {
	for i, o := range options {
		fmt.Fprintf(out, "  %d) %s\n", i+1, termsafe.Text(o))
	}
	r := bufio.NewReader(in)
	for range 3 {
		fmt.Fprintf(out, "%s [1-%d]: ", question, len(options))
		line, err := r.ReadString('\n')
		answer := strings.TrimSpace(line)
		if n, convErr := strconv.Atoi(answer); convErr == nil && n >= 1 && n <= len(options) {
			return n - 1, nil
		}
		for i, o := range options {
			if answer == o {
				return i, nil
			}
		}
		if err != nil {
			return 0, errors.New("no choice made")
		}
		fmt.Fprintf(out, "%q is not one of the choices\n", answer)
	}
	return 0, errors.New("no valid choice made")
}
