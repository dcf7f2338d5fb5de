package access

import (
	"strings"
	"testing"
)

// On GitLab Free, Rails drops the entries that act as ci_job or impersonate
// before it picks the most specific one, so a less specific entry applies.
func TestExplainTierFree(t *testing.T) {
	cfg := parseOK(t, "config.yaml", `
ci_access:
  projects:
    - id: acme/app
      access_as: {ci_job: {}}
      default_namespace: app
  groups:
    - id: acme
      default_namespace: shared
`)
	premium := explain(t, cfg, ExplainOptions{Project: "acme/app", Tier: TierPremium})
	if got := verdictOf(premium); got != (verdict{"projects[0]", "", AccessCIJob}) || premium.DefaultNamespace != "app" {
		t.Errorf("premium: %+v", got)
	}
	free := explain(t, cfg, ExplainOptions{Project: "acme/app", Tier: TierFree})
	if got := verdictOf(free); got != (verdict{"groups[0]", "", AccessAgent}) || free.DefaultNamespace != "shared" {
		t.Errorf("free: %+v\n%s", got, textOfExplanation(t, free))
	}
	if c := free.Candidates[0]; c.Status != StatusIgnored || !strings.Contains(c.Why, "GitLab Free drops the entry before it picks the most specific one") {
		t.Errorf("free candidates: %+v", free.Candidates)
	}
	// Unknown tier: Premium is assumed, and the note says what Free does.
	unknown := explain(t, cfg, ExplainOptions{Project: "acme/app"})
	if got := verdictOf(unknown); got != (verdict{"projects[0]", "", AccessCIJob}) || !containsNote(unknown, "pass --tier free") {
		t.Errorf("unknown tier: %+v %q", got, unknown.Notes)
	}
	// With nothing else, Free leaves the job out.
	only := parseOK(t, "c.yaml", "ci_access:\n  projects:\n    - id: acme/app\n      access_as: {impersonate: {username: u}}\n")
	if got := verdictOf(explain(t, only, ExplainOptions{Project: "acme/app", Tier: TierFree})); got != (verdict{"", DeniedNotAuthorized, ""}) {
		t.Errorf("free, impersonate only: %+v", got)
	}
}

func TestExplainNotesFieldsTooNew(t *testing.T) {
	cfg := parseOK(t, "c.yaml", "ci_access:\n  projects:\n    - id: a/b\n      protected_branches_only: true\n")
	ex := explain(t, cfg, ExplainOptions{Project: "a/b", ProtectedBranch: true, GitLabVersion: Version{17, 1}})
	if !containsNote(ex, "GitLab 17.1 does not know `ci_access.projects[0].protected_branches_only` (added in 17.3)") || ex.GitLabVersion != "17.1" {
		t.Errorf("notes = %q", ex.Notes)
	}
}

// The user_access page's example: projects group-1/project-1 (ID 1) and
// group-2/project-2 (ID 2), groups group-2 (ID 2) and group-3/subgroup (ID 4).
const userAccessPage = "gitlabhq/user_access/access-as-user.yaml"

var userAccessIDs = map[string]int64{"group-1/project-1": 1, "group-2/project-2": 2, "group-2": 2, "group-3/subgroup": 4}

func TestExplainUserAccessPageExample(t *testing.T) {
	cfg := Parse("config.yaml", readCorpus(t, userAccessPage))
	// "If a user is a member of only group-1, they receive only the
	// Kubernetes RBAC groups gitlab:project_role:1:<role>."
	ex := explain(t, cfg, ExplainOptions{User: "alice", Memberships: []Membership{{"group-1", "developer"}}, IDs: userAccessIDs, AgentID: 7, AgentProjectID: 9})
	if !ex.Allowed || ex.Identity == nil {
		t.Fatalf("not allowed: %s", ex.Reason)
	}
	want := []string{"gitlab:user", "gitlab:project_role:1:guest", "gitlab:project_role:1:planner", "gitlab:project_role:1:reporter", "gitlab:project_role:1:developer"}
	if id := ex.Identity; id.Username != "gitlab:user:alice" || !equalStrings(id.Groups, want) || !id.Exact || id.AccessAs != AccessUser {
		t.Errorf("identity = %+v", id)
	}
	var extra []string
	for _, x := range ex.Identity.Extra {
		extra = append(extra, x.Key+"="+strings.Join(x.Values, ","))
	}
	if !equalStrings(extra, []string{"agent.gitlab.com/id=7", "agent.gitlab.com/username=alice", "agent.gitlab.com/access_type=personal_access_token", "agent.gitlab.com/config_project_id=9"}) {
		t.Errorf("extra = %q", extra)
	}
	// "If a user is a member of group-2, they receive both
	// gitlab:project_role:2:<role> and gitlab:group_role:2:<role>."
	ex = explain(t, cfg, ExplainOptions{User: "bob", Memberships: []Membership{{"group-2", "maintainer"}}, IDs: userAccessIDs, GitLabVersion: Version{17, 6}})
	want = []string{"gitlab:user",
		"gitlab:project_role:2:guest", "gitlab:project_role:2:reporter", "gitlab:project_role:2:developer", "gitlab:project_role:2:maintainer",
		"gitlab:group_role:2:guest", "gitlab:group_role:2:reporter", "gitlab:group_role:2:developer", "gitlab:group_role:2:maintainer"}
	if !ex.Allowed || !equalStrings(ex.Identity.Groups, want) {
		t.Errorf("bob (no planner before 17.7): %+v", ex.Identity)
	}
}

