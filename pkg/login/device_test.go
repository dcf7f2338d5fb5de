package login

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// dropPoll loses the connection of the n-th device poll.
type dropPoll struct {
	next  http.RoundTripper
	n     int
	polls int
}

func (d *dropPoll) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth/token" {
		if d.polls++; d.polls == d.n {
			return nil, syscall.ECONNRESET
		}
	}
	return d.next.RoundTrip(r)
}

// flow is a device flow against kas whose waits move both clocks; the
// person approves after approveAfter waits.
func flow(t *testing.T, kas *testkas.Server, transport http.RoundTripper, approveAfter int) (DeviceFlow, *[]time.Duration) {
	c, err := gitlab.NewClient(kas.URL, gitlab.Auth{}, transport, httpsafe.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	now := time.Now()
	var waits []time.Duration
	f := DeviceFlow{Client: c, ClientID: "app", Scopes: Scopes, Now: func() time.Time { return now }, Out: &bytes.Buffer{},
		Sleep: func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			now = now.Add(d)
			kas.AdvanceClock(d)
			if len(waits) == approveAfter {
				kas.Approve(kas.UserCodes()[0], "")
			}
			return ctx.Err()
		}}
	return f, &waits
}

func TestDeviceFlowRidesOutALostPoll(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{OAuthApps: []testkas.OAuthApp{{ClientID: "app"}}, Users: []testkas.User{{ID: 1, Username: "alice"}}})
	f, waits := flow(t, kas, &dropPoll{next: kas.Client().Transport, n: 2}, 3)
	tok, err := f.Run(context.Background())
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("Run = %v, %v", tok, err)
	}
	if len(*waits) != 3 {
		t.Errorf("waits %v: want a poll after each", *waits)
	}
}

func TestDeviceFlowGivesUpAtTheDeadline(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{OAuthApps: []testkas.OAuthApp{{ClientID: "app"}}, DeviceCodeExpiresIn: 20 * time.Second})
	// Every poll is lost: the flow must still end, at the code's expiry.
	f, waits := flow(t, kas, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/oauth/token" {
			return nil, syscall.ECONNREFUSED
		}
		return kas.Client().Transport.RoundTrip(r)
	}), 0)
	_, err := f.Run(context.Background())
	if !IsReason(err, ReasonExpired) || !strings.Contains(err.Error(), "GitLab keeps it 20s") {
		t.Fatalf("Run = %v", err)
	}
	if len(*waits) > 6 {
		t.Errorf("%d polls for a 20 s code with a 5 s interval", len(*waits))
	}
}

func TestDeviceFlowCancelled(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{OAuthApps: []testkas.OAuthApp{{ClientID: "app"}}})
	f, _ := flow(t, kas, kas.Client().Transport, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Run(ctx)
	if !IsReason(err, ReasonCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
