package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// GitLab environment names hold letters, digits, spaces and `- _ / $ { } .`,
// and neither start nor end with `/` (Gitlab::Regex.environment_name_regex).
// Patterns in ci_access add the one wildcard, `*`.
const maxEnvironmentName = 255

func isEnvironmentChar(r rune, wildcard bool) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case strings.ContainsRune("_/${}. -", r):
		return true
	case r == '*':
		return wildcard
	}
	return false
}

// checkEnvironment tells what is wrong with an environment name (or, with
// wildcard, a pattern), or returns "" when GitLab accepts it.
func checkEnvironment(name string, wildcard bool) string {
	what := "an environment name"
	if wildcard {
		what = "an environment pattern"
	}
	switch {
	case name == "":
		return what + " cannot be empty"
	case strings.TrimSpace(name) != name:
		return fmt.Sprintf("%q has leading or trailing spaces; GitLab compares names exactly, so it never matches", name)
	case len(name) > maxEnvironmentName:
		return fmt.Sprintf("is %d characters long; environment names have at most %d", len(name), maxEnvironmentName)
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return fmt.Sprintf("%q starts or ends with `/`, which no environment name does", name)
	}
	for _, r := range name {
		if !isEnvironmentChar(r, wildcard) {
			allowed := "letters, digits, spaces and `- _ / $ { } .`"
			if wildcard {
				allowed += ", with `*` as the only wildcard"
			}
			return fmt.Sprintf("%q contains %q; environment names hold only %s", name, r, allowed)
		}
	}
	return ""
}

// MatchEnvironment reports whether GitLab lets a job in environment env
// through pattern. It reproduces Gitlab::Ci::EnvironmentMatcher: an exact
// match, or, when the pattern has a `*`, a regular-expression search in which
// `*` stands for `.*`. That search is not anchored, so `review/*` matches
// `review/feature-1` and `old-review/x`, but not `review`. A job without an
// environment matches no pattern.
func MatchEnvironment(pattern, env string) bool {
	m := environmentMatch(pattern, env)
	return m != matchNone
}

type envMatch int

const (
	matchNone envMatch = iota
	matchExact
	matchWildcard // the whole name matches the pattern, as a glob
	matchInside   // only a part of the name matches: GitLab's unanchored search
)

func environmentMatch(pattern, env string) envMatch {
	if pattern == "" || env == "" {
		return matchNone
	}
	if pattern == env {
		return matchExact
	}
	if !strings.Contains(pattern, "*") {
		return matchNone
	}
	re, err := regexp.Compile(strings.ReplaceAll(pattern, "*", ".*"))
	if err != nil {
		// Ruby accepted what RE2 does not (neither is likely with the
		// characters GitLab allows); fall back to a literal glob.
		re = regexp.MustCompile(globRegexp(pattern, false))
	}
	loc := re.FindStringIndex(env)
	if loc == nil {
		return matchNone
	}
	if regexp.MustCompile(globRegexp(pattern, true)).MatchString(env) {
		return matchWildcard
	}
	return matchInside
}

// globRegexp turns a pattern into a regular expression in which only `*` is
// special.
func globRegexp(pattern string, anchored bool) string {
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	re := strings.Join(parts, ".*")
	if anchored {
		re = "^" + re + "$"
	}
	return re
}

// environmentTiers are the tiers GitLab knows, as used in
// `gitlab:group_env_tier:<id>:<tier>`.
const environmentTiers = "production, staging, testing, development, other"

func checkTier(tier string) error {
	switch tier {
	case "production", "staging", "testing", "development", "other":
		return nil
	}
	return fmt.Errorf("environment tier %q is not one of GitLab's tiers (%s); pass one of those", tier, environmentTiers)
}

// EnvironmentSlug derives an environment's slug from its name the way GitLab
// does (Gitlab::Slug::Environment): lowercase letters, digits and `-`,
// starting with a letter, at most 24 characters, and, whenever that changed
// the name, a 6-character suffix computed from the name. KAS puts the slug,
// not the name, into `gitlab:project_env:<id>:<slug>`. Environments created
// by old GitLab versions may carry a different slug; pass it explicitly then.
func EnvironmentSlug(name string) string {
	return slugify(name, slugSuffix)
}

// slugSuffix is the last 6 base-36 digits of SHA-256(name).
func slugSuffix(name string) string {
	sum := sha256.Sum256([]byte(name))
	return base36Tail(hex.EncodeToString(sum[:]))
}

// base36Tail reads hexDigits as a number and returns its last 6 base-36
// digits (Ruby's `hex.to_i(16).to_s(36).last(6)`).
func base36Tail(hexDigits string) string {
	n, ok := new(big.Int).SetString(hexDigits, 16)
	if !ok {
		return ""
	}
	s := n.Text(36)
	if len(s) > 6 {
		s = s[len(s)-6:]
	}
	return s
}

func slugify(name string, suffix func(string) string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			// Ruby's gsub works per character: one dash for each.
			b.WriteByte('-')
		}
	}
	slug := b.String()
	if slug == "" || !(slug[0] >= 'a' && slug[0] <= 'z') {
		slug = "env-" + slug
	}
	slug = squeezeDashes(slug)
	if len(slug) > 24 || slug != name {
		if len(slug) > 17 {
			slug = slug[:17]
		}
		if !strings.HasSuffix(slug, "-") {
			slug += "-"
		}
		return slug + suffix(name)
	}
	return strings.TrimSuffix(slug, "-")
}

func squeezeDashes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '-' && i > 0 && s[i-1] == '-' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
