package cmd

import (
	"testing"
	"time"
)

// FuzzTokenExpiry: --token-expiry takes days ("7d") or a Go duration of
// at least a day, and what it prints reads back as the same span.
func FuzzTokenExpiry(f *testing.F) {
	for _, s := range []string{"7d", "30d", "36h", "24h", "12h", "0d", "-1d", "d", "1.5d", "9223372036854775807d", "1e3h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d time.Duration
		v := &lifetimeValue{p: &d}
		if err := v.Set(s); err != nil {
			return
		}
		if d < 24*time.Hour {
			t.Fatalf("%q gave %s, under a day", s, d)
		}
		var again time.Duration
		if err := (&lifetimeValue{p: &again}).Set(v.String()); err != nil || again != d {
			t.Fatalf("%q -> %s -> %q -> %s, %v", s, d, v.String(), again, err)
		}
	})
}
