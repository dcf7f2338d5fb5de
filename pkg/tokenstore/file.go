package tokenstore

import (
	"path/filepath"
	"sort"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// TokenFileName is the file store's file under the config dir.
const TokenFileName = "tokens.json"

// tokenFile is the document in tokens.json.
type tokenFile struct {
	Version int              `json:"version"`
	Tokens  map[string]Entry `json:"tokens"`
}

const tokenFileVersion = 1

// fileStore keeps all tokens in one 0600 JSON file.
type fileStore struct {
	file lockedJSONFile
	now  func() time.Time
}

func newFileStore(dir string, opts Options) *fileStore {
	return &fileStore{
		file: lockedJSONFile{path: filepath.Join(dir, TokenFileName), private: true, lockTimeout: opts.LockTimeout},
		now:  opts.Now,
	}
}

func (s *fileStore) Kind() string  { return KindFile }
func (s *fileStore) Where() string { return s.file.path }

func (s *fileStore) load() (tokenFile, bool, error) {
	var doc tokenFile
	exists, err := s.file.read(&doc)
	if err == nil {
		err = s.checkVersion(doc)
	}
	return doc, exists, err
}

func (s *fileStore) checkVersion(doc tokenFile) error {
	if doc.Version > tokenFileVersion {
		return fixable.Errorf("upgrade kubectl-gitlab",
			"cannot use %s: it was written by a newer kubectl-gitlab (format version %d, this one knows %d)", s.file.path, doc.Version, tokenFileVersion)
	}
	return nil
}

func (s *fileStore) Get(rawURL string) (Entry, error) {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return Entry{}, err
	}
	doc, _, err := s.load()
	if err != nil {
		return Entry{}, err
	}
	e, ok := doc.Tokens[url]
	if !ok {
		return Entry{}, notFound(url, s.file.path)
	}
	return e, nil
}

func (s *fileStore) Set(rawURL string, e Entry) error {
	url, e, err := prepareSet(rawURL, e, s.now)
	if err != nil {
		return err
	}
	if e.RefreshToken != "" {
		return refreshTokenRefused(url, "--token-store file keeps tokens in "+s.file.path)
	}
	var doc tokenFile
	return s.file.update(&doc, func(bool) (bool, error) {
		if err := s.checkVersion(doc); err != nil {
			return false, err
		}
		if doc.Tokens == nil {
			doc.Tokens = map[string]Entry{}
		}
		doc.Version = tokenFileVersion
		doc.Tokens[url] = e
		return true, nil
	})
}

func (s *fileStore) Delete(rawURL string) error {
	url, err := gitlab.NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	return s.delete(url)
}

func (s *fileStore) delete(url string) error {
	var doc tokenFile
	return s.file.update(&doc, func(bool) (bool, error) {
		if err := s.checkVersion(doc); err != nil {
			return false, err
		}
		if _, ok := doc.Tokens[url]; !ok {
			return false, notFound(url, s.file.path)
		}
		delete(doc.Tokens, url)
		return true, nil
	})
}

func (s *fileStore) List() ([]Info, error) {
	doc, _, err := s.load()
	if err != nil {
		return nil, err
	}
	infos := make([]Info, 0, len(doc.Tokens))
	for url, e := range doc.Tokens {
		infos = append(infos, e.info(url, KindFile, s.file.path))
	}
	sortInfos(infos)
	return infos, nil
}

func sortInfos(infos []Info) {
	sort.Slice(infos, func(i, j int) bool {
		if infos[i].URL != infos[j].URL {
			return infos[i].URL < infos[j].URL
		}
		return infos[i].Kind < infos[j].Kind
	})
}
