package testkas

// DeployingProject is a GitLab where project group/app (ID 150, in group
// 25) deploys through agents it does not hold, for the tests of discovery
// at every level:
//
//   - agent 1234 "prod" of group/agents (77): its ci_access and
//     user_access list group/app; its jobs act as ci_job, in namespace apps;
//   - agent 9012 "static" of group/agents: its user_access lists group 25,
//     access_as agent;
//   - agent 5555 "hidden" of secret/agents (99), a project the deployer
//     is no member of: its user_access lists group/app.
//
// deployerToken is dora's personal access token (read_api, k8s_proxy): a
// Developer of group/app, whom all three agents admit.
func DeployingProject(deployerToken string) Config {
	return Config{
		Projects: []Project{{ID: 150, Path: "group/app", GroupIDs: []int64{25}}},
		Agents: []Agent{
			{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents", DefaultNamespace: "apps", AccessAs: AccessAs{CIJob: true},
				CIAccessProjects: []int64{150}, UserAccess: &UserAccess{Projects: []int64{150}}},
			{ID: 9012, Name: "static", ConfigProjectID: 77, ConfigProjectPath: "group/agents", UserAccess: &UserAccess{AsAgent: true, Groups: []int64{25}}},
			{ID: 5555, Name: "hidden", ConfigProjectID: 99, ConfigProjectPath: "secret/agents", UserAccess: &UserAccess{Projects: []int64{150}}},
		},
		PATs: []PAT{{Token: deployerToken, ID: 1, Name: "laptop", UserID: 8, Username: "dora", Scopes: []string{"read_api", "k8s_proxy"},
			ExpiresAt: "2099-06-30", Agents: []int64{1234, 9012, 5555}, ProjectRoles: map[int64]string{99: NoAccess}}},
		Pods: map[string][]string{"default": {"hello-0"}, "apps": {"web-0"}},
	}
}
