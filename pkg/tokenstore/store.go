// Package tokenstore keeps GitLab personal access tokens (PATs) on a
// workstation, one per GitLab URL: in the OS keyring (go-keyring), in a 0600
// file under the user's config dir, or nowhere. An OAuth refresh token kept
// with one goes to the keyring only. Beside them, two files without a secret
// remember each instance's OAuth application and the broad tokens already
// warned about (remembered.go).
//
// No work is done at package init and Open does no I/O: get-token opens a
// store on every kubectl command, so all work waits for the first call.
// No token ever appears in an error, a notice or fmt output of an Entry.
package tokenstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// Store keeps at most one token entry per GitLab instance, under the
// canonical form of its URL (gitlab.NormalizeURL).
type Store interface {
	// Get returns the entry for url, or an error that wraps ErrNotFound.
	Get(url string) (Entry, error)
	// Set stores e for url, replacing any earlier entry. A zero
	// e.StoredAt is set to the current time.
	Set(url string, e Entry) error
	// Delete removes the entry for url, or returns an error that wraps
	// ErrNotFound when there is none.
	Delete(url string) error
	// List describes the stored entries, sorted by URL; never the tokens.
	List() ([]Info, error)
	// Kind is one of KindAuto, KindKeyring, KindFile, KindNone.
	Kind() string
	// Where says where tokens are kept, for people: a path, or which keyring.
	Where() string
}

// Kinds of store, as the --token-store flag spells them.
const (
	KindAuto    = "auto"
	KindKeyring = "keyring"
	KindFile    = "file"
	KindNone    = "none"
)

// Kinds lists the values Open accepts, for flag help and completion.
func Kinds() []string { return []string{KindAuto, KindKeyring, KindFile, KindNone} }

// ErrNotFound is wrapped by Get and Delete when no token is stored for a URL.
var ErrNotFound = errors.New("no token stored")

// ServiceName is the keyring service under which tokens are kept; the
// keyring user is the normalised GitLab URL.
const ServiceName = "kubectl-gitlab"

// Defaults for Options.
const (
	DefaultKeyringTimeout = 3 * time.Second
	DefaultLockTimeout    = 10 * time.Second
)

// Options configures Open. The zero value is what the plugin uses.
type Options struct {
	// ConfigDir holds tokens.json and keyring-index.json; empty means
	// os.UserConfigDir()/kubectl-gitlab.
	ConfigDir string
	// Notices receives the one line that auto mode writes when it falls
	// back from the keyring to the file, and warnings; nil discards them.
	// login wants them on stderr; get-token, which kubectl runs before
	// every command and whose stderr kubectl shows, would repeat the same
	// line each time on a machine without a keyring.
	Notices io.Writer
	// Keyring replaces the OS keyring (tests); nil means go-keyring.
	Keyring KeyringBackend
	// KeyringTimeout bounds every keyring call, because go-keyring can hang
	// on a D-Bus without a Secret Service or a locked keyring waiting for a
	// prompt that no one sees. Zero means DefaultKeyringTimeout.
	KeyringTimeout time.Duration
	// LockTimeout bounds the wait for another writer of a file. Zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Now stamps Entry.StoredAt; nil means time.Now.
	Now func() time.Time
}

