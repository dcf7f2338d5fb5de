package tokenstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// Beside the tokens, the config dir keeps small files without a secret
// in them: the OAuth application login --web uses for each GitLab
// instance, where each instance's KAS is, and which tokens were already
// warned about for their broad scopes.

// OAuthAppsFileName remembers, per GitLab URL, the client ID of the
// OAuth application login --web uses (not a secret: GitLab shows it to
// anyone who uses the application).
const OAuthAppsFileName = "oauth-applications.json"

type oauthApp struct {
	ClientID string `json:"client_id"`
}

// OAuthApps is the file that remembers each instance's OAuth application.
type OAuthApps struct{ apps perInstance[oauthApp] }

// NewOAuthApps is the file in configDir.
func NewOAuthApps(configDir string) OAuthApps {
	return OAuthApps{apps: newPerInstance[oauthApp](configDir, OAuthAppsFileName, "applications")}
}

// Where is the file's path.
func (a OAuthApps) Where() string { return a.apps.file.path }

// ClientID is the remembered client ID for the GitLab at url, or "".
func (a OAuthApps) ClientID(url string) (string, error) {
	app, err := a.apps.get(url)
	return app.ClientID, err
}

// Remember keeps clientID for the GitLab at url.
func (a OAuthApps) Remember(url, clientID string) error {
	return a.apps.set(url, oauthApp{ClientID: clientID}, func(old oauthApp) bool { return old.ClientID == clientID })
}

// perInstance is a small file without a secret that remembers one value
// per GitLab instance, under its canonical URL:
// {"version":1,"<key>":{"<url>":<value>}}.
type perInstance[T any] struct {
	file lockedJSONFile
	key  string
}

func newPerInstance[T any](configDir, name, key string) perInstance[T] {
	return perInstance[T]{file: lockedJSONFile{path: filepath.Join(configDir, name), lockTimeout: DefaultLockTimeout}, key: key}
}

// values reads the map under p.key out of doc.
func (p perInstance[T]) values(doc map[string]json.RawMessage) (map[string]T, error) {
	values := map[string]T{}
	if raw, ok := doc[p.key]; ok {
		if err := json.Unmarshal(raw, &values); err != nil || values == nil {
			return map[string]T{}, fixable.Errorf("repair it, or remove it", "cannot read %s: not the JSON that kubectl-gitlab writes", p.file.path)
		}
	}
	return values, nil
}

// get is the value for the GitLab at url; zero when there is none.
func (p perInstance[T]) get(url string) (T, error) {
	var zero T
	url, err := gitlab.NormalizeURL(url)
	if err != nil {
		return zero, err
	}
	var doc map[string]json.RawMessage
	if _, err := p.file.read(&doc); err != nil {
		return zero, err
	}
	values, err := p.values(doc)
	return values[url], err
}

// set keeps v for the GitLab at url, unless same says the value there
// is already v.
func (p perInstance[T]) set(url string, v T, same func(old T) bool) error {
	url, err := gitlab.NormalizeURL(url)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	return p.file.update(&doc, func(bool) (bool, error) {
		values, err := p.values(doc)
		if err != nil {
			return false, err
		}
		if old, ok := values[url]; ok && same(old) {
			return false, nil
		}
		values[url] = v
		raw, err := json.Marshal(values)
		if err != nil {
			return false, err
		}
		if doc == nil {
			doc = map[string]json.RawMessage{}
		}
		doc["version"], doc[p.key] = json.RawMessage("1"), raw
		return true, nil
	})
}

// WarnedFileName lists the fingerprints of tokens whose broad scopes
// get-token has warned about, so that it warns once per token.
const WarnedFileName = "warned-tokens.json"

type warnedDoc struct {
	Version int                  `json:"version"`
	Tokens  map[string]time.Time `json:"tokens"` // fingerprint → when
}

// Fingerprint names a token without revealing it: the first 16 hex
// digits of its SHA-256.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// FirstWarning records that the token's scopes were warned about and
// reports whether this is the first time. Parallel callers for one token
// get true once: the file is updated under its lock.
func FirstWarning(configDir, token string, now time.Time) (bool, error) {
	f := lockedJSONFile{path: filepath.Join(configDir, WarnedFileName), lockTimeout: DefaultLockTimeout}
	fp := Fingerprint(token)
	var doc warnedDoc
	if _, err := f.read(&doc); err == nil {
		if _, seen := doc.Tokens[fp]; seen {
			return false, nil // the common case, without the lock
		}
	}
	first := false
	err := f.update(&doc, func(bool) (bool, error) {
		if _, seen := doc.Tokens[fp]; seen {
			return false, nil
		}
		if doc.Tokens == nil {
			doc.Tokens = map[string]time.Time{}
		}
		doc.Version = 1
		doc.Tokens[fp] = now.UTC()
		first = true
		return true, nil
	})
	return first, err
}

// KASURLsFileName remembers, per GitLab URL, KAS's k8s-proxy URL as
// GitLab's /api/v4/metadata gave it to login --web (not a secret: the
// URL every agent context of the instance points at). update-kubeconfig
// uses it, since the token login --web keeps may not read /metadata.
const KASURLsFileName = "kas-urls.json"

// KASURL is a recorded k8s-proxy URL and when it was recorded.
type KASURL struct {
	URL        string    `json:"k8s_proxy_url"`
	RecordedAt time.Time `json:"recorded_at"`
}

// KASURLs is the file that remembers each instance's k8s-proxy URL.
type KASURLs struct{ urls perInstance[KASURL] }

// NewKASURLs is the file in configDir.
func NewKASURLs(configDir string) KASURLs {
	return KASURLs{urls: newPerInstance[KASURL](configDir, KASURLsFileName, "instances")}
}

// Where is the file's path.
func (k KASURLs) Where() string { return k.urls.file.path }

// Get is the URL recorded for the GitLab at url; zero when none is.
func (k KASURLs) Get(url string) (KASURL, error) { return k.urls.get(url) }

// Record keeps proxyURL for the GitLab at url.
func (k KASURLs) Record(url, proxyURL string, now time.Time) error {
	return k.urls.set(url, KASURL{URL: proxyURL, RecordedAt: now.UTC()}, func(old KASURL) bool { return old.URL == proxyURL })
}
