package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), restated
// here so that the plugin binary does not link apimachinery.

const (
	dns1123LabelMax     = 63
	dns1123SubdomainMax = 253
)

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// checkDNSLabel tells what keeps s from being a DNS-1123 label (a namespace
// name), or returns "".
func checkDNSLabel(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > dns1123LabelMax:
		return fmt.Sprintf("is %d characters long, more than %d", len(s), dns1123LabelMax)
	case !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]):
		return "must start and end with a lowercase letter or digit"
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '-' {
			return fmt.Sprintf("contains %q; use only lowercase letters, digits and `-`", s[i])
		}
	}
	return ""
}

// checkDNSSubdomain tells what keeps s from being a DNS-1123 subdomain (an
// object name), or returns "".
func checkDNSSubdomain(s string) string {
	if s == "" {
		return "is empty"
	}
	if len(s) > dns1123SubdomainMax {
		return fmt.Sprintf("is %d characters long, more than %d", len(s), dns1123SubdomainMax)
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return "has an empty part between dots"
		}
		if !isLowerAlnum(label[0]) || !isLowerAlnum(label[len(label)-1]) {
			return "must start and end, around every dot, with a lowercase letter or digit"
		}
		for i := 0; i < len(label); i++ {
			if !isLowerAlnum(label[i]) && label[i] != '-' {
				return fmt.Sprintf("contains %q; use only lowercase letters, digits, `-` and `.`", label[i])
			}
		}
	}
	return ""
}

// checkRoleName checks a role name the way the API server does for RBAC
// objects: any path segment, so `system:aggregate-to-view` is fine.
func checkRoleName(s string) string {
	switch {
	case s == "":
		return "is empty"
	case s == "." || s == "..":
		return "cannot be `.` or `..`"
	case strings.ContainsAny(s, "/%"):
		return "cannot contain `/` or `%`"
	}
	return ""
}

// dnsName turns parts into one DNS-1123 label: lowercase, every run of other
// characters becomes `-`, and a name that had to be shortened keeps a hash of
// the whole so that different inputs stay different names.
func dnsName(parts ...string) string {
	var b strings.Builder
	dash := false
	for _, part := range parts {
		for _, r := range strings.ToLower(part) {
			if r < 0x80 && isLowerAlnum(byte(r)) {
				if dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = false
				b.WriteRune(r)
			} else {
				dash = true
			}
		}
		dash = true
	}
	name := b.String()
	if name == "" {
		name = "gitlab-ci"
	}
	if len(name) > dns1123LabelMax {
		sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
		suffix := hex.EncodeToString(sum[:4])
		name = strings.TrimRight(name[:dns1123LabelMax-len(suffix)-1], "-") + "-" + suffix
	}
	return name
}