// Open returns the store of the given kind ("" means auto). It does no I/O.
func Open(kind string, opts Options) (Store, error) {
	if opts.Notices == nil {
		opts.Notices = io.Discard
	}
	if opts.KeyringTimeout <= 0 {
		opts.KeyringTimeout = DefaultKeyringTimeout
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch kind {
	case KindNone:
		return noneStore{}, nil
	case KindFile, KindKeyring, KindAuto, "":
	default:
		return nil, fmt.Errorf("unknown token store %q: use one of %s", kind, strings.Join(Kinds(), ", "))
	}

	dir, dirErr := configDir(opts.ConfigDir)
	switch kind {
	case KindFile:
		if dirErr != nil {
			return nil, dirErr
		}
		return newFileStore(dir, opts), nil
	case KindKeyring:
		// The keyring works without a config dir; only List (the index) needs it.
		return newKeyringStore(dir, dirErr, opts), nil
	default:
		if dirErr != nil {
			return nil, dirErr
		}
		return newAutoStore(newKeyringStore(dir, nil, opts), newFileStore(dir, opts), opts.Notices), nil
	}
}

func configDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fixable.Errorf("set HOME (or XDG_CONFIG_HOME), or use --token-store=keyring",
			"cannot find the user's config directory to keep tokens in: %w", err)
	}
	return filepath.Join(base, "kubectl-gitlab"), nil
}

// Entry is one stored token and what login learnt about it.
type Entry struct {
	// Token is the personal access token itself: the only secret here.
	Token string `json:"token"`
	// TokenID and TokenName identify the token in GitLab (PAT self API).
	TokenID   int64  `json:"token_id,omitempty"`
	TokenName string `json:"token_name,omitempty"`
	// Scopes the token had at login, e.g. ["k8s_proxy"].
	Scopes []string `json:"scopes,omitempty"`
	// ExpiresAt is GitLab's expires_at day; the token stops working at
	// 00:00 UTC of that day (see Date.UTCMidnight). Zero: never expires.
	ExpiresAt Date `json:"expires_at,omitzero"`
	// SelfRotate tells that the token may rotate itself (self_rotate scope).
	SelfRotate bool `json:"self_rotate,omitempty"`
	// CreatedAt is when GitLab created the token, if known.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// StoredAt is when this entry was stored.
	StoredAt time.Time `json:"stored_at,omitzero"`
	// Origin is how the token came: OriginWeb (login --web minted it)
	// or OriginPasted (the user gave it; also "", from older versions).
	Origin string `json:"origin,omitempty"`
	// User is the GitLab user the token belongs to, when known.
	User string `json:"user,omitempty"`
	// ClientID is the OAuth application login --web used: refreshing and
	// revoking its tokens name it.
	ClientID string `json:"client_id,omitempty"`
	// RefreshToken is an OAuth refresh token (scope api) kept at the
	// user's request, so that an expiring token is replaced without a
	// browser. A secret broader than Token: only the OS keyring keeps it.
	RefreshToken string `json:"refresh_token,omitempty"`
}

// Origins of a token.
const (
	OriginWeb    = "web"
	OriginPasted = "pasted"
)

// Minted tells a token that login --web minted (and logout revokes) from
// one the user pasted.
func (e Entry) Minted() bool { return e.Origin == OriginWeb }

// String hides the secrets so that printing an Entry by mistake leaks nothing.
func (e Entry) String() string {
	return fmt.Sprintf("{token:[redacted] id:%d name:%q scopes:%v expires_at:%s origin:%s refresh_token_kept:%t}",
		e.TokenID, e.TokenName, e.Scopes, e.ExpiresAt, e.Origin, e.RefreshToken != "")
}

// GoString hides the token from %#v as well.
func (e Entry) GoString() string { return "tokenstore.Entry" + e.String() }

func (e Entry) info(url, kind, where string) Info {
	origin := e.Origin
	if origin == "" {
		origin = OriginPasted
	}
	return Info{
		URL: url, Kind: kind, Where: where,
		TokenID: e.TokenID, TokenName: e.TokenName, Scopes: e.Scopes,
		ExpiresAt: e.ExpiresAt, SelfRotate: e.SelfRotate, StoredAt: e.StoredAt,
		CreatedAt: e.CreatedAt, Origin: origin, User: e.User, RefreshTokenKept: e.RefreshToken != "",
	}
}

