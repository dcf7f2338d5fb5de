package agentcontext

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// PluginCommand is what exec entries run: a name resolved through PATH, so
// that a krew upgrade (which moves the binary) does not break them.
const PluginCommand = "kubectl-gitlab"

const installHint = `kubectl-gitlab gets credentials for GitLab agent contexts.
Install it with "kubectl krew install gitlab", or see
https://gitlab.com/kubectl-gitlab/kubectl-gitlab#install`

// ExecUser is the kubeconfig user body for an agent: an exec entry that
// runs get-token, with no secret in it. gitlabURL names the instance whose
// stored token get-token uses (workstations); empty in a job.
func ExecUser(agentID int64, gitlabURL string) kubeconfig.Map {
	args := kubeconfig.List{"get-token", "--agent-id=" + strconv.FormatInt(agentID, 10)}
	if gitlabURL != "" {
		args = append(args, "--gitlab-url="+gitlabURL)
	}
	return kubeconfig.Map{{Key: "exec", Value: kubeconfig.Map{
		{Key: "apiVersion", Value: credential.V1},
		{Key: "command", Value: PluginCommand},
		{Key: "args", Value: args},
		{Key: "installHint", Value: installHint},
		{Key: "interactiveMode", Value: "Never"},
		{Key: "provideClusterInfo", Value: false},
	}}}
}

// Spec is one exec-based agent context to write.
type Spec struct {
	AgentID   int64
	Context   string
	User      string
	Cluster   string
	Namespace string
	// Renamed is the name the agent's context had, when it gets a new one.
	Renamed string
	// Note says why the name is not GitLab's, when it is not.
	Note string
}

// String shows the context for messages: name (agent N, namespace NS).
func (s Spec) String() string {
	ns := ""
	if s.Namespace != "" {
		ns = ", namespace " + s.Namespace
	}
	return fmt.Sprintf("%s (agent %d%s)", s.Context, s.AgentID, ns)
}

// Write is everything needed to write agent contexts.
type Write struct {
	Contexts []Spec
	KASURL   string
	// CA is a PEM bundle to embed into the contexts' clusters, if any.
	CA []byte
	// GitLabURL is passed to get-token on workstations; empty in a job.
	GitLabURL string
}

// Apply upserts clusters, users and contexts, each in the file it comes
// from (new ones in the first file), one locked write per file.
func (w Write) Apply(set *kubeconfig.Set) error {
	edits := Edits{}
	fileOf := func(found bool, file string) string {
		if found {
			return file
		}
		return set.DefaultFile()
	}
	clusters := map[string]bool{}
	for _, c := range w.Contexts {
		if !clusters[c.Cluster] {
			clusters[c.Cluster] = true
			existing, file, ok := set.Cluster(c.Cluster)
			f, cluster := fileOf(ok, file), c.Cluster
			// A server that means the same stays as written (GitLab's
			// trailing slash, its quoting).
			if !ok || !kubeconfig.SameServer(existing.Server, w.KASURL) {
				edits.Add(f, func(d *kubeconfig.Document) error {
					return d.UpsertCluster(cluster, kubeconfig.Map{{Key: "server", Value: w.KASURL}})
				})
			}
			if w.CA != nil {
				edits.Add(f, embedCA(cluster, w.CA))
			}
		}
		_, file, ok := set.User(c.User)
		user := ExecUser(c.AgentID, w.GitLabURL)
		edits.Add(fileOf(ok, file), func(d *kubeconfig.Document) error { return d.UpsertUser(c.User, user) })
		_, file, ok = set.Context(c.Context)
		if c.Renamed != "" {
			// The context keeps its place: renamed, then updated, in its file.
			_, file, ok = set.Context(c.Renamed)
			from, to := c.Renamed, c.Context
			edits.Add(file, func(d *kubeconfig.Document) error { return d.RenameContext(from, to) })
			if set.CurrentContext() == from {
				edits.Add(set.CurrentContextFile(), func(d *kubeconfig.Document) error { return d.SetCurrentContext(to) })
			}
		}
		fields := kubeconfig.Map{{Key: "cluster", Value: c.Cluster}, {Key: "user", Value: c.User}}
		if c.Namespace != "" {
			fields = append(fields, kubeconfig.Field{Key: "namespace", Value: c.Namespace})
		}
		edits.Add(fileOf(ok, file), func(d *kubeconfig.Document) error { return d.UpsertContext(c.Context, fields) })
	}
	return edits.Apply(set)
}

func embedCA(cluster string, pem []byte) func(*kubeconfig.Document) error {
	data := base64.StdEncoding.EncodeToString(pem)
	return func(d *kubeconfig.Document) error { return d.SetClusterCA(cluster, data) }
}

// Switch makes a context current, and may embed a CA bundle into its
// cluster and set its namespace on the way.
type Switch struct {
	Context Info
	// CA is a PEM bundle for the context's cluster. One from
	// $KAS_CERTIFICATE (CAExplicit false) goes into agent contexts only:
	// never into gitlab-deploy's cluster, which has its own CA.
	CA         []byte
	CAExplicit bool
	Namespace  string
	// History, when set, remembers the context that was current before,
	// for use-context -.
	History *History
}

// Switched says what Apply changed.
type Switched struct {
	// CACluster is the cluster the CA went into; empty if none did.
	CACluster string
	// Previous is the context that was current before ("" if none).
	Previous string
	// HistoryErr is why the previous context could not be remembered:
	// the switch itself is done.
	HistoryErr error
}

// Apply writes the switch: the CA to the file that defines the cluster,
// the namespace to the context's file, current-context to the first file
// that sets one (kubectl's rule).
func (s Switch) Apply(set *kubeconfig.Set) (Switched, error) {
	var done Switched
	edits := Edits{}
	name := s.Context.Name
	if s.CA != nil && (s.Context.Agent || s.CAExplicit) {
		_, file, ok := set.Cluster(s.Context.Cluster)
		if !ok {
			return done, &Error{Problem: NoSuchCluster, msg: fmt.Sprintf("context %q names cluster %q, which is not defined", name, s.Context.Cluster),
				fix: "fix the context or add the cluster"}
		}
		edits.Add(file, embedCA(s.Context.Cluster, s.CA))
		done.CACluster = s.Context.Cluster
	}
	if s.Namespace != "" {
		edits.Add(s.Context.File, func(d *kubeconfig.Document) error { return d.SetContextNamespace(name, s.Namespace) })
	}
	edits.Add(set.CurrentContextFile(), func(d *kubeconfig.Document) error { return d.SetCurrentContext(name) })
	done.Previous = set.CurrentContext()
	if err := edits.Apply(set); err != nil {
		return done, err
	}
	if s.History != nil && done.Previous != name {
		done.HistoryErr = s.History.Record(set, done.Previous)
	}
	return done, nil
}

// Edits are document edits grouped by the file they go to.
type Edits map[string][]func(*kubeconfig.Document) error

// Add queues an edit of file.
func (e Edits) Add(file string, edit func(*kubeconfig.Document) error) {
	e[file] = append(e[file], edit)
}

// Apply writes each file's edits under its lock, in kubeconfig order.
func (e Edits) Apply(set *kubeconfig.Set) error {
	left := len(e)
	for _, f := range set.Files {
		edits := e[f.Path]
		if len(edits) == 0 {
			continue
		}
		left--
		if _, err := kubeconfig.Update(f.Path, func(d *kubeconfig.Document) error {
			for _, edit := range edits {
				if err := edit(d); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if left > 0 {
		return errors.New("internal error: an edit for a file outside the kubeconfig")
	}
	return nil
}
