package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/doctor"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
)

// DoctorOptions runs the troubleshooting checks.
type DoctorOptions struct {
	deps       *Deps
	Kubeconfig string
	Context    string
	Namespace  string
	Output     string
}

func newDoctorCommand(d *Deps) *cobra.Command {
	o := &DoctorOptions{deps: d}
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check kubectl, the kubeconfig, KAS, the token, the agent and RBAC; say what is wrong and how to fix it",
		Long: `Run the troubleshooting section of GitLab's CI/CD-with-an-agent page as checks,
each ✓ (pass), ✗ (fail), ! (warning) or - (not run: a check it needs failed),
with what it found and the fix:
kubectl found and not 1.27.0/1.27.1 (426 on validation), ~/.kube/cache writable,
an agent context in use (not gitlab-deploy), KAS URL https, KAS reachable, its
certificate trusted (x509: certificate signed by unknown authority), the
credential obtained, the token accepted (KAS 401 vs 403 agentId is not allowed),
the agent answering, the identity it impersonates, and RBAC in the namespace.

Exit code 1 if any check fails; warnings alone exit 0.`,
		Example: `  kubectl gitlab doctor
  kubectl gitlab doctor --context group/agents:prod --namespace apps
  kubectl gitlab doctor -o json`,
		Args: cobra.NoArgs,
		RunE: runE(func([]string) error { return o.Run(context.Background()) }),
	}
	addKubeconfigFlag(c, &o.Kubeconfig)
	addContextFlag(c, &o.Context, "context", "the context to check, by name or agent name (default: the current context if it is an agent context, else the one use-context would pick)", d)
	c.Flags().StringVarP(&o.Namespace, "namespace", "n", "", "check RBAC in this namespace (default: the context's, else default)")
	addOutputFlag(c, &o.Output, "json")
	return c
}

// Run runs the checks, prints them, and fails if any check failed.
func (o *DoctorOptions) Run(ctx context.Context) error {
	d := o.deps
	report := doctor.Run(ctx, doctor.Deps{
		LookupEnv: d.LookupEnv,
		Home:      d.home(),
		Now:       d.Now,
		LookPath:  d.lookPath,
		Run:       runProgram,
		Transport: d.Transport,
		Exec:      d.execPlugin,
		TokenScopes: func(ctx context.Context, url, token string) ([]string, error) {
			client, err := d.gitlabClientFor(url, gitlab.PrivateToken(token))
			if err != nil {
				return nil, err
			}
			p, err := client.PersonalAccessTokenSelf(ctx)
			if err != nil {
				return nil, err
			}
			return p.Scopes, nil
		},
		Progress: d.progress(),
	}, doctor.Options{Kubeconfig: d.kubeconfigPaths(o.Kubeconfig), Context: o.Context, Namespace: o.Namespace})
	var err error
	if o.Output == "json" {
		err = report.WriteJSON(d.IO.Out)
	} else {
		err = report.WriteText(d.IO.Out)
	}
	if err != nil {
		return err
	}
	if names := report.Failed(); len(names) > 0 {
		return failed("see the fixes above", "doctor: failed: %s", strings.Join(names, ", "))
	}
	return nil
}
