package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/pat"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// GetTokenOptions is the exec credential provider. It runs before every
// kubectl command, so it reads only the environment: no kubeconfig, and no
// network call inside a CI job.
type GetTokenOptions struct {
	deps        *Deps
	AgentID     int64
	TokenSource string
	GitLabURL   string
	TokenStore  string

	info credential.ExecInfo
}

// Token sources.
const (
	sourceAuto = "auto"
	sourceCI   = "ci"
	sourcePAT  = "pat"
)

func newGetTokenCommand(d *Deps) *cobra.Command {
	o := &GetTokenOptions{deps: d}
	c := &cobra.Command{
		Use:   "get-token --agent-id N",
		Short: "Print an ExecCredential for an agent (run by kubectl from the kubeconfig's exec entry)",
		Long: `The exec credential provider. kubectl runs it from a kubeconfig user's exec entry
(kubectl gitlab update-kubeconfig writes one) and reads an ExecCredential in the
apiVersion it asked for in KUBERNETES_EXEC_INFO.

In a GitLab CI job (CI_JOB_TOKEN set) the token is ci:<agent-id>:$CI_JOB_TOKEN;
elsewhere pat:<agent-id>:<personal access token>, from $KUBECTL_GITLAB_TOKEN,
else $GITLAB_TOKEN, else the token that kubectl gitlab login stored (with its
expiry, so kubectl knows when to ask again). Neither reads a kubeconfig nor, in
a job, calls the network. A stored token whose scopes reach beyond k8s_proxy
is warned about once.`,
		Example: `  # what kubectl runs; by hand it prints a v1 ExecCredential
  kubectl-gitlab get-token --agent-id 1234
  # a workstation, with the token kubectl gitlab login stored
  kubectl-gitlab get-token --agent-id 1234 --gitlab-url https://gitlab.example.com`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		}),
	}
	addAgentIDFlag(c, &o.AgentID, "the agent's numeric ID (required)", d)
	o.TokenSource = sourceAuto
	c.Flags().Var(&enumValue{p: &o.TokenSource, noun: "token source", allowed: []string{sourceAuto, sourceCI, sourcePAT}}, "token-source",
		"where the token comes from: auto (ci inside a job, else pat), ci or pat")
	addGitLabURLFlag(c, &o.GitLabURL, "the GitLab instance whose stored personal access token to use (default: the only one stored)")
	addTokenStoreFlag(c, &o.TokenStore)
	return c
}

// Complete checks the flags and reads KUBERNETES_EXEC_INFO.
func (o *GetTokenOptions) Complete() error {
	if o.AgentID == 0 {
		return badInput("pass the agent's numeric ID: get-token --agent-id N", "--agent-id is required")
	}
	var err error
	o.info, err = credential.ParseExecInfo(o.deps.Getenv("KUBERNETES_EXEC_INFO"))
	if err != nil {
		return badInput("the kubeconfig's exec entry must say apiVersion: client.authentication.k8s.io/v1 (or v1beta1); kubectl gitlab update-kubeconfig writes a correct one", "%w", err)
	}
	return nil
}

// Run prints the credential.
func (o *GetTokenOptions) Run() error {
	cred, err := o.credential()
	if err != nil {
		return err
	}
	out, err := cred.ExecCredential(o.info.APIVersion)
	if err != nil {
		return err
	}
	_, err = o.deps.IO.Out.Write(out)
	return err
}

