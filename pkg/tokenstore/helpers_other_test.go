//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package tokenstore

// setRunUserDir: there is no D-Bus user bus to look for on this OS.
func setRunUserDir(string) {}
