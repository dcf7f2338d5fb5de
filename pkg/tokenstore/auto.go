package tokenstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// autoStore uses the OS keyring and falls back to the file store on any
// keyring error, saying so once. Reads look in the keyring, then the file.
type autoStore struct {
	keyring *keyringStore
	file    *fileStore
	notices io.Writer

	mu          sync.Mutex
	keyringDown bool // a keyring call failed: skip it from now on, it would fail (or wait) again
	noticed     bool
}

func newAutoStore(k *keyringStore, f *fileStore, notices io.Writer) *autoStore {
	return &autoStore{keyring: k, file: f, notices: notices}
}

func (s *autoStore) Kind() string { return KindAuto }
func (s *autoStore) Where() string {
	return keyringName() + ", else " + s.file.Where()
}

func (s *autoStore) useKeyring() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.keyringDown
}

// fallBack records why the keyring was not used and says so, once.
func (s *autoStore) fallBack(err error, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keyringDown = s.keyringDown || down
	if s.noticed {
		return
	}
	s.noticed = true
	var ke *KeyringError
	var tb *TooBigError
	switch {
	case errors.As(err, &tb):
		fmt.Fprintf(s.notices, "notice: the token does not fit %s (%s); keeping the token in %s (mode 0600)\n", tb.Keyring, tb.Reason(), s.file.Where())
	case errors.As(err, &ke):
		fmt.Fprintf(s.notices, "notice: no OS keyring (%s); keeping the token in %s (mode 0600)\n", ke.Reason(), s.file.Where())
	default:
		fmt.Fprintf(s.notices, "notice: not using the OS keyring (%s); keeping the token in %s (mode 0600)\n", oneLine(err.Error()), s.file.Where())
	}
}

func (s *autoStore) Get(rawURL string) (Entry, error) {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return Entry{}, err
	}
	if s.useKeyring() {
		e, err := s.keyring.Get(url)
		switch {
		case err == nil:
			return s.newer(url, e), nil
		case !errors.Is(err, ErrNotFound):
			s.fallBack(err, isKeyringDown(err))
		}
	}
	e, err := s.file.Get(url)
	if errors.Is(err, ErrNotFound) {
		return Entry{}, notFound(url, s.Where())
	}
	return e, err
}

// newer returns the file's entry instead of the keyring's when it was stored
// later: a login where the keyring was out of reach (over ssh, say) must not
// be shadowed by an older token in the keyring. One stat when there is no file.
func (s *autoStore) newer(url string, fromKeyring Entry) Entry {
	if _, err := os.Stat(s.file.Where()); err != nil {
		return fromKeyring
	}
	fromFile, err := s.file.Get(url)
	if err == nil && fromFile.StoredAt.After(fromKeyring.StoredAt) {
		return fromFile
	}
	return fromKeyring
}

func (s *autoStore) Set(rawURL string, e Entry) error {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	if s.useKeyring() {
		err := s.keyring.Set(url, e)
		if err == nil {
			// One place per token: drop an older copy from the file.
			if _, statErr := os.Stat(s.file.Where()); statErr == nil {
				if err := s.file.delete(url); err != nil && !errors.Is(err, ErrNotFound) {
					fmt.Fprintf(s.notices, "warning: stored the token for %s in %s, but could not remove the older one from %s: %s\n", url, s.keyring.Where(), s.file.Where(), oneLine(err.Error()))
				}
			}
			return nil
		}
		var tb *TooBigError
		if !errors.As(err, &tb) && !isKeyringDown(err) {
			return err // bad input, not a keyring problem
		}
		if e.RefreshToken != "" {
			return refreshTokenRefused(url, "the OS keyring cannot be used ("+oneLine(err.Error())+")")
		}
		s.fallBack(err, tb == nil)
	}
	return s.file.Set(url, e) // which refuses a refresh token
}

func (s *autoStore) Delete(rawURL string) error {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	var keyringErr error
	deleted := false
	if s.useKeyring() {
		switch err := s.keyring.Delete(url); {
		case err == nil:
			deleted = true
		case !errors.Is(err, ErrNotFound):
			keyringErr = err
			s.fallBack(err, isKeyringDown(err))
		}
	}
	switch err := s.file.Delete(url); {
	case err == nil:
		deleted = true
	case !errors.Is(err, ErrNotFound):
		return err
	}
	switch {
	case deleted:
		return nil
	case keyringErr != nil:
		// The file had none; the keyring might, but we cannot tell.
		return keyringErr
	}
	return notFound(url, s.Where())
}

func (s *autoStore) List() ([]Info, error) {
	fromKeyring, err := s.keyring.List() // the index: no keyring call
	if err != nil {
		return nil, err
	}
	fromFile, err := s.file.List()
	if err != nil {
		return nil, err
	}
	infos := append(fromKeyring, fromFile...)
	sortInfos(infos)
	return infos, nil
}

// isKeyringDown tells an error of the keyring itself from a bad entry.
func isKeyringDown(err error) bool {
	var ke *KeyringError
	return errors.As(err, &ke)
}
