package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// defaultGitLabURL is where login goes without --gitlab-url or $GITLAB_URL.
const defaultGitLabURL = "https://gitlab.com"

// tokenStoreUsage is the --token-store flag's help.
const tokenStoreUsage = "where personal access tokens are kept: auto (the OS keyring, else a 0600 file), keyring, file or none"

// configDir is kubectl-gitlab's directory under the user's config dir, as
// os.UserConfigDir finds it, but from the injected environment.
func (d *Deps) configDir() string {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = d.Getenv("AppData")
	case "darwin", "ios":
		if h := d.home(); h != "" {
			base = filepath.Join(h, "Library", "Application Support")
		}
	default:
		base = d.Getenv("XDG_CONFIG_HOME")
		if base == "" || !filepath.IsAbs(base) {
			base = filepath.Join(d.home(), ".config")
		}
	}
	return filepath.Join(base, "kubectl-gitlab")
}

// tokenStore opens the store of the given kind. notices gets auto mode's
// fallback notice (nil for get-token, which kubectl runs every time).
func (d *Deps) tokenStore(kind string, notices io.Writer) (tokenstore.Store, error) {
	s, err := tokenstore.Open(kind, tokenstore.Options{ConfigDir: d.configDir(), Notices: notices, Keyring: d.Keyring, Now: d.Now})
	if err != nil {
		return nil, badInput(fixable.FixOr(err, "use --token-store auto, keyring, file or none"), "%w", err)
	}
	return s, nil
}

// storedGitLabURL picks the GitLab URL when none is given: the only one
// with a stored token.
func storedGitLabURL(store tokenstore.Store) (string, error) {
	infos, err := store.List()
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
	return "", badInput("pass --gitlab-url (kubectl gitlab update-kubeconfig writes it into the exec entry)",
		"tokens are stored for several GitLab instances (%v): which one?", urls)
}

// rotateBefore is how long before expiry get-token rotates a token that may
// rotate itself (self_rotate scope).
const rotateBefore = 48 * time.Hour

// rotationDue reports whether a stored token should be rotated now.
func rotationDue(e tokenstore.Entry, now time.Time) bool {
	return e.SelfRotate && !e.ExpiresAt.IsZero() && e.ExpiresAt.UTCMidnight().Sub(now) < rotateBefore
}

// rotate replaces a token that is about to expire, under a lock so that
// kubectl commands running in parallel rotate once and all get the new
// token. When anything fails, the current token (still valid) is used.
func (d *Deps) rotate(store tokenstore.Store, url string, e tokenstore.Entry) tokenstore.Entry {
	sum := sha256.Sum256([]byte(url))
	lock, err := atomicfile.Acquire(filepath.Join(d.configDir(), "rotate-"+hex.EncodeToString(sum[:8])), 10*time.Second)
	if err != nil {
		return e
	}
	defer lock.Release()
	if fresh, err := store.Get(url); err == nil {
		e = fresh // another kubectl may have rotated it meanwhile
	}
	if !rotationDue(e, d.Now()) {
		return e
	}
	client, err := d.gitlabClient(url, gitlab.PrivateToken(e.Token), nil)
	if err != nil {
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next, err := client.RotatePersonalAccessToken(ctx)
	if err != nil || next.Token == "" {
		fmt.Fprintf(d.IO.ErrOut, "warning: could not rotate the token for %s, which expires %s: %v\n", url, e.ExpiresAt, err)
		return e
	}
	rotated, err := entryFromPAT(next.Token, next)
	if err != nil {
		return e
	}
	if err := store.Set(url, rotated); err != nil {
		// GitLab revoked the old token; use the new one now, but say that
		// it could not be kept.
		fmt.Fprintf(d.IO.ErrOut, "warning: rotated the token for %s but could not store the new one: %v; run kubectl gitlab login\n", url, err)
	}
	return rotated
}

// entryFromPAT is what login (and rotation) remember about a token.
func entryFromPAT(token string, p *gitlab.PersonalAccessToken) (tokenstore.Entry, error) {
	e := tokenstore.Entry{Token: token, TokenID: p.ID, TokenName: p.Name, Scopes: p.Scopes, SelfRotate: slices.Contains(p.Scopes, "self_rotate")}
	if p.ExpiresAt != nil {
		d, err := tokenstore.ParseDate(*p.ExpiresAt)
		if err != nil {
			return e, fmt.Errorf("GitLab's expires_at: %w", err)
		}
		e.ExpiresAt = d
	}
	return e, nil
}

// isNotFound tells a missing token from a store that does not work.
func isNotFound(err error) bool { return errors.Is(err, tokenstore.ErrNotFound) }
