package doctor

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/credential"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kas"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/kubeconfig"
)

// brokenKubectl tells the kubectl versions whose validation fails with 426
// through KAS (kubernetes/kubernetes#117463): v1.27.0 and v1.27.1, with
// any build suffix (v1.27.1-eks-2f008fe).
func brokenKubectl(version string) bool {
	v := strings.TrimPrefix(version, "v")
	for _, bad := range []string{"1.27.0", "1.27.1"} {
		if rest, ok := strings.CutPrefix(v, bad); ok && (rest == "" || rest[0] < '0' || rest[0] > '9') {
			return true
		}
	}
	return false
}

const installKubectl = "install kubectl (any version but 1.27.0 and 1.27.1): https://kubernetes.io/docs/tasks/tools/"

// checkKubectl: kubectl is on PATH and not 1.27.0 or 1.27.1.
func (r *run) checkKubectl() Check {
	const name, title = "kubectl", "kubectl"
	path, err := r.d.LookPath("kubectl")
	if err != nil {
		return fail(name, title, installKubectl, "kubectl is not on PATH")
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	out, err := r.d.Run(ctx, path, "version", "--client", "-o", "json")
	if err != nil {
		return warn(name, title, "check that "+path+" is a working kubectl; "+installKubectl,
			"%s does not tell its version (kubectl version --client -o json: %v)", path, err)
	}
	var v struct {
		ClientVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
	}
	if json.Unmarshal(out, &v) != nil || v.ClientVersion.GitVersion == "" {
		return warn(name, title, "check that "+path+" is kubectl; "+installKubectl,
			"%s printed no clientVersion.gitVersion for kubectl version --client -o json", path)
	}
	version := v.ClientVersion.GitVersion
	if brokenKubectl(version) {
		return fail(name, title, kas.KubectlUpgradeFix,
			"kubectl %s (%s) fails through KAS: \"error validating data: the server responded with the status code 426 but did not return more information\"", version, path)
	}
	return pass(name, title, "kubectl %s (%s)", version, path)
}

// checkCache: ~/.kube/cache (or $KUBECACHEDIR) is a writable directory,
// or can be created. Without it kubectl, Helm, kpt and kustomize fetch
// discovery on every call: slower, and more load on the cluster.
func (r *run) checkCache() Check {
	const name, title = "kube-cache", "kube cache"
	dir := r.d.getenv("KUBECACHEDIR")
	if dir == "" {
		dir = filepath.Join(r.d.Home, ".kube", "cache")
	}
	const cost = "kubectl, Helm, kpt and kustomize then fetch discovery on every call (slower, more load on the cluster)"
	fixDir := "make it writable by this user (in a CI image: create $HOME/.kube/cache owned by the job's user), or set KUBECACHEDIR to a writable directory"
	info, err := r.d.FS.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return warn(name, title, "remove it (rm "+dir+"); kubectl creates the directory, or set KUBECACHEDIR",
			"%s is a file, not a directory: %s", dir, cost)
	case err == nil:
		if err := r.d.FS.ProbeWrite(dir); err != nil {
			return warn(name, title, fixDir, "%s is not writable (%v): %s", dir, rootCause(err), cost)
		}
		return pass(name, title, "%s is writable", dir)
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return warn(name, title, fixDir, "%s cannot be read (%v): %s", dir, rootCause(err), cost)
	}
	// kubectl creates it: the nearest existing parent must be a writable
	// directory.
	parent := filepath.Dir(dir)
	for {
		info, err := r.d.FS.Stat(parent)
		if err == nil {
			if !info.IsDir() {
				return warn(name, title, "remove the file "+parent+", or set KUBECACHEDIR to a writable directory",
					"%s cannot be created: %s is a file: %s", dir, parent, cost)
			}
			if err := r.d.FS.ProbeWrite(parent); err != nil {
				return warn(name, title, fixDir, "%s cannot be created: %s is not writable (%v): %s", dir, parent, rootCause(err), cost)
			}
			return pass(name, title, "%s does not exist yet; kubectl can create it", dir)
		}
		next := filepath.Dir(parent)
		if next == parent {
			return warn(name, title, fixDir, "%s cannot be created: %v", dir, rootCause(err))
		}
		parent = next
	}
}

