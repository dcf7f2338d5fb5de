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
