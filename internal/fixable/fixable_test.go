package fixable

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

type causeWithFix struct{}

func (causeWithFix) Error() string { return "the cause" }
func (causeWithFix) Fix() string   { return "fix the cause" }

func TestFixOf(t *testing.T) {
	cause := causeWithFix{}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"none", errors.New("plain"), ""},
		{"own", Errorf("do this", "failed"), "do this"},
		{"through %w", fmt.Errorf("context: %w", cause), "fix the cause"},
		{"the outer fix wins", Errorf("do that instead", "context: %w", cause), "do that instead"},
		{"an empty outer fix lets the cause speak", Errorf("", "context: %w", cause), "fix the cause"},
		{"Wrap", Wrap(fs.ErrNotExist, "create it"), "create it"},
		{"errors.Join", errors.Join(errors.New("a"), fmt.Errorf("b: %w", cause)), "fix the cause"},
	}
	for _, c := range cases {
		if got := FixOf(c.err); got != c.want {
			t.Errorf("%s: FixOf = %q, want %q", c.name, got, c.want)
		}
	}
	if FixOr(errors.New("plain"), "fallback") != "fallback" || FixOr(cause, "fallback") != "fix the cause" {
		t.Errorf("FixOr")
	}
	// The chain stays whole: the cause's type is still found.
	if err := Errorf("x", "wrapped: %w", fs.ErrPermission); !errors.Is(err, fs.ErrPermission) || err.Error() != "wrapped: permission denied" {
		t.Errorf("Errorf lost the chain: %v", err)
	}
	if !Is[causeWithFix](fmt.Errorf("a: %w", cause)) || Is[causeWithFix](errors.New("b")) {
		t.Errorf("Is")
	}
}