func (o *GetTokenOptions) credential() (credential.Credential, error) {
	jobToken := o.deps.Getenv("CI_JOB_TOKEN")
	source := o.TokenSource
	if source == sourceAuto {
		source = sourcePAT
		if jobToken != "" {
			source = sourceCI
		}
	}
	if source == sourceCI {
		if jobToken == "" {
			return credential.Credential{}, failed(
				"--token-source ci works inside a GitLab CI job only; on a workstation use a personal access token:\n"+
					"kubectl gitlab login --web, or set KUBECTL_GITLAB_TOKEN",
				"CI_JOB_TOKEN is not set, so there is no job token for agent %d", o.AgentID)
		}
		if err := credential.CheckSecret("CI_JOB_TOKEN", jobToken); err != nil {
			return credential.Credential{}, err
		}
		return credential.Credential{Token: credential.Token{Kind: credential.KindCI, AgentID: o.AgentID, Secret: jobToken}.String()}, nil
	}
	// A token from the environment has unknown scopes: finding them would
	// cost a GitLab call on every kubectl command, so login --status and
	// doctor check them instead.
	if token, variable := pat.FromEnv(o.deps.Getenv); token != "" {
		if err := credential.CheckSecret(variable, token); err != nil {
			return credential.Credential{}, err
		}
		return credential.Credential{Token: credential.Token{Kind: credential.KindPAT, AgentID: o.AgentID, Secret: token}.String()}, nil
	}
	return o.storedCredential()
}

// storedCredential uses the token that login stored, rotating it first when
// it may rotate itself and is about to expire.
func (o *GetTokenOptions) storedCredential() (credential.Credential, error) {
	store, err := o.deps.tokenStore(o.TokenStore, nil)
	if err != nil {
		return credential.Credential{}, err
	}
	url := o.GitLabURL
	if url != "" {
		// Canonical, and refused without echo if it carries credentials:
		// it is repeated in every message below.
		if url, err = gitlab.NormalizeURL(url); err != nil {
			return credential.Credential{}, err
		}
	} else if url, err = tokenstore.SoleURL(store); err != nil {
		return credential.Credential{}, err
	}
	login := "kubectl gitlab login"
	if url != "" {
		login += " --gitlab-url " + url
	}
	missing := failed("run: "+login+" --web\n(or set KUBECTL_GITLAB_TOKEN to a personal access token with the k8s_proxy scope; in a CI job, CI_JOB_TOKEN is used)",
		"no token for agent %d: not in a GitLab CI job (CI_JOB_TOKEN is not set) and no personal access token found", o.AgentID)
	if url == "" {
		return credential.Credential{}, missing
	}
	entry, err := store.Get(url)
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return credential.Credential{}, missing
	case err != nil:
		return credential.Credential{}, failed(fixable.FixOr(err, "run: "+login+" --token-store file, or set KUBECTL_GITLAB_TOKEN"), "cannot read the token for %s: %w", url, err)
	}
	if err := credential.CheckSecret("the token stored for "+url, entry.Token); err != nil {
		return credential.Credential{}, fixable.Wrap(err, "run: "+login)
	}
	now := o.deps.Now()
	if pat.RenewalDue(entry, now) {
		entry = o.deps.renewer().Renew(store, url, entry)
	}
	o.warnBroadScopes(url, entry)
	cred := credential.Credential{Token: credential.Token{Kind: credential.KindPAT, AgentID: o.AgentID, Secret: entry.Token}.String()}
	if !entry.ExpiresAt.IsZero() {
		cred.Expires = entry.ExpiresAt.UTCMidnight()
		if !now.Before(cred.Expires) {
			return credential.Credential{}, failed("run: "+login+" --web", "the personal access token for %s expired on %s", url, entry.ExpiresAt)
		}
	}
	return cred, nil
}

// warnBroadScopes warns, once per token, that the stored token reaches
// beyond KAS: its scopes are known from login, so this costs no network
// call, and a file read only for a broad token.
func (o *GetTokenOptions) warnBroadScopes(url string, e tokenstore.Entry) {
	broad := pat.BroadScopes(e.Scopes)
	if len(broad) == 0 {
		return
	}
	if first, err := tokenstore.FirstWarning(o.deps.configDir(), e.Token, o.deps.Now()); err != nil || !first {
		return
	}
	fmt.Fprintf(o.deps.IO.ErrOut, "warning: %s\n  (said once for this token)\n", pat.BroadScopesWarning("the token kept for "+url, broad, url, ""))
}
