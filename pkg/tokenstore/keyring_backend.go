package tokenstore

import (
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringBackend is the part of go-keyring that the keyring store uses, so
// that tests can put a fake in its place. (Not go-keyring's MockInit: it
// swaps the provider of the whole process for good, and would quietly turn
// every later real-keyring test in the same binary into a mock test.) Get
// and Delete return keyring.ErrNotFound for a missing item.
type KeyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// OSKeyring is go-keyring on the OS keyring: the macOS Keychain, the Windows
// Credential Manager, or a Secret Service over D-Bus elsewhere.
type OSKeyring struct{}

func (OSKeyring) Get(service, user string) (string, error) {
	if err := sessionBusProblem(); err != nil {
		return "", err
	}
	secret, err := keyring.Get(service, user)
	return secret, explainBusError(err)
}

func (OSKeyring) Set(service, user, secret string) error {
	if err := sessionBusProblem(); err != nil {
		return err
	}
	return explainBusError(keyring.Set(service, user, secret))
}

func (OSKeyring) Delete(service, user string) error {
	if err := sessionBusProblem(); err != nil {
		return err
	}
	return explainBusError(keyring.Delete(service, user))
}

// timeoutKeyring bounds every call: go-keyring has no timeouts, and a D-Bus
// without a Secret Service, or a locked keyring waiting for a prompt that no
// one sees, would otherwise hang get-token and with it kubectl. A call that
// times out is left running in its goroutine; the process soon exits anyway.
type timeoutKeyring struct {
	next    KeyringBackend
	timeout time.Duration
}

type keyringResult struct {
	secret string
	err    error
}

func (k timeoutKeyring) call(fn func() (string, error)) (string, error) {
	done := make(chan keyringResult, 1)
	go func() {
		defer func() {
			// go-keyring type-asserts D-Bus replies; a surprising reply
			// must not crash kubectl.
			if p := recover(); p != nil {
				done <- keyringResult{err: fmt.Errorf("the keyring library failed: %v", p)}
			}
		}()
		s, err := fn()
		done <- keyringResult{s, err}
	}()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.secret, r.err
	case <-timer.C:
		return "", errKeyringTimeout{k.timeout}
	}
}

func (k timeoutKeyring) Get(service, user string) (string, error) {
	return k.call(func() (string, error) { return k.next.Get(service, user) })
}

func (k timeoutKeyring) Set(service, user, secret string) error {
	_, err := k.call(func() (string, error) { return "", k.next.Set(service, user, secret) })
	return err
}

func (k timeoutKeyring) Delete(service, user string) error {
	_, err := k.call(func() (string, error) { return "", k.next.Delete(service, user) })
	return err
}

type errKeyringTimeout struct{ after time.Duration }

func (e errKeyringTimeout) Error() string {
	return fmt.Sprintf("it did not answer within %s (a locked keyring waiting for a password prompt, or a session bus without a working Secret Service)", e.after)
}
