//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package tokenstore

import "runtime"

// keyringName names the OS keyring that go-keyring uses on this OS.
func keyringName() string {
	switch runtime.GOOS {
	case "darwin":
		return "the macOS Keychain"
	case "windows":
		return "the Windows Credential Manager"
	}
	return "the OS keyring (none on " + runtime.GOOS + ")"
}

// keyringFix says how to get a working keyring here.
func keyringFix() string {
	if runtime.GOOS == "darwin" {
		return "unlock the login keychain (security unlock-keychain), or keep the token in a file with --token-store=file"
	}
	return "keep the token in a file with --token-store=file"
}

// sessionBusProblem: there is no D-Bus to check for outside the Secret
// Service platforms.
func sessionBusProblem() error { return nil }

func explainBusError(err error) error { return err }
