//go:build !unix

package testprocess

// Lock does not lock here: concurrent test binaries may then build the same
// binaries twice, but a final rename still keeps the cache consistent.
func Lock(string) (unlock func(), err error) {
	return func() {}, nil
}