func TestExplainUserAccessDenials(t *testing.T) {
	page := Parse("config.yaml", readCorpus(t, userAccessPage))
	tests := []struct {
		name string
		cfg  *Config
		opts ExplainOptions
		want Denial
	}{
		{"a reporter is not enough", page, ExplainOptions{User: "carol", Role: "reporter"}, DeniedNotMember},
		{"not a member of any listed path", page, ExplainOptions{User: "dave", Memberships: []Membership{{"group-9", "owner"}}}, DeniedNotMember},
		{"a subgroup role does not reach its parent", page, ExplainOptions{User: "erin", Memberships: []Membership{{"group-2/project-2/x", "owner"}}}, DeniedNotMember},
		{"access_as user on Free", page, ExplainOptions{User: "alice", Role: "developer", Tier: TierFree}, DeniedNeedsPremium},
		{"no user_access", parseOK(t, "c.yaml", "ci_access: {}\n"), ExplainOptions{User: "alice", Role: "owner"}, DeniedNoUserAccess},
		{"no access_as before 18.3", Parse("c.yaml", readCorpus(t, "gitlab-agent/kubernetes_user_access/without-access-as.yaml")),
			ExplainOptions{User: "alice", Role: "developer", GitLabVersion: Version{18, 2}}, DeniedNoAccessAs},
		{"outside the agent's top-level group", page, ExplainOptions{User: "alice", Memberships: []Membership{{"group-1", "owner"}}, AgentProject: "group-2/agents"}, DeniedNotMember},
		{"the file is rejected", Parse("c.yaml", []byte("user_access:\n  access_as: {user: {}}\n  projects: [{id: a/b}]\n  group: []\n")), ExplainOptions{User: "alice", Role: "owner"}, DeniedConfigRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := explain(t, tt.cfg, tt.opts)
			if ex.Allowed || ex.Denial != tt.want || ex.Identity != nil {
				t.Errorf("got %v %q: %s\n%s", ex.Allowed, ex.Denial, ex.Reason, textOfExplanation(t, ex))
			}
		})
	}
	// Without access_as, GitLab 18.3 and later act as the agent.
	ex := explain(t, Parse("c.yaml", readCorpus(t, "gitlab-agent/kubernetes_user_access/without-access-as.yaml")), ExplainOptions{User: "alice", Role: "developer"})
	if !ex.Allowed || ex.Identity.AccessAs != AccessAgent {
		t.Errorf("18.3 without access_as: %+v", ex)
	}
}

func TestExplainUserAccessRendering(t *testing.T) {
	ex := explain(t, Parse("config.yaml", readCorpus(t, userAccessPage)), ExplainOptions{User: "alice", Role: "developer"})
	text := textOfExplanation(t, ex)
	textHasAll(t, text,
		"user:         alice\n",
		"entries:      projects[0] group-1/project-1 at config.yaml:7:7: authorized (alice is developer there)\n",
		"              groups[1] group-3/subgroup at config.yaml:11:7: authorized (alice is developer there)\n",
		"result:       ALLOWED: alice is a Developer or higher in 4 of the 4 entries of user_access\n",
		"  user:       gitlab:user:alice\n",
		"gitlab:project_role:<id of group-1/project-1>:developer\n",
		"agent.gitlab.com/access_type=personal_access_token\n",
		"pass --id PATH=ID",
	)
	if strings.Contains(text, "environment:") || strings.Contains(text, "branch:") || strings.Contains(text, "namespace:") {
		t.Errorf("a user explanation shows job fields:\n%s", text)
	}
}

func TestExplainUserOptionErrors(t *testing.T) {
	cfg := parseOK(t, "c.yaml", "user_access: {access_as: {agent: {}}, projects: [{id: a/b}]}\n")
	for _, tt := range []struct {
		opts ExplainOptions
		want string
	}{
		{ExplainOptions{User: "alice"}, "no role given for user alice"},
		{ExplainOptions{User: "@alice", Role: "developer"}, "is not a GitLab username"},
		{ExplainOptions{User: "alice", Role: "boss"}, `role "boss" is not one of guest, planner, reporter, developer, maintainer, owner`},
		{ExplainOptions{User: "alice", Role: "planner", GitLabVersion: Version{17, 6}}, "the planner role exists since GitLab 17.7"},
		{ExplainOptions{User: "alice", Role: "developer", Project: "a/b"}, "user_access is about people, not jobs"},
		{ExplainOptions{User: "alice", Memberships: []Membership{{"a//b", "developer"}}}, "empty segment"},
		{ExplainOptions{Project: "a/b", Role: "developer"}, "without a user"},
	} {
		if _, err := Explain(cfg, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.want)
		}
	}
	for in, want := range map[string]Membership{"group/project=Developer": {"group/project", "developer"}, " g = owner ": {"g", "owner"}} {
		if got, err := ParseMembership(in); err != nil || got != want {
			t.Errorf("ParseMembership(%q) = %+v, %v", in, got, err)
		}
	}
	if _, err := ParseMembership("group"); err == nil {
		t.Error("ParseMembership without =")
	}
	if p, id, err := ParsePathID("g/p=150"); err != nil || p != "g/p" || id != 150 {
		t.Errorf("ParsePathID = %q %d %v", p, id, err)
	}
	for _, bad := range []string{"g/p", "g/p=0", "g/p=x"} {
		if _, _, err := ParsePathID(bad); err == nil {
			t.Errorf("ParsePathID(%q) accepted", bad)
		}
	}
}
