package cmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/gitlab"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// pluginCommand is what exec entries run: a name resolved through PATH, so
// that a krew upgrade (which moves the binary) does not break them.
const pluginCommand = "kubectl-gitlab"

const installHint = `kubectl-gitlab gets credentials for GitLab agent contexts.
Install it with "kubectl krew install gitlab", or see
https://gitlab.com/kubectl-gitlab/kubectl-gitlab#install`

// agentContext is one exec-based agent context to write.
type agentContext struct {
	AgentID   int64
	Context   string // context name
	User      string
	Cluster   string
	Namespace string
}

// execUser is the kubeconfig user body for an agent: an exec entry that
// runs get-token, with no secret in it.
func execUser(agentID int64, gitlabURL string) kubeconfig.Map {
	args := kubeconfig.List{"get-token", "--agent-id=" + strconv.FormatInt(agentID, 10)}
	if gitlabURL != "" {
		args = append(args, "--gitlab-url="+gitlabURL)
	}
	return kubeconfig.Map{{Key: "exec", Value: kubeconfig.Map{
		{Key: "apiVersion", Value: credential.V1},
		{Key: "command", Value: pluginCommand},
		{Key: "args", Value: args},
		{Key: "installHint", Value: installHint},
		{Key: "interactiveMode", Value: "Never"},
		{Key: "provideClusterInfo", Value: false},
	}}}
}

// agentWrite is everything needed to write agent contexts.
type agentWrite struct {
	Contexts  []agentContext
	KASURL    string
	CA        *kas.CABundle
	GitLabURL string // passed to get-token on workstations; empty in a job
}

// write upserts clusters, users and contexts, each in the file it comes
// from (new ones in the first file), one locked write per file.
func (w agentWrite) write(set *kubeconfig.Set) error {
	edits := map[string][]func(*kubeconfig.Document) error{}
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
			_, file, ok := set.Cluster(c.Cluster)
			cluster, server := c.Cluster, strings.TrimSuffix(w.KASURL, "/")
			f := fileOf(ok, file)
			edits[f] = append(edits[f], func(d *kubeconfig.Document) error {
				return d.UpsertCluster(cluster, kubeconfig.Map{{Key: "server", Value: server}})
			})
			if w.CA != nil {
				data := base64.StdEncoding.EncodeToString(w.CA.PEM)
				edits[f] = append(edits[f], func(d *kubeconfig.Document) error { return d.SetClusterCA(cluster, data) })
			}
		}
		c := c
		_, file, ok := set.User(c.User)
		f := fileOf(ok, file)
		edits[f] = append(edits[f], func(d *kubeconfig.Document) error { return d.UpsertUser(c.User, execUser(c.AgentID, w.GitLabURL)) })
		_, file, ok = set.Context(c.Context)
		f = fileOf(ok, file)
		fields := kubeconfig.Map{{Key: "cluster", Value: c.Cluster}, {Key: "user", Value: c.User}}
		if c.Namespace != "" {
			fields = append(fields, kubeconfig.Field{Key: "namespace", Value: c.Namespace})
		}
		edits[f] = append(edits[f], func(d *kubeconfig.Document) error { return d.UpsertContext(c.Context, fields) })
	}
	return applyEdits(set, edits)
}

// applyEdits writes each file's edits under its lock, in kubeconfig order.
func applyEdits(set *kubeconfig.Set, edits map[string][]func(*kubeconfig.Document) error) error {
	for _, f := range set.Files {
		if fileEdits := edits[f.Path]; len(fileEdits) > 0 {
			if _, err := kubeconfig.Update(f.Path, applyAll(fileEdits)); err != nil {
				return err
			}
			delete(edits, f.Path)
		}
	}
	if len(edits) > 0 {
		return errors.New("internal error: an edit for a file outside the kubeconfig")
	}
	return nil
}

// jobContextFor finds the context GitLab made for an agent in the job's
// kubeconfig (its user has token ci:<id>:…), to keep GitLab's name.
func jobContextFor(set *kubeconfig.Set, agentID int64) (kubeconfig.ContextInfo, bool) {
	for _, c := range set.Contexts(true) {
		if c.AgentID == agentID {
			return c, true
		}
	}
	return kubeconfig.ContextInfo{}, false
}

