package cmd

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/fixable"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// The flags that several commands take, each defined once: its name, help,
// the check of its value and its shell completion. A bad value fails
// while the flags are parsed, before the command runs (exit code 2).

// addKubeconfigFlag is --kubeconfig.
func addKubeconfigFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	c.RegisterFlagCompletionFunc("kubeconfig", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml", "json", "config"}, cobra.ShellCompDirectiveFilterFileExt
	})
}

// addOutputFlag is -o/--output, one of formats ("" is the command's own
// human-readable output).
func addOutputFlag(c *cobra.Command, p *string, formats ...string) {
	addOutputFlagWithHelp(c, p, "output format: "+orList(formats), formats...)
}

func addOutputFlagWithHelp(c *cobra.Command, p *string, help string, formats ...string) {
	c.Flags().VarP(&enumValue{p: p, noun: "output format", allowed: formats}, "output", "o", help)
	c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

// addTokenStoreFlag is --token-store.
func addTokenStoreFlag(c *cobra.Command, p *string) {
	*p = tokenstore.KindAuto
	c.Flags().Var(&enumValue{p: p, noun: "token store", allowed: tokenstore.Kinds()}, "token-store",
		"where personal access tokens are kept: auto (the OS keyring, else a 0600 file), keyring, file or none")
	c.RegisterFlagCompletionFunc("token-store", cobra.FixedCompletions(tokenstore.Kinds(), cobra.ShellCompDirectiveNoFileComp))
}

// addGitLabURLFlag is --gitlab-url; dflt says what a command uses without
// it. The value is checked by gitlab.ParseBaseURL where it is used, never
// here: a URL may carry credentials, which a flag error would echo.
func addGitLabURLFlag(c *cobra.Command, p *string, help string) {
	c.Flags().StringVar(p, "gitlab-url", "", help)
	c.RegisterFlagCompletionFunc("gitlab-url", cobra.NoFileCompletions)
}

// addCAFlag is --certificate-authority; Deps.loadCA reads it, else
// $KAS_CERTIFICATE.
func addCAFlag(c *cobra.Command, p *string, what string) {
	c.Flags().StringVar(p, "certificate-authority", "", "PEM file of the CA that signed KAS's certificate"+what+" (default: $KAS_CERTIFICATE)")
	c.RegisterFlagCompletionFunc("certificate-authority", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"pem", "crt", "cer"}, cobra.ShellCompDirectiveFilterFileExt
	})
}

// addAPIWebFlag is --web of the commands that read GitLab's API on a
// workstation (login.API): a one-off approval in the browser when no
// credential at hand may.
func addAPIWebFlag(c *cobra.Command, p *bool) {
	c.Flags().BoolVar(p, "web", false, "when no token at hand may read GitLab's API, approve this command once in the browser (read_api; revoked at the end)")
}

// addAgentIDFlag is --agent-id: a GitLab agent's numeric ID.
func addAgentIDFlag(c *cobra.Command, p *int64, help string, d *Deps) {
	c.Flags().Var(&agentIDValue{p: p}, "agent-id", help)
	c.RegisterFlagCompletionFunc("agent-id", agentIDCompletion(d))
}

// addAgentIDsFlag is update-kubeconfig's --agent: agent IDs, repeatable
// or comma-separated.
func addAgentIDsFlag(c *cobra.Command, p *[]int64, help string, d *Deps) {
	c.Flags().Var(&agentIDsValue{p: p}, "agent", help)
	c.RegisterFlagCompletionFunc("agent", agentIDCompletion(d))
}

// addContextFlag is a flag that names a context as use-context NAME does:
// a full name or an agent name.
func addContextFlag(c *cobra.Command, p *string, name, help string, d *Deps) {
	c.Flags().StringVar(p, name, "", help)
	c.RegisterFlagCompletionFunc(name, contextCompletion(d))
}

// enumValue is a string flag that takes one of a few values.
type enumValue struct {
	p       *string
	noun    string
	allowed []string
}

func (v *enumValue) String() string { return *v.p }
func (v *enumValue) Type() string   { return "string" }
func (v *enumValue) Set(s string) error {
	for _, a := range v.allowed {
		if s == a {
			*v.p = s
			return nil
		}
	}
	return fixable.Errorf("use one of: "+strings.Join(v.allowed, ", "), "unknown %s %q", v.noun, s)
}

// agentIDValue is an agent ID flag.
type agentIDValue struct{ p *int64 }

func (v *agentIDValue) String() string {
	if *v.p == 0 {
		return ""
	}
	return strconv.FormatInt(*v.p, 10)
}
func (v *agentIDValue) Type() string { return "id" }
func (v *agentIDValue) Set(s string) error {
	id, err := parseAgentID(s)
	*v.p = id
	return err
}

// agentIDsValue is a list of agent IDs.
type agentIDsValue struct{ p *[]int64 }

func (v *agentIDsValue) String() string {
	s := make([]string, len(*v.p))
	for i, id := range *v.p {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}
func (v *agentIDsValue) Type() string { return "ids" }
func (v *agentIDsValue) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		id, err := parseAgentID(strings.TrimSpace(part))
		if err != nil {
			return err
		}
		*v.p = append(*v.p, id)
	}
	return nil
}

func parseAgentID(s string) (int64, error) {
	id, err := credential.ParseAgentID(s)
	if err != nil {
		return 0, fixable.Errorf("pass the agent's numeric ID, as kubectl gitlab get-contexts shows it", "%w", err)
	}
	return id, nil
}

// orList is "a, b or c".
func orList(words []string) string {
	var shown []string
	for _, w := range words {
		if w != "" {
			shown = append(shown, w)
		}
	}
	if len(shown) < 2 {
		return strings.Join(shown, "")
	}
	return strings.Join(shown[:len(shown)-1], ", ") + " or " + shown[len(shown)-1]
}

// kubeconfigOf reads --kubeconfig from a command being completed.
func kubeconfigOf(c *cobra.Command) string {
	if f := c.Flags().Lookup("kubeconfig"); f != nil {
		return f.Value.String()
	}
	return ""
}

// contextCompletion offers agent contexts (with their agent IDs), then the
// other contexts.
func contextCompletion(d *Deps) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		set, err := d.loadExistingKubeconfig(kubeconfigOf(c))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		all := agentcontext.All(set)
		var out []string
		for _, info := range all {
			if info.Agent {
				out = append(out, info.Name+"\tagent "+strconv.FormatInt(info.AgentID, 10))
			}
		}
		for _, info := range all {
			if !info.Agent {
				out = append(out, info.Name+"\tnot an agent context")
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// agentIDCompletion offers the agent IDs of the agent contexts.
func agentIDCompletion(d *Deps) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		set, err := d.loadExistingKubeconfig(kubeconfigOf(c))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		seen := map[int64]bool{}
		for _, info := range agentcontext.Agents(set) {
			if !seen[info.AgentID] {
				seen[info.AgentID] = true
				out = append(out, strconv.FormatInt(info.AgentID, 10)+"\t"+info.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
