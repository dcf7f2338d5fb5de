// Package login is logging in to GitLab through a browser (login --web)
// and out again (logout): the OAuth 2.0 device authorization grant, the
// k8s_proxy token minted with it, what is kept and where, and revoking on
// GitLab what was minted. Clock, sleep, browser, output and GitLab
// clients come from the caller, so every branch runs in tests.
package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// Reason is why a login did not happen.
type Reason string

const (
	// ReasonBadClient: GitLab does not know the OAuth application, or it
	// is confidential, or lacks the api scope (bad input: exit code 2).
	ReasonBadClient Reason = "bad-client"
	// ReasonUnsupported: this GitLab has no device authorization grant.
	ReasonUnsupported Reason = "unsupported"
	// ReasonDenied: the person refused in the browser.
	ReasonDenied Reason = "denied"
	// ReasonExpired: the code expired before anyone approved it.
	ReasonExpired Reason = "expired"
	// ReasonCancelled: Ctrl-C (the context ended); nothing was kept.
	ReasonCancelled Reason = "cancelled"
)

// Error is a login that did not happen: why, and how to fix it.
type Error struct {
	Reason Reason
	msg    string
	fix    string
	err    error
}

func (e *Error) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

// Fix says what to do.
func (e *Error) Fix() string { return e.fix }

func (e *Error) Unwrap() error { return e.err }

// DeviceFlow is RFC 8628 against GitLab: ask for a code, show it, open
// the browser, poll until the person approves.
type DeviceFlow struct {
	// Client talks to GitLab without credentials.
	Client   *gitlab.Client
	ClientID string
	Scopes   []string
	Now      func() time.Time
	// Sleep waits, or returns the context's error when it ends first.
	Sleep func(context.Context, time.Duration) error
	// Out is where the person reads the URL and the code (stderr).
	Out io.Writer
	// OpenBrowser opens a URL; nil when there is no browser to open (no
	// display, over SSH, tests).
	OpenBrowser func(url string) error
	// Again is the command to run again after a denied or expired code;
	// "" means kubectl gitlab login --web.
	Again string
}

// Defaults of RFC 8628 §3.2/§3.5 for answers that leave them out.
const (
	defaultInterval  = 5 * time.Second
	defaultExpiresIn = 300 * time.Second
	slowDownStep     = 5 * time.Second
)

// Run returns the OAuth token once the person approved.
func (f DeviceFlow) Run(ctx context.Context) (*gitlab.OAuthToken, error) {
	url := f.Client.BaseURL().String()
	d, err := f.Client.AuthorizeDevice(ctx, f.ClientID, f.Scopes)
	switch {
	case ctx.Err() != nil:
		return nil, cancelled(ctx.Err())
	case err != nil:
		return nil, authorizeError(url, f.ClientID, err)
	}
	interval := time.Duration(d.Interval) * time.Second
	if interval <= 0 {
		interval = defaultInterval
	}
	lifetime := time.Duration(d.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = defaultExpiresIn
	}
	deadline := f.Now().Add(lifetime)
	fmt.Fprintf(f.Out, "To log in to %s, open %s\nand enter the code %s (it expires in %s).\n", url, d.VerificationURI, d.UserCode, minutes(lifetime))
	open := d.VerificationURIComplete
	if open == "" {
		open = d.VerificationURI
	}
	if f.OpenBrowser != nil {
		if err := f.OpenBrowser(open); err != nil {
			fmt.Fprintf(f.Out, "Could not open a browser (%v); open the URL yourself.\n", err)
		} else {
			fmt.Fprintln(f.Out, "Opened it in your browser.")
		}
	}
	fmt.Fprintln(f.Out, "Waiting for the approval (Ctrl-C cancels)…")

	// Each turn waits at least the interval, and the code dies at the
	// deadline, so the loop is bounded; the cap only guards a clock that
	// does not move.
	for turns := 0; turns < 10_000; turns++ {
		if err := f.Sleep(ctx, interval); err != nil {
			return nil, cancelled(err)
		}
		tok, err := f.Client.PollDeviceToken(ctx, f.ClientID, d.DeviceCode)
		switch code := gitlab.OAuthErrorCode(err); {
		case err == nil:
			return tok, nil
		case ctx.Err() != nil:
			return nil, cancelled(ctx.Err())
		case code == gitlab.OAuthAuthorizationPending:
		case code == gitlab.OAuthSlowDown:
			interval += slowDownStep // RFC 8628 §3.5: for this and every later poll
		case code == gitlab.OAuthAccessDenied:
			return nil, &Error{Reason: ReasonDenied, msg: "the login was denied in the browser",
				fix: "run " + f.again() + " again and choose Authorize"}
		case code == gitlab.OAuthExpiredToken, code == gitlab.OAuthInvalidGrant && !f.Now().Before(deadline):
			return nil, f.expired(lifetime)
		case isNetwork(err):
			// A lost poll is not a lost login: try again after the interval.
		default:
			return nil, err
		}
		if f.Now().After(deadline.Add(interval)) {
			return nil, f.expired(lifetime)
		}
	}
	return nil, f.expired(lifetime)
}

func (f DeviceFlow) expired(lifetime time.Duration) error {
	return &Error{Reason: ReasonExpired, msg: "the code expired before it was approved (GitLab keeps it " + minutes(lifetime) + ")",
		fix: "run " + f.again() + " again and approve within " + minutes(lifetime)}
}

func (f DeviceFlow) again() string {
	if f.Again == "" {
		return "kubectl gitlab login --web"
	}
	return f.Again
}

func cancelled(err error) error {
	return &Error{Reason: ReasonCancelled, msg: "login cancelled; nothing was kept", err: err}
}

func isNetwork(err error) bool {
	var netErr *gitlab.NetworkError
	return errors.As(err, &netErr)
}

func minutes(d time.Duration) string {
	if m := int(d.Round(time.Minute) / time.Minute); m >= 1 {
		if m == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", m)
	}
	return d.String()
}

// ApplicationsURL is where a user creates an OAuth application on the
// GitLab at url.
func ApplicationsURL(url string) string { return url + "/-/user_settings/applications" }

// createApp says how to make an application login --web can use.
func createApp(url string) string {
	return "create an OAuth application at " + ApplicationsURL(url) + ": any name (kubectl-gitlab), any redirect URI,\n" +
		"Confidential unticked, scope api; then pass its Application ID: kubectl gitlab login --web --client-id ID"
}

// authorizeError explains a refused POST /oauth/authorize_device.
func authorizeError(url, clientID string, err error) error {
	var apiErr *gitlab.APIError
	switch code := gitlab.OAuthErrorCode(err); {
	case code == gitlab.OAuthInvalidClient:
		return &Error{Reason: ReasonBadClient, err: err, fix: createApp(url),
			msg: fmt.Sprintf("GitLab does not accept the OAuth application %q: it does not exist there, or it is confidential (a command-line tool cannot keep its secret)", clientID)}
	case code == gitlab.OAuthInvalidScope:
		return &Error{Reason: ReasonBadClient, err: err, fix: "edit the application at " + ApplicationsURL(url) + " and tick the api scope (needed to mint the token)",
			msg: fmt.Sprintf("the OAuth application %q lacks the api scope", clientID)}
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return &Error{Reason: ReasonUnsupported, err: err,
			fix: "create a token with the k8s_proxy scope in GitLab and log in with it: kubectl gitlab login --token-stdin",
			msg: "this GitLab has no OAuth device authorization (it needs GitLab 17.3, or 17.2 with the oauth2_device_grant_flow feature flag)"}
	}
	return err
}