// rootCause drops the "open /path: " of a PathError; messages name the
// path already.
func rootCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkKubeconfig: the kubeconfig loads.
func (r *run) checkKubeconfig() Check {
	const name, title = "kubeconfig", "kubeconfig"
	set, err := kubeconfig.Load(r.o.Kubeconfig)
	if err == nil {
		err = set.RequireExisting()
	}
	var parseErr *kubeconfig.ParseError
	var missing *kubeconfig.MissingError
	switch {
	case errors.As(err, &parseErr):
		return fail(name, title, "fix the file by hand (kubectl refuses it too)", "%v", err)
	case errors.As(err, &missing):
		return fail(name, title, "in a GitLab CI job, KUBECONFIG is set when an agent is shared with the project (ci_access);\nelsewhere, write one with kubectl gitlab update-kubeconfig", "%v", err)
	case err != nil:
		return fail(name, title, "", "%v", err)
	}
	r.set = set
	var files []string
	for _, f := range set.Files {
		if f.Exists {
			files = append(files, f.Path)
		}
	}
	// A value kubectl misreads makes it refuse the file, though the
	// plugin (and so the checks below) reads it.
	if misread := set.Misread(); len(misread) > 0 {
		found, fixes := make([]string, len(misread)), make([]string, 0, len(misread))
		for i, m := range misread {
			found[i] = m.String()
			if fix := agentcontext.MisreadFix(m); !slices.Contains(fixes, fix) {
				fixes = append(fixes, fix)
			}
		}
		return fail(name, title, strings.Join(fixes, "\n"), "%s", strings.Join(found, "\n"))
	}
	return pass(name, title, "%s: %d contexts, %d of them agent contexts", strings.Join(files, ", "), len(set.ContextNames()), len(agentcontext.Agents(set)))
}

// checkContext picks the agent context to check as Resolve does for
// doctor: --context, else the current context when it is an agent context,
// else the one kubectl gitlab use-context would switch to.
func (r *run) checkContext() Check {
	const name, title = "context", "agent context"
	if r.set == nil {
		return skip(name, title, "no kubeconfig")
	}
	res, err := agentcontext.Resolve(r.set, agentcontext.Query{Name: r.o.Context, KubeContext: r.d.getenv("KUBE_CONTEXT"), Fallback: agentcontext.CurrentAgent})
	if err != nil {
		return fromError(name, title, err)
	}
	if !res.Agent {
		return fail(name, title, agentcontext.SwitchHint(agentcontext.Agents(r.set)), "%q is not an agent context", res.Name)
	}
	from := res.By
	if r.o.Context != "" {
		from = "--context"
	}
	r.name, r.info = res.Name, res.Info
	ns := res.Namespace
	if ns == "" {
		ns = "default"
	}
	return pass(name, title, "%s (%s): agent %d, %s, namespace %s", res.Name, from, res.AgentID, res.Auth, ns)
}

// checkCurrentContext: plain kubectl (no --context) goes through an agent:
// GitLab makes a certificate-based gitlab-deploy context current when the
// environment has one, and sets none otherwise.
func (r *run) checkCurrentContext() Check {
	const name, title = "current-context", "current context"
	if r.set == nil {
		return skip(name, title, "no kubeconfig")
	}
	agents := agentcontext.Agents(r.set)
	current := r.set.CurrentContext()
	if len(agents) == 0 {
		return skip(name, title, "no agent contexts")
	}
	fix := agentcontext.SwitchFix(r.set, r.d.getenv("KUBE_CONTEXT"))
	_, _, exists := r.set.Context(current)
	switch {
	case current == "":
		return fail(name, title, fix, "none is set: plain kubectl has no cluster to talk to (GitLab sets none in a job's kubeconfig)")
	case !exists:
		return fail(name, title, fix, "current-context %q names no context: plain kubectl fails", current)
	}
	info := agentcontext.Describe(r.set, current)
	if info.Agent {
		return pass(name, title, "%s, an agent context", current)
	}
	if current == "gitlab-deploy" {
		return fail(name, title, fix, "gitlab-deploy, the certificate-based cluster that GitLab makes current when the environment has one: "+
			"plain kubectl talks to that cluster, not through an agent, although %d agent contexts exist", len(agents))
	}
	return fail(name, title, fix, "%q is not an agent context, although %d agent contexts exist", current, len(agents))
}

