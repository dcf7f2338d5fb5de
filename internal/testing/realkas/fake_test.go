package realkas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// signJWT makes a token as KAS's internal/gitlab/client.go does.
func signJWT(t testing.TB, secret []byte, header, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(data)
	}
	unsigned := enc(header) + "." + enc(claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func kasClaims(now time.Time) map[string]any {
	return map[string]any{"iss": "gitlab-kas", "aud": []string{"gitlab"}, "iat": now.Unix(),
		"nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(30 * time.Second).Unix()}
}

func TestVerifyKASJWT(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
	with := func(key string, v any) map[string]any {
		c := kasClaims(now)
		if v == nil {
			delete(c, key)
		} else {
			c[key] = v
		}
		return c
	}
	if err := verifyKASJWT(signJWT(t, secret, hs256, kasClaims(now)), secret, now); err != nil {
		t.Fatalf("KAS's own token: %v", err)
	}
	if err := verifyKASJWT(signJWT(t, secret, hs256, with("aud", "gitlab")), secret, now); err != nil {
		t.Errorf("a single audience: %v", err)
	}
	for name, token := range map[string]string{
		"other secret":     signJWT(t, []byte("another secret of thirty-two by"), hs256, kasClaims(now)),
		"alg none":         signJWT(t, secret, map[string]any{"alg": "none"}, kasClaims(now)),
		"other issuer":     signJWT(t, secret, hs256, with("iss", "gitlab-shell")),
		"other audience":   signJWT(t, secret, hs256, with("aud", []string{"gitlab-kas"})),
		"no audience":      signJWT(t, secret, hs256, with("aud", nil)),
		"expired":          signJWT(t, secret, hs256, with("exp", now.Add(-time.Second).Unix())),
		"no expiry":        signJWT(t, secret, hs256, with("exp", nil)),
		"not valid yet":    signJWT(t, secret, hs256, with("nbf", now.Add(time.Minute).Unix())),
		"two parts":        "eyJhbGciOiJIUzI1NiJ9.e30",
		"garbage":          "not a token",
		"unsigned payload": strings.SplitN(signJWT(t, secret, hs256, kasClaims(now)), ".", 3)[0] + ".e30." + strings.SplitN(signJWT(t, secret, hs256, kasClaims(now)), ".", 3)[2],
	} {
		if err := verifyKASJWT(token, secret, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzVerifyKASJWT: no input makes the verifier panic, and nothing that was
// not signed with the secret passes.
func FuzzVerifyKASJWT(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	f.Add(signJWT(f, secret, map[string]any{"alg": "HS256"}, kasClaims(now)))
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if verifyKASJWT(token, secret, now) != nil {
			return
		}
		parts := strings.Split(token, ".")
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatalf("accepted a token not signed with the secret: %q", token)
		}
	})
}

// fakeWorld: groups group and group/sub; agent 1 in group/agents shares
// itself with project group/sub/app (ci_job, environments review/* and
// prod); agent 2 in group/sub/infra with group group/sub; agent 3 of
// another top-level group lists group/sub/app too.
func fakeWorld() *World {
	return &World{
		Groups: []Group{{ID: 23, Path: "group"}, {ID: 25, Path: "group/sub", Members: map[string]Role{"bob": Reporter}}, {ID: 30, Path: "other"}},
		Projects: []Project{
			{ID: 77, Path: "group/agents", Members: map[string]Role{"alice": Maintainer, "bob": Developer}},
			{ID: 78, Path: "group/sub/infra"}, {ID: 150, Path: "group/sub/app"}, {ID: 300, Path: "other/agents"},
		},
		Users: []User{{ID: 5, Username: "alice"}, {ID: 6, Username: "bob"}},
		Agents: []Agent{
			{ID: 1, Name: "prod", ProjectID: 77, Token: "t1", Config: "user_access:\n  access_as: {user: {}}\n  projects: [{id: group/agents}]\n  groups: [{id: group/sub}]\n"},
			{ID: 2, Name: "staging", ProjectID: 78, Token: "t2", Config: "user_access:\n  access_as: {agent: {}}\n  groups: [{id: group/sub}]\n"},
			{ID: 3, Name: "foreign", ProjectID: 300, Token: "t3"},
		},
	}
}

func posted(t *testing.T, config string) ciAccess {
	t.Helper()
	access, err := parseCIAccess(json.RawMessage(config))
	if err != nil {
		t.Fatal(err)
	}
	return access
}

func TestAllowedAgents(t *testing.T) {
	w := fakeWorld()
	postedConfigs := map[int64]ciAccess{
		1: posted(t, `{"ci_access":{"projects":[{"id":"Group/Sub/App","access_as":{"ci_job":{}},"environments":["review/*","prod"]}]}}`),
		2: posted(t, `{"ci_access":{"groups":[{"id":"group/sub","default_namespace":"apps"}],"projects":[{"id":"group/sub/infra"}]}}`),
		3: posted(t, `{"ci_access":{"projects":[{"id":"group/sub/app"}]}}`),
	}
	allowed := func(job Job) (ids []int64, configs []string) {
		for _, a := range w.allowedAgents(&job, postedConfigs) {
			ids = append(ids, a.agent.ID)
			data, _ := json.Marshal(a.config)
			configs = append(configs, string(data))
		}
		return ids, configs
	}
	for _, c := range []struct {
		name    string
		job     Job
		ids     []int64
		configs []string
	}{
		{"a matching environment", Job{ProjectID: 150, Environment: &Environment{Name: "review/feature-1"}},
			[]int64{1, 2}, []string{`{"access_as":{"ci_job":{}},"environments":["review/*","prod"]}`, `{"default_namespace":"apps"}`}},
		{"the exact environment", Job{ProjectID: 150, Environment: &Environment{Name: "prod"}}, []int64{1, 2}, nil},
		{"another environment", Job{ProjectID: 150, Environment: &Environment{Name: "production"}}, []int64{2}, nil},
		{"no environment", Job{ProjectID: 150}, []int64{2}, nil},
		// The agent's own project: implicitly, with an empty configuration;
		// a project's entry (or implicit authorization) wins over its group's
		// default_namespace.
		{"the agent's own project", Job{ProjectID: 77}, []int64{1}, []string{`{}`}},
		{"a project entry, not the group's", Job{ProjectID: 78}, []int64{2}, []string{`{}`}},
		// Another top-level group's agent counts only for its own projects.
		{"another top-level group", Job{ProjectID: 300}, []int64{3}, []string{`{}`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ids, configs := allowed(c.job)
			if !slices.Equal(ids, c.ids) || (c.configs != nil && !slices.Equal(configs, c.configs)) {
				t.Errorf("agents %v with %v, want %v with %v", ids, configs, c.ids, c.configs)
			}
		})
	}
}

func TestAuthorizeProxyUser(t *testing.T) {
	w := fakeWorld()
	body := func(user string, agentID int64) string {
		b := w.authorizeProxyUser(w.user(user), w.agent(agentID))
		if b == nil {
			return "forbidden"
		}
		data, _ := json.Marshal(b["access_as"])
		return string(data)
	}
	// alice: Maintainer of group/agents (every role up to it); nothing in
	// group/sub. bob: Developer of group/agents, Reporter of group/sub
	// (too little for use_k8s_proxies there).
	for _, c := range []struct {
		user  string
		agent int64
		want  string
	}{
		{"alice", 1, `{"user":{"groups":[],"projects":[{"id":77,"roles":["guest","reporter","developer","maintainer"]}]}}`},
		{"bob", 1, `{"user":{"groups":[],"projects":[{"id":77,"roles":["guest","reporter","developer"]}]}}`},
		{"bob", 2, "forbidden"},
		{"alice", 3, "forbidden"}, // no user_access
	} {
		if got := body(c.user, c.agent); got != c.want {
			t.Errorf("%s through agent %d: %s, want %s", c.user, c.agent, got, c.want)
		}
	}
	w.Groups[1].Members["bob"] = Developer
	if got := body("bob", 2); got != `{"agent":{}}` {
		t.Errorf("bob, Developer of group/sub, through agent 2: %s", got)
	}
}

// TestCloneIsolates: what a stack's GitLab.Update changes in its copy of
// the world leaves the caller's world as it was.
func TestCloneIsolates(t *testing.T) {
	w := fakeWorld()
	w.Jobs = []Job{{Token: "j", ID: 1, ProjectID: 150, Username: "alice", Environment: &Environment{Name: "prod"}}}
	w.PATs = []PAT{{Token: "p", Username: "alice", Scopes: []string{"k8s_proxy"}}}
	c := w.clone()
	c.Groups[1].Members["bob"] = Owner
	c.Projects[0].Members["carol"] = Guest
	c.Jobs[0].Environment.Name = "staging"
	c.PATs[0].Scopes[0] = "api"
	c.Agents[0].Config = ""
	if w.Groups[1].Members["bob"] != Reporter || len(w.Projects[0].Members) != 2 || w.Jobs[0].Environment.Name != "prod" ||
		w.PATs[0].Scopes[0] != "k8s_proxy" || w.Agents[0].Config == "" {
		t.Errorf("the original changed: %+v", w)
	}
}
