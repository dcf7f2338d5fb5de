package doctor

import (
	"context"
	"strings"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
)

// checkScopes: the personal access token that goes to KAS has no scope
// beyond k8s_proxy. KAS's side sees the token on every kubectl command;
// an api token there is a leak waiting to happen. get-token never asks
// GitLab (it runs before every command), so a token from the environment
// is checked here and by login --status. Only for pat: credentials.
func (r *run) checkScopes() (Check, bool) {
	const name, title = "scopes", "token scopes"
	if !r.credentialOK || r.d.TokenScopes == nil {
		return Check{}, false
	}
	token, _ := r.cred.AgentToken()
	if token.Kind != credential.KindPAT {
		return Check{}, false
	}
	source, variable := "the kept token", ""
	if env, v := pat.FromEnv(r.d.getenv); env == token.Secret {
		source, variable = "$"+v, v
	}
	url := r.gitlabURL()
	if url == "" {
		return skip(name, title, "which GitLab issued "+source+" is unknown (no --gitlab-url in the exec entry, no $GITLAB_URL)"), true
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	scopes, err := r.d.TokenScopes(ctx, url, token.Secret)
	if err != nil {
		return warn(name, title, "", "could not ask %s for the scopes of %s: %v", url, source, err), true
	}
	r.gitlabKnowsPAT = true
	broad := pat.BroadScopes(scopes)
	if len(broad) == 0 {
		return pass(name, title, "%s has %s", source, strings.Join(scopes, ", ")), true
	}
	return warn(name, title, pat.NarrowTokenFix(url, variable), "%s", pat.BroadScopesProblem(source, broad)), true
}

// gitlabURL is the GitLab instance of the context's personal access token:
// the exec entry's --gitlab-url, else $GITLAB_URL.
func (r *run) gitlabURL() string {
	if user, _, _ := r.set.User(r.info.User); user.Exec != nil {
		if args, ok := agentcontext.GetTokenArgs(user.Exec.Command, user.Exec.Args); ok {
			for i, a := range args {
				if v, ok := strings.CutPrefix(a, "--gitlab-url="); ok {
					return v
				}
				if a == "--gitlab-url" && i+1 < len(args) {
					return args[i+1]
				}
			}
		}
	}
	return r.d.getenv("GITLAB_URL")
}