// checkKASURL: the server is an https URL, and the client can be built
// from the context (CA, client certificate, proxy).
func (r *run) checkKASURL() Check {
	const name, title = "kas-url", "KAS URL"
	if r.name == "" {
		return skip(name, title, "no agent context")
	}
	cfg, err := kas.ConfigForContext(r.set, r.name)
	if err != nil {
		return fromError(name, title, err)
	}
	server := redact.URL(cfg.Cluster.Server)
	if _, err := kas.CheckServerURL(cfg.Cluster.Server); err != nil {
		var e *kas.Error
		if errors.As(err, &e) && e.Reason == kas.ReasonPlainHTTP {
			return fail(name, title, e.Fix(), "%s is plain http", server)
		}
		return fromError(name, title, err)
	}
	cfg.Transport, cfg.Exec, cfg.Timeout, cfg.Progress = r.d.Transport, r.d.Exec, r.d.Timeout, r.d.Progress
	client, err := kas.NewClient(cfg)
	if err != nil {
		return fromError(name, title, err)
	}
	r.client = client
	if cfg.Cluster.InsecureSkipTLSVerify {
		return warn(name, title, "embed KAS's CA instead: kubectl gitlab use-context "+r.name+" --certificate-authority FILE (or $KAS_CERTIFICATE)",
			"%s, but insecure-skip-tls-verify: KAS's certificate is not checked, so the token may go to anyone in between", server)
	}
	return pass(name, title, "%s (CA: %s)", server, describeCA(r.info.CA))
}

func describeCA(ca string) string {
	switch ca {
	case "embedded":
		return "embedded in the kubeconfig"
	case "file":
		return "a file named in the kubeconfig"
	case "system":
		return "the system's roots and SSL_CERT_FILE"
	}
	return ca
}

// probeTimeout bounds the request without a credential, which KAS answers
// before it looks for any agent.
const probeTimeout = 10 * time.Second

// checkConnection: KAS answers at all (no credential is sent), and its
// certificate verifies.
func (r *run) checkConnection() (reach, trust Check) {
	const reachName, reachTitle = "kas-reachable", "KAS reachable"
	const tlsName, tlsTitle = "tls", "TLS"
	if r.client == nil {
		return skip(reachName, reachTitle, "no usable KAS URL"), skip(tlsName, tlsTitle, "no usable KAS URL")
	}
	// Without a credential KAS answers at once: no need to wait long.
	ctx, cancel := context.WithTimeout(r.ctx, probeTimeout)
	defer cancel()
	probe, err := r.client.Probe(ctx, "/version")
	var e *kas.Error
	switch {
	case err == nil:
	case errors.As(err, &e) && e.IsTLS():
		r.reachable = true
		return pass(reachName, reachTitle, "%s accepts connections", hostOf(r.client.Server())), fromError(tlsName, tlsTitle, err)
	default:
		return fromError(reachName, reachTitle, err), skip(tlsName, tlsTitle, "KAS not reachable")
	}
	r.reachable, r.trusted = true, true
	reach = pass(reachName, reachTitle, "%s answers", hostOf(r.client.Server()))
	if len(probe.PeerCertificates) == 0 {
		return reach, pass(tlsName, tlsTitle, "connected")
	}
	leaf := probe.PeerCertificates[0]
	left := leaf.NotAfter.Sub(r.d.Now())
	if r.info.CA == "insecure" {
		return reach, warn(tlsName, tlsTitle, "embed KAS's CA: kubectl gitlab use-context "+r.name+" --certificate-authority FILE",
			"not verified (insecure-skip-tls-verify); certificate for %s issued by %s", certName(leaf), leaf.Issuer.CommonName)
	}
	if left < 7*24*time.Hour {
		return reach, warn(tlsName, tlsTitle, "have KAS's certificate renewed before it expires; kubectl fails with x509 errors after",
			"verified, but the certificate for %s expires %s (in %s)", certName(leaf), leaf.NotAfter.UTC().Format(time.DateOnly), describeDuration(left))
	}
	return reach, pass(tlsName, tlsTitle, "verified: certificate for %s issued by %q, valid until %s", certName(leaf), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.DateOnly))
}

// hostOf is a URL's host and port, without any user information.
func hostOf(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		raw = raw[i+3:]
	}
	if i := strings.IndexAny(raw, "/?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.LastIndexByte(raw, '@'); i >= 0 {
		raw = raw[i+1:]
	}
	return raw
}

// describeDuration says how long, roughly.
func describeDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "the past"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// certName names what a certificate is for: its first DNS name or IP,
// else its common name.
func certName(c *x509.Certificate) string {
	switch {
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String()
	}
	return c.Subject.CommonName
}

