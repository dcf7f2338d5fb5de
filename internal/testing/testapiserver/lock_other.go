//go:build !unix

package testapiserver

// buildLock does not lock here: concurrent test binaries may then build the
// same binaries twice, but the final rename still keeps the cache consistent.
func buildLock(string) (unlock func(), err error) {
	return func() {}, nil
}