// jobAgentContexts plans one context per agent the job may use.
func jobAgentContexts(set *kubeconfig.Set, agents []gitlab.AllowedAgent) []agentContext {
	var out []agentContext
	for _, a := range agents {
		c := agentContext{AgentID: a.ID, Namespace: a.Configuration.DefaultNamespace,
			Context: a.ConfigProject.PathWithNamespace + ":agent-" + strconv.FormatInt(a.ID, 10),
			User:    "agent:" + strconv.FormatInt(a.ID, 10), Cluster: "gitlab"}
		if existing, ok := jobContextFor(set, a.ID); ok {
			c.Context, c.User = existing.Name, existing.User
			if existing.Cluster != "" {
				c.Cluster = existing.Cluster
			}
			if existing.Namespace != "" {
				c.Namespace = existing.Namespace
			}
		}
		out = append(out, c)
	}
	return out
}

// tokenContextsNotIn keeps the job token out of the kubeconfig also for
// contexts GitLab rendered for agents the job may no longer use: their
// users become exec entries too (which fail as the token would have).
func tokenContextsNotIn(set *kubeconfig.Set, allowed []gitlab.AllowedAgent) []agentContext {
	var out []agentContext
	for _, c := range set.Contexts(true) {
		if c.Auth != kubeconfig.AuthCIToken || slices.ContainsFunc(allowed, func(a gitlab.AllowedAgent) bool { return a.ID == c.AgentID }) {
			continue
		}
		out = append(out, agentContext{AgentID: c.AgentID, Context: c.Name, User: c.User, Cluster: c.Cluster, Namespace: c.Namespace})
	}
	return out
}

// jobGitLab reads the GitLab URL and job token of a CI job.
func (d *Deps) jobGitLab() (baseURL, jobToken string, ok bool) {
	jobToken = d.Getenv("CI_JOB_TOKEN")
	baseURL = d.Getenv("CI_API_V4_URL")
	if baseURL == "" {
		baseURL = d.Getenv("CI_SERVER_URL")
	}
	return baseURL, jobToken, jobToken != "" && baseURL != ""
}

// gitlabClient makes a client that trusts the system's CAs, SSL_CERT_FILE,
// and the KAS CA bundle if one was given (KAS often shares GitLab's host
// and certificate).
func (d *Deps) gitlabClient(baseURL string, auth gitlab.Auth, ca *kas.CABundle) (*gitlab.Client, error) {
	transport := d.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if ca != nil {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			for _, c := range ca.Certs {
				pool.AddCert(c)
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		transport = t
	}
	c, err := gitlab.NewClient(baseURL, auth, transport)
	if err != nil {
		return nil, badInput("pass the GitLab URL, e.g. --gitlab-url https://gitlab.example.com", "%v", err)
	}
	return c, nil
}

// kasURL finds the k8s-proxy URL: the instance's metadata, else what the
// job's kubeconfig already points at, else derived from the GitLab URL.
func resolveKASURL(ctx context.Context, client *gitlab.Client, fallback string) (string, error) {
	md, err := client.Metadata(ctx)
	if err == nil {
		u, err := kas.ProxyURLFromMetadata(md)
		if errors.Is(err, kas.ErrDisabled) {
			return "", failed("ask the GitLab administrator to enable the agent server, or pass --kas-url if it runs elsewhere", "%v", err)
		}
		return u, err
	}
	var apiErr *gitlab.APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != http.StatusUnauthorized && apiErr.Status != http.StatusForbidden && apiErr.Status != http.StatusNotFound) {
		return "", gitlabFailure(err)
	}
	// Not allowed to read metadata (e.g. a job token on some versions).
	if fallback != "" {
		return fallback, nil
	}
	return kas.ProxyURLFromGitLab(client.BaseURL()), nil
}

// gitlabFailure turns a GitLab API error into an exit-1 error with a fix.
func gitlabFailure(err error) error {
	var apiErr *gitlab.APIError
	var netErr *gitlab.NetworkError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return failed("the token was not accepted: in a job, CI_JOB_TOKEN is valid only while the job runs; elsewhere check GITLAB_TOKEN or run kubectl gitlab login", "%v", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden:
		return failed("the token lacks the rights for this call (a project's agents need the Developer role and the read_api scope)", "%v", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return failed("check the project path or ID and the GitLab URL", "%v", err)
	case errors.As(err, &netErr):
		if strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "certificate") {
			return failed("GitLab's certificate is not trusted: pass its CA with --certificate-authority or $KAS_CERTIFICATE, or set SSL_CERT_FILE", "%v", err)
		}
		return failed("check the GitLab URL and the network; the request was retried", "%v", err)
	}
	return failed("", "%v", err)
}

// onPath reports whether kubectl will find pluginCommand through PATH.
func (d *Deps) onPath(name string) bool {
	for _, dir := range filepath.SplitList(d.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

func describeAgentContext(c agentContext) string {
	ns := ""
	if c.Namespace != "" {
		ns = ", namespace " + c.Namespace
	}
	return fmt.Sprintf("%s (agent %d%s)", c.Context, c.AgentID, ns)
}