// checkCredential: the context's user gives a credential: a token, or an
// exec plugin that kubectl finds on PATH and that answers.
func (r *run) checkCredential() Check {
	const name, title = "credential", "credential"
	if r.client == nil {
		return skip(name, title, "no usable KAS URL")
	}
	user, _, _ := r.set.User(r.info.User)
	if user.Exec != nil {
		if _, err := r.d.LookPath(user.Exec.Command); err != nil {
			hint := user.Exec.InstallHint
			if hint == "" {
				hint = "install it, or fix the command of the user's exec entry"
			}
			return fail(name, title, hint, "kubectl runs %q for this context's credential, and it is not on PATH", user.Exec.Command)
		}
	}
	cred, err := r.client.Credential(r.ctx)
	if err != nil {
		return fromError(name, title, err)
	}
	r.cred = cred
	token, isAgentToken := cred.AgentToken()
	if !isAgentToken {
		if cred.Token == "" {
			return fail(name, title, "write an agent context: kubectl gitlab update-kubeconfig", "the context's user has no token (%s)", cred.Source)
		}
		return fail(name, title, "KAS takes ci:<agent-id>:<job token> or pat:<agent-id>:<token>; write the context anew: kubectl gitlab update-kubeconfig",
			"the %s is not a KAS agent token", cred.Source)
	}
	r.credentialOK = true
	shown := describeToken(token)
	if cred.Source == "token" {
		cred.Source = "the kubeconfig's token"
	}
	switch {
	case !cred.Expires.IsZero() && !r.d.Now().Before(cred.Expires):
		r.credentialOK = false
		return fail(name, title, "run kubectl gitlab login again", "%s: %s, which expired at %s", cred.Source, shown, cred.Expires.UTC().Format(time.RFC3339))
	case token.Kind == credential.KindCI && r.d.getenv("CI_JOB_TOKEN") != "" && token.Secret != r.d.getenv("CI_JOB_TOKEN"):
		return warn(name, title, "use this job's $KUBECONFIG, or exec contexts that always take the running job's token: kubectl gitlab update-kubeconfig",
			"%s: %s, but not this job's CI_JOB_TOKEN: a job token works only while its job runs", cred.Source, shown)
	case !cred.Expires.IsZero():
		return pass(name, title, "%s: %s, valid until %s", cred.Source, shown, cred.Expires.UTC().Format(time.RFC3339))
	}
	return pass(name, title, "%s: %s", cred.Source, shown)
}

// describeToken shows an agent token without its secret.
func describeToken(t credential.Token) string {
	switch t.Kind {
	case credential.KindCI:
		return fmt.Sprintf("ci:%d:<job token>", t.AgentID)
	case credential.KindPAT:
		return fmt.Sprintf("pat:%d:<personal access token>", t.AgentID)
	}
	return fmt.Sprintf("%s:%d:<secret>", t.Kind, t.AgentID)
}

// checkAccepted asks the cluster behind the agent for its version: KAS
// must accept the token, and the agent must answer. KAS's own 401
// (Gitlab-Unauthorized) and 403 (agentId is not allowed) say the token or
// ci_access is wrong; a 401 or 403 without them comes from the cluster.
// KAS authorizes before it looks for the agent (up to 20 s), so "agent not
// connected" and agentk's refusals mean the token was accepted.
func (r *run) checkAccepted() (token, agent Check) {
	const tokenName, tokenTitle = "token", "token accepted"
	const agentName, agentTitle = "agent", "agent answers"
	switch {
	case !r.trusted:
		return skip(tokenName, tokenTitle, "no trusted connection to KAS (no secret is sent before)"), skip(agentName, agentTitle, "no trusted connection to KAS")
	case !r.credentialOK:
		return skip(tokenName, tokenTitle, "no credential"), skip(agentName, agentTitle, "no credential")
	}
	v, err := r.client.Version(r.ctx)
	shown := describeToken(mustAgentToken(r.cred))
	accepted := pass(tokenName, tokenTitle, "KAS accepted %s", shown)
	var e *kas.Error
	if err != nil && !errors.As(err, &e) {
		return fromError(tokenName, tokenTitle, err), skip(agentName, agentTitle, "the token was not accepted")
	}
	if err != nil {
		switch e.Reason {
		case kas.ReasonAgentNotAllowed:
			return Check{Name: tokenName, Title: tokenTitle, Status: Fail, Found: e.Error(), Fix: kas.AgentNotAllowedFix(r.name, r.info.AgentID, r.d.LookupEnv)},
				skip(agentName, agentTitle, "the token was not accepted")
		case kas.ReasonClusterUnauthorized, kas.ReasonClusterForbidden, kas.ReasonAgentUnavailable, kas.ReasonUpgradeRequired, kas.ReasonNotFound,
			kas.ReasonAgentNotConnected, kas.ReasonImpersonationRefused:
			// KAS let the request through; what failed is behind it.
			r.accepted = true
			return accepted, fromError(agentName, agentTitle, err)
		case kas.ReasonUserSessionFailed:
			// KAS 16.5 answers the same 500 for a token GitLab does not
			// know (GitLab's 400) and for GitLab failing (proxy.go,
			// authorizeProxyUser): the scopes check asked GitLab itself.
			if r.gitlabKnowsPAT {
				return fail(tokenName, tokenTitle, kas.GitLabFailedFix, "%s; GitLab knows the token (it answered for its scopes), so GitLab failed when KAS asked it", e.Error()),
					skip(agentName, agentTitle, "the token was not accepted")
			}
		case kas.ReasonTimeout:
			// No answer at all: whether KAS took the token is not known.
			return skip(tokenName, tokenTitle, "KAS did not answer in time"), fromError(agentName, agentTitle, err)
		}
		return fromError(tokenName, tokenTitle, err), skip(agentName, agentTitle, "the token was not accepted")
	}
	r.accepted, r.answered = true, true
	return accepted, pass(agentName, agentTitle, "the cluster behind agent %d answers: Kubernetes %s", r.info.AgentID, v.GitVersion)
}

