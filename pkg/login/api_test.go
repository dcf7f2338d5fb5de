package login

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

type mapKeyring map[string]string

func (m mapKeyring) Get(service, user string) (string, error) {
	if v, ok := m[service+"/"+user]; ok {
		return v, nil
	}
	return "", keyring.ErrNotFound
}
func (m mapKeyring) Set(service, user, secret string) error { m[service+"/"+user] = secret; return nil }
func (m mapKeyring) Delete(service, user string) error      { delete(m, service+"/"+user); return nil }

// refusingSet is a store that cannot keep anything new.
type refusingSet struct{ tokenstore.Store }

func (refusingSet) Set(string, tokenstore.Entry) error { return errors.New("the keyring is locked") }

// keptRefresh is a keyring store holding, for kas, login --web's
// k8s_proxy token and a refresh token from an approved device flow.
func keptRefresh(t *testing.T, kas *testkas.Server) (tokenstore.Store, API) {
	t.Helper()
	client := func(auth gitlab.Auth) (*gitlab.Client, error) {
		return gitlab.NewClient(kas.URL, auth, kas.Client().Transport, httpsafe.Policy{})
	}
	anon, _ := client(gitlab.Auth{})
	d, err := anon.AuthorizeDevice(context.Background(), "app", Scopes)
	if err != nil {
		t.Fatal(err)
	}
	kas.Approve(d.UserCode, "alice")
	tok, err := anon.PollDeviceToken(context.Background(), "app", d.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, _ := tokenstore.Open(tokenstore.KindKeyring, tokenstore.Options{ConfigDir: dir, Keyring: mapKeyring{}})
	if err := store.Set(kas.URL, tokenstore.Entry{Token: "glpat-k8sProxyOnly", Scopes: []string{"k8s_proxy"}, Origin: tokenstore.OriginWeb,
		ClientID: "app", RefreshToken: tok.RefreshToken}); err != nil {
		t.Fatal(err)
	}
	return store, API{URL: kas.URL, Getenv: func(string) string { return "" }, Store: store, Client: client, LockDir: dir, Out: &bytes.Buffer{}}
}

// TestAPIRefreshTokenKeptBack: the kept refresh token is traded for an
// access token that reads the API; the rotated one is kept back, and the
// access token is not kept.
func TestAPIRefreshTokenKeptBack(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{OAuthApps: []testkas.OAuthApp{{ClientID: "app"}}, Users: []testkas.User{{ID: 1, Username: "alice"}}})
	store, api := keptRefresh(t, kas)
	var source string
	err := api.Do(context.Background(), func(ctx context.Context, s *Session) error {
		source = s.Source
		_, err := s.Client.Metadata(ctx)
		return err
	})
	if err != nil || source != SourceRefresh {
		t.Fatalf("Do = %v, source %q", err, source)
	}
	e, _ := store.Get(kas.URL)
	oauth := kas.OAuthTokens()
	if len(oauth) != 2 || e.RefreshToken != oauth[1].RefreshToken || !oauth[0].Revoked || e.Token != "glpat-k8sProxyOnly" {
		t.Fatalf("kept %v; OAuth %+v", e, oauth)
	}
}

// TestAPIRefreshTokenThatCannotBeKeptIsNotUsed: when the rotated refresh
// token cannot be kept, the new access token is never used, so GitLab
// keeps the old refresh token alive (it revokes it on the new access
// token's first use), and the error says why.
func TestAPIRefreshTokenThatCannotBeKeptIsNotUsed(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{OAuthApps: []testkas.OAuthApp{{ClientID: "app"}}, Users: []testkas.User{{ID: 1, Username: "alice"}}})
	store, api := keptRefresh(t, kas)
	api.Store = refusingSet{store}
	called := false
	err := api.Do(context.Background(), func(context.Context, *Session) error { called = true; return nil })
	if err == nil || called || !strings.Contains(err.Error(), "cannot keep the rotated refresh token, so it was not used") {
		t.Fatalf("Do = %v (op called: %v)", err, called)
	}
	if oauth := kas.OAuthTokens(); oauth[0].Revoked {
		t.Errorf("the kept refresh token was revoked: %+v", oauth)
	}
}

// TestAPINoCredential: a k8s_proxy token kept, nothing else: no call, a
// *Error of ReasonNoAPICredential that says why the kept token does not
// count and names the ways.
func TestAPINoCredential(t *testing.T) {
	kas := testkas.Start(t, testkas.Config{})
	store, _ := tokenstore.Open(tokenstore.KindKeyring, tokenstore.Options{ConfigDir: t.TempDir(), Keyring: mapKeyring{}})
	store.Set(kas.URL, tokenstore.Entry{Token: "glpat-narrow", Scopes: []string{"k8s_proxy", "self_rotate"}})
	api := API{URL: kas.URL, Getenv: func(string) string { return "" }, Store: store, Out: &bytes.Buffer{},
		Client: func(gitlab.Auth) (*gitlab.Client, error) { t.Fatal("a client was made"); return nil, nil }}
	err := api.Do(context.Background(), func(context.Context, *Session) error { t.Fatal("op ran"); return nil })
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonNoAPICredential || !strings.Contains(err.Error(), "has the scopes k8s_proxy, self_rotate, not api or read_api") ||
		!strings.Contains(e.Fix(), "add --web") {
		t.Fatalf("Do = %v (fix %q)", err, e.Fix())
	}
}
