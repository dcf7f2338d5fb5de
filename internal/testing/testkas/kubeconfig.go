package testkas

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// KubeconfigSpec is what GitLab puts into a CI job's KUBECONFIG
// (gitlabhq/gitlabhq app/services/ci/generate_kubeconfig_service.rb).
type KubeconfigSpec struct {
	// ProxyURL is Gitlab::Kas.tunnel_url, verbatim: the cluster gitlab's
	// server, never with a CA.
	ProxyURL string
	JobToken string
	// Agents in the order of the job's authorizations.
	Agents []KubeconfigAgent
	// CertificateCluster is the environment's certificate-based cluster,
	// merged after the agents as gitlab-deploy (Template#merge_yaml).
	CertificateCluster *CertificateCluster
}

// KubeconfigAgent is one agent a job may use.
type KubeconfigAgent struct {
	ID                int64
	ConfigProjectPath string // the agent's project, not the job's
	Name              string
	DefaultNamespace  string // ci_access default_namespace; "" leaves namespace out
}

// RenderJobKubeconfig writes a job's kubeconfig byte for byte as GitLab
// does: Gitlab::Kubernetes::Kubeconfig::Template#to_yaml
// (lib/gitlab/kubernetes/kubeconfig/template.rb and entry/*.rb) dumped by
// Ruby's YAML. That is: "---" first; apiVersion, kind, clusters, users,
// contexts, then current-context only when a certificate cluster was
// merged; sequences flush with their key; context keys cluster,
// namespace, user; values quoted as Psych quotes them. It returns nil
// when the job gets no KUBECONFIG (no context: Template#valid?).
func RenderJobKubeconfig(spec KubeconfigSpec) ([]byte, error) {
	type entry struct {
		name  string
		key   string      // cluster, user or context
		pairs [][2]string // in the entry's to_h order; "" values left out (.compact)
	}
	clusters := []entry{{"gitlab", "cluster", [][2]string{{"server", spec.ProxyURL}}}}
	var users, contexts []entry
	for _, a := range spec.Agents {
		user := fmt.Sprintf("agent:%d", a.ID)
		users = append(users, entry{user, "user", [][2]string{{"token", fmt.Sprintf("ci:%d:%s", a.ID, spec.JobToken)}}})
		contexts = append(contexts, entry{a.ConfigProjectPath + ":" + a.Name, "context",
			[][2]string{{"cluster", "gitlab"}, {"namespace", a.DefaultNamespace}, {"user", user}}})
	}
	current := ""
	if c := spec.CertificateCluster; c != nil {
		ca := ""
		if c.CAPEM != nil {
			ca = base64.StdEncoding.EncodeToString(c.CAPEM)
		}
		clusters = append(clusters, entry{"gitlab-deploy", "cluster", [][2]string{{"server", c.Server}, {"certificate-authority-data", ca}}})
		users = append(users, entry{"gitlab-deploy", "user", [][2]string{{"token", c.Token}}})
		contexts = append(contexts, entry{"gitlab-deploy", "context",
			[][2]string{{"cluster", "gitlab-deploy"}, {"namespace", c.Namespace}, {"user", "gitlab-deploy"}}})
		current = "gitlab-deploy"
	}
	if len(contexts) == 0 {
		return nil, nil
	}
	var b strings.Builder
	var err error
	value := func(v string, column int) string {
		out, e := psychScalar(v, column)
		if e != nil && err == nil {
			err = e
		}
		return out
	}
	b.WriteString("---\napiVersion: v1\nkind: Config\n")
	for _, list := range []struct {
		key     string
		entries []entry
	}{{"clusters", clusters}, {"users", users}, {"contexts", contexts}} {
		if len(list.entries) == 0 {
			b.WriteString(list.key + ": []\n")
			continue
		}
		b.WriteString(list.key + ":\n")
		for _, e := range list.entries {
			fmt.Fprintf(&b, "- name: %s\n  %s:\n", value(e.name, len("- name: ")), e.key)
			for _, kv := range e.pairs {
				if kv[1] != "" {
					fmt.Fprintf(&b, "    %s: %s\n", kv[0], value(kv[1], len("    "+kv[0]+": ")))
				}
			}
		}
	}
	if current != "" {
		fmt.Fprintf(&b, "current-context: %s\n", value(current, len("current-context: ")))
	}
	if err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// JobKubeconfig is the KUBECONFIG GitLab gives the job with this token:
// its allowed agents against K8sProxyURL, and its certificate cluster.
func (s *Server) JobKubeconfig(token string) ([]byte, error) {
	cfg := s.config()
	for _, job := range cfg.Jobs {
		if job.Token != token {
			continue
		}
		spec := KubeconfigSpec{ProxyURL: s.K8sProxyURL, JobToken: job.Token, CertificateCluster: job.CertificateCluster}
		for _, auth := range jobAuthorizations(cfg, &job) {
			a := auth.agent
			ns, _ := auth.config.get("default_namespace").(string) // the implicit authorization's config is {}
			spec.Agents = append(spec.Agents, KubeconfigAgent{ID: a.ID, ConfigProjectPath: a.ConfigProjectPath, Name: a.Name, DefaultNamespace: ns})
		}
		return RenderJobKubeconfig(spec)
	}
	return nil, fmt.Errorf("testkas: no job has that token")
}