func mustAgentToken(c kas.UserCredential) credential.Token {
	t, _ := c.AgentToken()
	return t
}

// checkIdentity shows who the cluster takes the requests for.
func (r *run) checkIdentity() Check {
	const name, title = "identity", "identity"
	if !r.answered {
		return skip(name, title, "the agent did not answer")
	}
	review, err := r.client.SelfSubjectReview(r.ctx)
	var e *kas.Error
	switch {
	case errors.As(err, &e) && e.Reason == kas.ReasonNotFound:
		return warn(name, title, "kubectl gitlab whoami needs Kubernetes 1.27 or later", "the cluster serves no SelfSubjectReview")
	case err != nil:
		return fromError(name, title, err)
	}
	r.user = &review.UserInfo
	access := kas.DescribeAccess(review.UserInfo)
	groups := ""
	if n := len(review.UserInfo.Groups); n > 0 {
		groups = fmt.Sprintf(" in %d groups", n)
	}
	return pass(name, title, "%s%s (access_as %s; kubectl gitlab whoami shows all)", review.UserInfo.Username, groups, access.Mode)
}

// checkRBAC: the identity may do something in the namespace kubectl uses.
// A job that may do nothing gets 403 Forbidden from the cluster, not from
// KAS, on every command.
func (r *run) checkRBAC() Check {
	const name, title = "rbac", "RBAC"
	if r.user == nil {
		return skip(name, title, "the identity is unknown")
	}
	ns := r.o.Namespace
	if ns == "" {
		ns = r.info.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	rules, err := r.client.SelfSubjectRulesReview(r.ctx, ns)
	var e *kas.Error
	switch {
	case errors.As(err, &e) && e.Reason == kas.ReasonNotFound:
		return warn(name, title, "", "the cluster serves no SelfSubjectRulesReview; cannot tell what %s may do", r.user.Username)
	case err != nil:
		return fromError(name, title, err)
	}
	granted := rules.Granted()
	if len(granted) == 0 {
		return fail(name, title, r.rbacFix(ns),
			"%s may do nothing in namespace %s: kubectl gets 403 Forbidden from the cluster (not from KAS) there", r.user.Username, ns)
	}
	return pass(name, title, "in namespace %s, %s may: %s", ns, r.user.Username, kas.Summary(granted, 4))
}

// rbacFix suggests a binding for the identity's project group, when it
// has one.
func (r *run) rbacFix(ns string) string {
	project := "<project id>"
	for _, g := range r.user.Groups {
		if id, ok := strings.CutPrefix(g, "gitlab:project:"); ok {
			project = id
		}
	}
	return "have a cluster admin grant the identity (kubectl gitlab whoami) a role in " + ns + ", e.g.\n" +
		"kubectl gitlab access rbac --for-project-id " + project + " --clusterrole edit --namespace " + ns + " | kubectl apply -f -\n" +
		"or, if the job works in another namespace, set it: kubectl gitlab use-context " + r.name + " --namespace NS (or doctor --namespace NS)"
}
