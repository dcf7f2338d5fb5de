//go:build secretservice

package testkeyring

import "testing"

// Under the script, the probe round-trip works.
func TestRequirePassesUnderTheScript(t *testing.T) {
	Require(t)
}
