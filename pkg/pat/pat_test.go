package pat

import (
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

func TestEntryAndRenewalDue(t *testing.T) {
	expires := "2026-12-01"
	e, err := Entry("glpat-x", &gitlab.PersonalAccessToken{ID: 5, Name: "laptop", Scopes: []string{Scope, "self_rotate"}, ExpiresAt: &expires})
	if err != nil || !e.SelfRotate || e.ExpiresAt != (tokenstore.Date{Year: 2026, Month: time.December, Day: 1}) || e.TokenName != "laptop" {
		t.Fatalf("Entry = %v, %v", e, err)
	}
	// Due less than two days before 00:00 UTC of the expiry day.
	for now, due := range map[time.Time]bool{
		time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC): false,
		time.Date(2026, 11, 29, 0, 0, 1, 0, time.UTC): true,
		time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC): true,
		time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC): false,
	} {
		if RenewalDue(e, now) != due {
			t.Errorf("RenewalDue at %s = %v", now, !due)
		}
	}
	e.SelfRotate = false
	if RenewalDue(e, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a token without self_rotate is due")
	}
	bad := "31.12.2026"
	if _, err := Entry("glpat-x", &gitlab.PersonalAccessToken{ExpiresAt: &bad}); err == nil {
		t.Errorf("Entry accepted expires_at %q", bad)
	}
}

func TestExpiresAtCoversTheLifetime(t *testing.T) {
	for _, c := range []struct {
		now      time.Time
		lifetime time.Duration
		want     string
	}{
		{time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC), 24 * time.Hour, "2026-11-27"}, // GitLab's "tomorrow" would live a minute
		{time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 24 * time.Hour, "2026-11-26"},   // exactly a day
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), 7 * 24 * time.Hour, "2026-12-03"},
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), time.Hour, "2026-11-27"},                          // at least a day
		{time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("X", 14*3600)), 24 * time.Hour, "2026-11-26"}, // 2026-11-24 22:00 UTC
	} {
		got := ExpiresAt(c.now, c.lifetime)
		if got.String() != c.want {
			t.Errorf("ExpiresAt(%s, %s) = %s, want %s", c.now, c.lifetime, got, c.want)
		}
		if left := got.UTCMidnight().Sub(c.now); left < max(c.lifetime, 24*time.Hour) {
			t.Errorf("ExpiresAt(%s, %s) leaves %s", c.now, c.lifetime, left)
		}
	}
}

// A token renewed with a kept refresh token is due when less than half
// its life, or two days, is left: never right after it was minted.
func TestRenewalDueWithARefreshToken(t *testing.T) {
	created := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	day := tokenstore.Entry{Token: "t", RefreshToken: "r", CreatedAt: created, ExpiresAt: ExpiresAt(created, 24*time.Hour)} // lives 36 h
	week := tokenstore.Entry{Token: "t", RefreshToken: "r", CreatedAt: created, ExpiresAt: ExpiresAt(created, 7*24*time.Hour)}
	for _, c := range []struct {
		e   tokenstore.Entry
		at  time.Duration // after creation
		due bool
	}{
		{day, 0, false},
		{day, 17 * time.Hour, false},
		{day, 19 * time.Hour, true},
		{week, 0, false},
		{week, 5 * 24 * time.Hour, false},
		{week, 5*24*time.Hour + 13*time.Hour, true}, // under 48 h left
	} {
		if got := RenewalDue(c.e, created.Add(c.at)); got != c.due {
			t.Errorf("%s-token at +%s: due %v, want %v", c.e.ExpiresAt, c.at, got, c.due)
		}
	}
	if RenewalDue(tokenstore.Entry{Token: "t", CreatedAt: created, ExpiresAt: day.ExpiresAt}, created.Add(30*time.Hour)) {
		t.Errorf("a token that cannot be renewed is due")
	}
	if lifetime(week) != 7*24*time.Hour || lifetime(day) != 24*time.Hour || lifetime(tokenstore.Entry{}) != DefaultLifetime {
		t.Errorf("lifetimes %s %s", lifetime(week), lifetime(day))
	}
}

func TestBroadScopesAndEnvironment(t *testing.T) {
	if got := BroadScopes([]string{"k8s_proxy", "self_rotate", "api", "read_user", "write_repository", "sudo"}); strings.Join(got, ",") != "api,read_user,write_repository,sudo" {
		t.Errorf("BroadScopes = %v", got)
	}
	if got := BroadScopes([]string{"k8s_proxy"}); got != nil {
		t.Errorf("a narrow token has broad scopes %v", got)
	}
	env := map[string]string{"GITLAB_TOKEN": "broad"}
	get := func(k string) string { return env[k] }
	if tok, v := FromEnv(get); tok != "broad" || v != "GITLAB_TOKEN" {
		t.Errorf("FromEnv = %q %q", tok, v)
	}
	env["KUBECTL_GITLAB_TOKEN"] = "narrow"
	if tok, v := FromEnv(get); tok != "narrow" || v != "KUBECTL_GITLAB_TOKEN" {
		t.Errorf("FromEnv = %q %q", tok, v)
	}
	if d, ok := latestAllowed("Expires at must be before 2027-11-25"); !ok || d.String() != "2027-11-25" {
		t.Errorf("latestAllowed = %v %v", d, ok)
	}
	for _, m := range []string{"Expires at must be before soon", "Name can't be blank", "Expires at must be before 2027-11-25 and more"} {
		if _, ok := latestAllowed(m); ok {
			t.Errorf("latestAllowed(%q) found a day", m)
		}
	}
}
