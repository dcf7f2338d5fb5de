// Package fixable is how an error says how to fix it: a Fix() method.
// Commands print Error() (what went wrong and why, one line) and Fix()
// beneath it; doctor shows both for a failed check. Errors wrap with %w,
// so the fix and the type of the cause stay reachable through the chain.
package fixable

import (
	"errors"
	"fmt"
)

// Error is an error that says how to fix it.
type Error interface {
	error
	// Fix says what to do, in one or more lines; "" when it does not know.
	Fix() string
}

// New is an error with a fix, made without fmt: cheap enough for a
// package-level variable on get-token's path.
func New(fix, msg string) error { return &withFix{err: errors.New(msg), fix: fix} }

// Errorf is fmt.Errorf (so %w wraps) with a fix.
func Errorf(fix, format string, args ...any) error {
	return &withFix{err: fmt.Errorf(format, args...), fix: fix}
}

// Wrap gives err a fix, which takes precedence over any fix in err.
func Wrap(err error, fix string) error { return &withFix{err: err, fix: fix} }

type withFix struct {
	err error
	fix string
}

func (e *withFix) Error() string { return e.err.Error() }
func (e *withFix) Unwrap() error { return e.err }
func (e *withFix) Fix() string   { return e.fix }

// FixOf is the fix of the outermost error in err's chain that has one:
// a wrapper may say more precisely what to do than its cause.
func FixOf(err error) string {
	for err != nil {
		if f, ok := err.(Error); ok {
			if fix := f.Fix(); fix != "" {
				return fix
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if fix := FixOf(e); fix != "" {
					return fix
				}
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// FixOr is err's fix, else fallback: for wrappers that know a fix only
// for causes that have none.
func FixOr(err error, fallback string) string {
	if fix := FixOf(err); fix != "" {
		return fix
	}
	return fallback
}

// Is reports whether err's chain holds an error of type T.
func Is[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
