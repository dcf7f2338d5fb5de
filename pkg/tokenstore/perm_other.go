//go:build !unix

package tokenstore

import "os"

// checkPrivate has no mode bits to look at outside unix: on Windows the file
// inherits the ACL of the user's profile directory, which only they can read.
func checkPrivate(*os.File, string) error { return nil }
