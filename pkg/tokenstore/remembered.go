package tokenstore

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// Beside the tokens, the config dir keeps two small files without a
// secret in them: the OAuth application login --web uses for each GitLab
// instance, and which tokens were already warned about for their broad
// scopes.

// OAuthAppsFileName remembers, per GitLab URL, the client ID of the
// OAuth application login --web uses (not a secret: GitLab shows it to
// anyone who uses the application).
const OAuthAppsFileName = "oauth-applications.json"

type oauthAppsDoc struct {
	Version      int                 `json:"version"`
	Applications map[string]oauthApp `json:"applications"`
}

type oauthApp struct {
	ClientID string `json:"client_id"`
}

// OAuthApps is the file that remembers each instance's OAuth application.
type OAuthApps struct{ file lockedJSONFile }

// NewOAuthApps is the file in configDir.
func NewOAuthApps(configDir string) OAuthApps {
	return OAuthApps{file: lockedJSONFile{path: filepath.Join(configDir, OAuthAppsFileName), lockTimeout: DefaultLockTimeout}}
}

// Where is the file's path.
func (a OAuthApps) Where() string { return a.file.path }

// ClientID is the remembered client ID for the GitLab at url, or "".
func (a OAuthApps) ClientID(url string) (string, error) {
	url, err := gitlab.NormalizeURL(url)
	if err != nil {
		return "", err
	}
	var doc oauthAppsDoc
	if _, err := a.file.read(&doc); err != nil {
		return "", err
	}
	return doc.Applications[url].ClientID, nil
}

// Remember keeps clientID for the GitLab at url.
func (a OAuthApps) Remember(url, clientID string) error {
	url, err := gitlab.NormalizeURL(url)
	if err != nil {
		return err
	}
	var doc oauthAppsDoc
	return a.file.update(&doc, func(bool) (bool, error) {
		if doc.Applications[url].ClientID == clientID {
			return false, nil
		}
		if doc.Applications == nil {
			doc.Applications = map[string]oauthApp{}
		}
		doc.Version = 1
		doc.Applications[url] = oauthApp{ClientID: clientID}
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

type kasURLsDoc struct {
	Version   int               `json:"version"`
	Instances map[string]KASURL `json:"instances"`
}

// KASURL is a recorded k8s-proxy URL and when it was recorded.
type KASURL struct {
	URL        string    `json:"k8s_proxy_url"`
	RecordedAt time.Time `json:"recorded_at"`
}

// KASURLs is the file that remembers each instance's k8s-proxy URL.
type KASURLs struct{ file lockedJSONFile }

// NewKASURLs is the file in configDir.
func NewKASURLs(configDir string) KASURLs {
	return KASURLs{file: lockedJSONFile{path: filepath.Join(configDir, KASURLsFileName), lockTimeout: DefaultLockTimeout}}
}

// Where is the file's path.
func (k KASURLs) Where() string { return k.file.path }

// Get is the URL recorded for the GitLab at url; zero when none is.
func (k KASURLs) Get(url string) (KASURL, error) {
	url, err := gitlab.NormalizeURL(url)
	if err != nil {
		return KASURL{}, err
	}
	var doc kasURLsDoc
	if _, err := k.file.read(&doc); err != nil {
		return KASURL{}, err
	}
	return doc.Instances[url], nil
}

// Record keeps proxyURL for the GitLab at url.
func (k KASURLs) Record(url, proxyURL string, now time.Time) error {
	url, err := gitlab.NormalizeURL(url)
	if err != nil {
		return err
	}
	var doc kasURLsDoc
	return k.file.update(&doc, func(bool) (bool, error) {
		if doc.Instances[url].URL == proxyURL {
			return false, nil
		}
		if doc.Instances == nil {
			doc.Instances = map[string]KASURL{}
		}
		doc.Version = 1
		doc.Instances[url] = KASURL{URL: proxyURL, RecordedAt: now.UTC()}
		return true, nil
	})
}