// Info describes a stored entry without its token.
type Info struct {
	URL        string    `json:"url"`
	Kind       string    `json:"kind,omitempty"`  // KindKeyring or KindFile
	Where      string    `json:"where,omitempty"` // which keyring, or the file's path
	TokenID    int64     `json:"token_id,omitempty"`
	TokenName  string    `json:"token_name,omitempty"`
	Scopes     []string  `json:"scopes,omitempty"`
	ExpiresAt  Date      `json:"expires_at,omitzero"`
	SelfRotate bool      `json:"self_rotate,omitempty"`
	StoredAt   time.Time `json:"stored_at,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	Origin     string    `json:"origin,omitempty"` // OriginWeb or OriginPasted
	User       string    `json:"user,omitempty"`
	// RefreshTokenKept: an OAuth refresh token is kept with the token.
	RefreshTokenKept bool `json:"refresh_token_kept,omitempty"`
}

// prepareSet normalises the URL, refuses an empty token and stamps
// StoredAt: what every store's Set does first.
func prepareSet(rawURL string, e Entry, now func() time.Time) (string, Entry, error) {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return "", e, err
	}
	if e.Token == "" {
		return "", e, fmt.Errorf("refusing to store an empty token for %s", url)
	}
	if e.StoredAt.IsZero() {
		e.StoredAt = now().UTC()
	}
	return url, e, nil
}

// ErrRefreshTokenNeedsKeyring is wrapped by a Set that would keep an
// OAuth refresh token anywhere but the OS keyring.
var ErrRefreshTokenNeedsKeyring = errors.New("an OAuth refresh token is kept only in the OS keyring")

func refreshTokenRefused(url, why string) error {
	return fixable.Errorf("log in without --keep-refresh-token: only the k8s_proxy token is then kept, and it may go to a 0600 file",
		"cannot keep the refresh token for %s: %w, and %s", url, ErrRefreshTokenNeedsKeyring, why)
}

func notFound(url, where string) error {
	return fmt.Errorf("%w for %s in %s", ErrNotFound, url, where)
}

// noneStore keeps nothing: the token comes from $GITLAB_TOKEN every time.
type noneStore struct{}

func (noneStore) Get(url string) (Entry, error) { return Entry{}, notFound(url, "--token-store=none") }
func (noneStore) Set(url string, _ Entry) error {
	return fixable.Errorf("pass the token in $GITLAB_TOKEN on every call, or choose --token-store=auto, keyring or file",
		"cannot store the token for %s: --token-store=none keeps no tokens", url)
}
func (noneStore) Delete(url string) error { return notFound(url, "--token-store=none") }
func (noneStore) List() ([]Info, error)   { return nil, nil }
func (noneStore) Kind() string            { return KindNone }
func (noneStore) Where() string           { return "nowhere (tokens come from $GITLAB_TOKEN)" }

// SoleURL is the GitLab URL to use when none is given: the only one with a
// stored token; "" when none has one.
func SoleURL(s Store) (string, error) {
	infos, err := s.List()
	if err != nil {
		return "", err
	}
	switch len(infos) {
	case 0:
		return "", nil
	case 1:
		return infos[0].URL, nil
	}
	var urls []string
	for _, i := range infos {
		urls = append(urls, i.URL)
	}
	return "", &SeveralURLsError{URLs: urls}
}

// SeveralURLsError is a GitLab URL left out where tokens of several
// instances are stored.
type SeveralURLsError struct{ URLs []string }

func (e *SeveralURLsError) Error() string {
	return fmt.Sprintf("tokens are stored for several GitLab instances (%v): which one?", e.URLs)
}

// Fix says how to name one.
func (e *SeveralURLsError) Fix() string {
	return "pass --gitlab-url (kubectl gitlab update-kubeconfig writes it into the exec entry)"
}

// WhereIs says where the store keeps url's token, for people.
func WhereIs(s Store, url string) string {
	if infos, err := s.List(); err == nil {
		for _, i := range infos {
			if i.URL == url && i.Where != "" {
				return i.Where
			}
		}
	}
	return s.Where()
}
