package access

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a GitLab release, major.minor. KAS ships with GitLab and
// carries the same version, so it also names the KAS whose schema applies.
type Version struct {
	Major, Minor int
}

// OldestVersion is the GitLab whose KAS schema this package reads
// (gitlab-agent at 8daa08cc, KAS 16.5). Fields added later carry their own
// version in the schema.
var OldestVersion = Version{16, 5}

// NewestVersion is the newest GitLab release that any rule of this package
// knows about; the default for --gitlab-version.
var NewestVersion = Version{18, 4}

// ParseVersion reads `17.3`, `17.3.2`, `v17.3.0-ee` and the like.
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(t, "-+ "); i >= 0 {
		t = t[:i]
	}
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("GitLab version %q is not major.minor, as in 17.3 or 17.3.2", s)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 4 {
			return Version{}, fmt.Errorf("GitLab version %q is not major.minor, as in 17.3 or 17.3.2", s)
		}
		nums[i] = n
	}
	v := Version{nums[0], nums[1]}
	if v.Less(OldestVersion) {
		return Version{}, fmt.Errorf("GitLab %s is older than %s, the oldest agent configuration schema this plugin knows; pass %s or later", v, OldestVersion, OldestVersion)
	}
	return v, nil
}

// Less reports whether v is an earlier release than w.
func (v Version) Less(w Version) bool {
	return v.Major < w.Major || v.Major == w.Major && v.Minor < w.Minor
}

// IsZero reports whether v is unset.
func (v Version) IsZero() bool { return v == Version{} }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// orNewest is v, or NewestVersion when v is unset.
func (v Version) orNewest() Version {
	if v.IsZero() {
		return NewestVersion
	}
	return v
}

// Tier is a GitLab subscription tier. Some access_as modes are paid
// features, and GitLab drops the entries that use them on Free.
type Tier string

const (
	// TierUnknown assumes Premium, and says so where the tier matters.
	TierUnknown  Tier = ""
	TierFree     Tier = "free"
	TierPremium  Tier = "premium"
	TierUltimate Tier = "ultimate"
)

// ParseTier reads a tier name.
func ParseTier(s string) (Tier, error) {
	switch t := Tier(strings.ToLower(strings.TrimSpace(s))); t {
	case TierUnknown, TierFree, TierPremium, TierUltimate:
		return t, nil
	}
	return "", fmt.Errorf("tier %q is not one of free, premium, ultimate", s)
}

// paid reports whether the tier offers Premium features; an unknown tier
// is taken as paid.
func (t Tier) paid() bool { return t != TierFree }
