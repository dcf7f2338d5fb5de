//go:build windows

package atomicfile

// CheckPrivateDir has no mode bits to look at on Windows: the directory
// inherits the ACL of the user's profile, which only they may write.
func CheckPrivateDir(string) error { return nil }
