package access

import "testing"

func TestMatchEnvironment(t *testing.T) {
	tests := []struct {
		pattern, env string
		want         bool
	}{
		{"review/*", "review/feature-1", true},
		{"review/*", "review", false},
		{"review/*", "review/", true},
		{"staging", "staging", true},
		{"staging", "staging-2", false}, // no wildcard: exact only
		{"staging", "Staging", false},
		{"*", "anything", true},
		{"*", "", false}, // a job without an environment matches nothing
		{"", "", false},
		{"prod*", "production", true},
		{"*-prod", "eu-prod", true},
		// GitLab's wildcard search is not anchored.
		{"review/*", "old-review/x", true},
		{"eu-*", "us-eu-1", true},
		// `.` is literal for exact matches.
		{"v1.2", "v1x2", false},
	}
	for _, tt := range tests {
		if got := MatchEnvironment(tt.pattern, tt.env); got != tt.want {
			t.Errorf("MatchEnvironment(%q, %q) = %v, want %v", tt.pattern, tt.env, got, tt.want)
		}
	}
	if m := environmentMatch("review/*", "old-review/x"); m != matchInside {
		t.Errorf("unanchored match not told apart: %v", m)
	}
	if m := environmentMatch("review/*", "review/x"); m != matchWildcard {
		t.Errorf("glob match = %v", m)
	}
}

// GitLab's own examples (spec/lib/gitlab/slug/environment_spec.rb), where
// the suffix is stubbed to q517sa.
func TestSlugifyGitLabSpec(t *testing.T) {
	stub := func(string) string { return "q517sa" }
	for name, want := range map[string]string{
		"staging-12345678901234567": "staging-123456789-q517sa",
		"9-staging-123456789012345": "env-9-staging-123-q517sa",
		"staging-1234567890123456":  "staging-1234567890123456",
		"staging-1234567890123456-": "staging-123456789-q517sa",
		"production":                "production",
		"PRODUCTION":                "production-q517sa",
		"review/1-foo":              "review-1-foo-q517sa",
		"1-foo":                     "env-1-foo-q517sa",
		"1/foo":                     "env-1-foo-q517sa",
		"foo-":                      "foo",
		"foo--bar":                  "foo-bar-q517sa",
		"foo**bar":                  "foo-bar-q517sa",
		"*-foo":                     "env-foo-q517sa",
		"staging-12345678-":         "staging-12345678",
		"staging-12345678-01234567": "staging-12345678-q517sa",
		"":                          "env-q517sa",
	} {
		if got := slugify(name, stub); got != want {
			t.Errorf("slugify(%q) = %q, want %q", name, got, want)
		}
	}
	// The spec's stub is ('a' * 64).to_i(16).to_s(36).last(6).
	if got := base36Tail(string(make64('a'))); got != "q517sa" {
		t.Errorf("base36Tail = %q", got)
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestEnvironmentSlug(t *testing.T) {
	// Suffixes computed independently (Python: base 36 of SHA-256).
	for name, want := range map[string]string{
		"prod":             "prod",
		"production":       "production",
		"review/1-foo":     "review-1-foo-9tdj0u",
		"PRODUCTION":       "production-vl4voz",
		"review/feature-1": "review-feature-1-1q251u",
	} {
		if got := EnvironmentSlug(name); got != want {
			t.Errorf("EnvironmentSlug(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCheckEnvironment(t *testing.T) {
	for _, ok := range []string{"production", "review/feature-1", "Review App 1", "review/${CI_COMMIT_REF_SLUG}", "v1.2"} {
		if msg := checkEnvironment(ok, false); msg != "" {
			t.Errorf("%q: %s", ok, msg)
		}
	}
	for _, bad := range []string{"", " prod", "prod ", "/prod", "prod/", "prod*", "prod#1", "prod\n", string(make64('a')) + string(make64('a')) + string(make64('a')) + string(make64('a'))} {
		if msg := checkEnvironment(bad, false); msg == "" {
			t.Errorf("%q accepted", bad)
		}
	}
	if msg := checkEnvironment("review/*", true); msg != "" {
		t.Errorf("pattern refused: %s", msg)
	}
}
