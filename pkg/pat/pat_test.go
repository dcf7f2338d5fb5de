package pat

import (
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

func TestEntryAndRotationDue(t *testing.T) {
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
		if RotationDue(e, now) != due {
			t.Errorf("RotationDue at %s = %v", now, !due)
		}
	}
	e.SelfRotate = false
	if RotationDue(e, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a token without self_rotate is due")
	}
	bad := "31.12.2026"
	if _, err := Entry("glpat-x", &gitlab.PersonalAccessToken{ExpiresAt: &bad}); err == nil {
		t.Errorf("Entry accepted expires_at %q", bad)
	}
}
