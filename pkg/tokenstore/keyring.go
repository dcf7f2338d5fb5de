package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// KeyringIndexFileName lists, without secrets, the URLs whose tokens are in
// the keyring: go-keyring cannot enumerate items, and List needs them.
const KeyringIndexFileName = "keyring-index.json"

type keyringIndex struct {
	Version int             `json:"version"`
	Entries map[string]Info `json:"entries"`
}

// keyringStore keeps each entry as one keyring item: service ServiceName,
// user the normalised URL, secret the entry as compact JSON.
type keyringStore struct {
	backend  KeyringBackend
	index    *lockedJSONFile // nil when there is no config dir
	indexErr error           // why index is nil
	notices  io.Writer
	now      func() time.Time
	goos     string
}

// newKeyringStore keeps its index in dir, or has none when dirErr says why
// there is no dir.
func newKeyringStore(dir string, dirErr error, opts Options) *keyringStore {
	backend := opts.Keyring
	if backend == nil {
		backend = OSKeyring{}
	}
	s := &keyringStore{
		backend: timeoutKeyring{next: backend, timeout: opts.KeyringTimeout},
		notices: opts.Notices,
		now:     opts.Now,
		goos:    runtime.GOOS,
	}
	if dirErr != nil {
		s.indexErr = dirErr
	} else {
		s.index = &lockedJSONFile{path: filepath.Join(dir, KeyringIndexFileName), lockTimeout: opts.LockTimeout}
	}
	return s
}

func (s *keyringStore) Kind() string  { return KindKeyring }
func (s *keyringStore) Where() string { return keyringName() }

func (s *keyringStore) Get(rawURL string) (Entry, error) {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return Entry{}, err
	}
	secret, err := s.backend.Get(ServiceName, url)
	if errors.Is(err, keyring.ErrNotFound) {
		return Entry{}, notFound(url, s.Where())
	}
	if err != nil {
		return Entry{}, &KeyringError{Op: "read the token for " + url + " from", Keyring: s.Where(), Err: err}
	}
	var e Entry
	if json.Unmarshal([]byte(secret), &e) != nil || e.Token == "" {
		// Never quote the item: it is a secret, whatever its shape.
		return Entry{}, fixable.Errorf("log in again to replace it (kubectl gitlab login)",
			"the item for %s in %s (service %q) is not one that kubectl-gitlab wrote", url, s.Where(), ServiceName)
	}
	return e, nil
}

func (s *keyringStore) Set(rawURL string, e Entry) error {
	url, e, err := prepareSet(rawURL, e, s.now)
	if err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	secret := string(data)
	if used, limit := keyringCapacity(s.goos, ServiceName, url, secret); used > limit {
		return &TooBigError{URL: url, Keyring: s.Where(), Size: used, Limit: limit}
	}
	if err := s.backend.Set(ServiceName, url, secret); err != nil {
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			return &TooBigError{URL: url, Keyring: s.Where(), Size: len(secret)}
		}
		return &KeyringError{Op: "store the token for " + url + " in", Keyring: s.Where(), Err: redact(err, e.Token, secret)}
	}
	s.updateIndex(url, func(entries map[string]Info) bool {
		entries[url] = e.info(url, "", "")
		return true
	})
	return nil
}

func (s *keyringStore) Delete(rawURL string) error {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	err = s.backend.Delete(ServiceName, url)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return &KeyringError{Op: "remove the token for " + url + " from", Keyring: s.Where(), Err: err}
	}
	found := err == nil
	s.updateIndex(url, func(entries map[string]Info) bool {
		_, listed := entries[url]
		delete(entries, url)
		found = found || listed // an index entry whose item went away still counts: it is gone now
		return listed
	})
	if !found {
		return notFound(url, s.Where())
	}
	return nil
}

func (s *keyringStore) List() ([]Info, error) {
	if s.index == nil {
		return nil, fmt.Errorf("cannot list the tokens in %s: %w", s.Where(), s.indexErr)
	}
	var idx keyringIndex
	if _, err := s.index.read(&idx); err != nil {
		return nil, err
	}
	infos := make([]Info, 0, len(idx.Entries))
	for url, in := range idx.Entries {
		in.URL, in.Kind, in.Where = url, KindKeyring, s.Where()
		infos = append(infos, in)
	}
	sortInfos(infos)
	return infos, nil
}

// updateIndex records a change in the index. The token itself is already
// stored (or removed), which is what get-token needs, so a failure here is
// a warning, not an error.
func (s *keyringStore) updateIndex(url string, change func(map[string]Info) bool) {
	if s.index == nil {
		return
	}
	var idx keyringIndex
	err := s.index.update(&idx, func(bool) (bool, error) {
		if idx.Entries == nil {
			idx.Entries = map[string]Info{}
		}
		idx.Version = 1
		return change(idx.Entries), nil
	})
	if err != nil {
		fmt.Fprintf(s.notices, "warning: could not update the list of keyring tokens (%s) for %s: %s\n", s.index.path, url, oneLine(err.Error()))
	}
}

// KeyringError says that the OS keyring could not be used at all, as
// opposed to not holding the token (ErrNotFound).
type KeyringError struct {
	Op      string // what was being done, e.g. "store the token for https://gitlab.example.com in"
	Keyring string // which keyring
	Err     error  // why; never carries the token
}

func (e *KeyringError) Error() string {
	return fmt.Sprintf("cannot %s %s: %s", e.Op, e.Keyring, e.Reason())
}

// Fix says how to get a keyring, or to do without.
func (e *KeyringError) Fix() string { return keyringFix() }

// Reason is the cause on one line, for auto mode's notice.
func (e *KeyringError) Reason() string { return oneLine(e.Err.Error()) }

func (e *KeyringError) Unwrap() error { return e.Err }

// TooBigError says that an entry does not fit the OS keyring.
type TooBigError struct {
	URL     string
	Keyring string
	Size    int // bytes the entry needs there
	Limit   int // bytes that fit; 0 when only go-keyring knew
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("cannot store the token for %s in %s: %s", e.URL, e.Keyring, e.Reason())
}

// Fix says where the token fits.
func (e *TooBigError) Fix() string {
	return "keep it in a file with --token-store=file (or give the token a shorter name)"
}

// Reason is the cause on one line, for auto mode's notice.
func (e *TooBigError) Reason() string {
	if e.Limit == 0 {
		return fmt.Sprintf("the entry (token, name, scopes and URL: %d bytes) is too big for it", e.Size)
	}
	return fmt.Sprintf("the entry (token, name, scopes and URL) needs %d bytes there, more than the %d that fit", e.Size, e.Limit)
}

// redact keeps secrets out of an error from below, should it quote them.
func redact(err error, secrets ...string) error {
	msg := err.Error()
	leaked := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg, leaked = strings.ReplaceAll(msg, s, "[redacted]"), true
		}
	}
	if !leaked {
		return err
	}
	return errors.New(msg)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
