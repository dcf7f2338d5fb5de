// Package cmd holds one file per command: flags become Options, and
// Complete / Validate / Run do the work. Side effects (environment, clock,
// terminal, network) come in through Deps so every command runs in-process
// in tests.
package cmd

import (
	"net/http"
	"os"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/tokenstore"
)

// Deps are the outside world as the commands see it.
type Deps struct {
	IO genericiooptions.IOStreams
	// LookupEnv reads an environment variable.
	LookupEnv func(string) (string, bool)
	// Now is the clock.
	Now func() time.Time
	// Terminal talks to a person, when there is one.
	Terminal Terminal
	// Transport carries HTTP requests to GitLab and KAS; nil means the
	// default transport.
	Transport http.RoundTripper
	// Keyring replaces the OS keyring (tests); nil means the OS keyring.
	Keyring tokenstore.KeyringBackend
}

// SystemDeps are the real process's streams, environment and clock.
func SystemDeps() *Deps {
	return &Deps{
		IO:        genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		LookupEnv: os.LookupEnv,
		Now:       time.Now,
		Terminal:  systemTerminal(os.Stdin, os.Stderr),
	}
}

// Getenv is LookupEnv without the flag.
func (d *Deps) Getenv(name string) string {
	v, _ := d.LookupEnv(name)
	return v
}

// home is the user's home directory, from $HOME like kubectl.
func (d *Deps) home() string {
	if h := d.Getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// kubeconfigPaths applies kubectl's rules: --kubeconfig, $KUBECONFIG,
// ~/.kube/config.
func (d *Deps) kubeconfigPaths(explicit string) kubeconfig.Paths {
	return kubeconfig.Paths{Explicit: explicit, Env: d.Getenv("KUBECONFIG"), Home: d.home()}
}
