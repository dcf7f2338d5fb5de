package kas

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/redact"
	"gitlab.com/kubectl-gitlab/kubectl-gitlab/pkg/agentcontext"
)

// Reason says what a failed request to KAS means. Every command that
// reaches KAS decodes failures into an *Error with one, so that whoami,
// doctor and the rest explain the same failure the same way.
type Reason string

// Answers from KAS or from the cluster behind it.
const (
	// ReasonTokenRejected is KAS's own 401 (header Gitlab-Unauthorized).
	ReasonTokenRejected Reason = "TokenRejected"
	// ReasonAgentNotAllowed is KAS's 403 "agentId is not allowed":
	// ci_access does not admit the job, or there is no such agent.
	ReasonAgentNotAllowed Reason = "AgentNotAllowed"
	// ReasonJobForbidden is GitLab's 403 to KAS's /job/allowed_agents,
	// relayed: the job's user may not use the API.
	ReasonJobForbidden Reason = "JobForbidden"
	// ReasonJobNotFound is a 404 to KAS's /job/allowed_agents, relayed:
	// GitLab's API does not serve that route to KAS (a job token that
	// GitLab does not know is a 401).
	ReasonJobNotFound Reason = "JobNotFound"
	// ReasonGitLabFailed is KAS's 500 when it could not get GitLab's
	// answer about a job token.
	ReasonGitLabFailed Reason = "GitLabFailed"
	// ReasonUserSessionFailed is KAS's 500 when GitLab's answer about a
	// personal access token was not 2xx, 401, 403 or 404: GitLab's 400
	// for a token it does not know, or a failure.
	ReasonUserSessionFailed Reason = "UserSessionFailed"
	// ReasonImpersonationRefused is agentk's refusal of --as and friends
	// when the agent impersonates already: a 502 "nested impersonation is
	// not supported" since KAS 15.1, a 400 before.
	ReasonImpersonationRefused Reason = "ImpersonationRefused"
	// ReasonAgentNotConnected is KAS's 502 after it looked for the
	// agent's tunnel for 20 s: "Agent connection not found".
	ReasonAgentNotConnected Reason = "AgentNotConnected"
	// ReasonBadRequest is any other 400.
	ReasonBadRequest Reason = "BadRequest"
	// ReasonClusterUnauthorized is a 401 that the cluster gave, not KAS.
	ReasonClusterUnauthorized Reason = "ClusterUnauthorized"
	// ReasonClusterForbidden is a 403 from the cluster: RBAC on the
	// identity the agent uses.
	ReasonClusterForbidden Reason = "ClusterForbidden"
	// ReasonUpgradeRequired is the 426 of kubectl 1.27.0 and 1.27.1.
	ReasonUpgradeRequired Reason = "UpgradeRequired"
	// ReasonAgentUnavailable is a 502, 503 or 504: KAS is up, the agent
	// does not answer.
	ReasonAgentUnavailable Reason = "AgentUnavailable"
	ReasonNotFound         Reason = "NotFound"
	ReasonServerError      Reason = "ServerError"
	// ReasonRedirected is a redirect that was not followed: off KAS's
	// origin, or one that changes the method (internal/httpsafe).
	ReasonRedirected Reason = "Redirected"
)

// Failures before any answer.
const (
	ReasonUntrustedCertificate Reason = "UntrustedCertificate"
	ReasonCertificateName      Reason = "CertificateNameMismatch"
	ReasonCertificateInvalid   Reason = "CertificateInvalid"
	ReasonNotTLS               Reason = "NotTLS"
	ReasonConnectionRefused    Reason = "ConnectionRefused"
	ReasonHostNotFound         Reason = "HostNotFound"
	ReasonTimeout              Reason = "Timeout"
	ReasonNetwork              Reason = "Network"
)

// Failures of the kubeconfig or of getting a credential.
const (
	// ReasonPlainHTTP is an http:// server URL.
	ReasonPlainHTTP Reason = "PlainHTTP"
	// ReasonKubeconfig is a context that cannot be used as written.
	ReasonKubeconfig Reason = "Kubeconfig"
	// ReasonCredential is an exec plugin or token file that gave no
	// credential.
	ReasonCredential Reason = "Credential"
)

// Error is a failed request to KAS (or to the API server of any context),
// decoded: what happened and why in Error(), what to do in Fix(). It never
// holds a secret.
type Error struct {
	Reason Reason
	// StatusCode is the HTTP status; 0 when there was no answer.
	StatusCode int
	// FromKAS is true when KAS itself answered, not the cluster behind it.
	FromKAS bool
	// Message is what the server said (a Status message), or the
	// transport error.
	Message string
	// URL is the server that was asked.
	URL string
	// Context is the kubeconfig context, for fixes that name it.
	Context string
	// TokenKind is "ci" or "pat" when the bearer token was an agent
	// token; fixes differ. AgentID is its agent.
	TokenKind string
	AgentID   int64
	// CAConfigured is true when the cluster entry names a CA, so an
	// untrusted certificate means the wrong CA rather than none.
	CAConfigured bool
	// Hint replaces the generic fix (e.g. an exec plugin's installHint).
	Hint string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	status := ""
	if e.StatusCode != 0 {
		status = fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	where := redact.URL(e.URL)
	if where == "" {
		where = "the server"
	}
	var what string
	switch e.Reason {
	case ReasonTokenRejected:
		what = "KAS rejected the token (" + status + ", Gitlab-Unauthorized: true)"
	case ReasonAgentNotAllowed:
		what = "KAS does not let this job use the agent (" + status + ")"
	case ReasonJobForbidden:
		what = "GitLab refused KAS's check of the job token (" + status + ", relayed by KAS)"
	case ReasonJobNotFound:
		what = "GitLab answered KAS's check of the job token with " + status + " (relayed by KAS)"
	case ReasonGitLabFailed:
		what = "KAS could not ask GitLab about the job token (" + status + ")"
	case ReasonUserSessionFailed:
		what = "KAS could not get GitLab to authorize the personal access token (" + status + ")"
	case ReasonImpersonationRefused:
		what = "the agent refused client impersonation (" + status + ")"
	case ReasonAgentNotConnected:
		what = "the agent is not connected to KAS (" + status + ", after KAS looked for it for 20 s)"
	case ReasonClusterUnauthorized:
		what = "the cluster behind the agent did not authenticate the request (" + status + " from the cluster, not from KAS)"
	case ReasonClusterForbidden:
		what = "the cluster's RBAC forbids this to the identity the agent uses (" + status + " from the cluster, not from KAS)"
	case ReasonUpgradeRequired:
		what = "the server answered " + status
	case ReasonAgentUnavailable:
		what = "KAS could not get an answer from the agent (" + status + ")"
	case ReasonUntrustedCertificate:
		what = "KAS's certificate is not trusted at " + where
	case ReasonCertificateName:
		what = "KAS's certificate does not name the host of " + where
	case ReasonCertificateInvalid:
		what = "KAS's certificate is not valid at " + where
	case ReasonNotTLS:
		what = "no TLS at " + where
	case ReasonConnectionRefused, ReasonHostNotFound, ReasonTimeout, ReasonNetwork:
		what = "cannot reach " + where
	case ReasonPlainHTTP, ReasonKubeconfig, ReasonCredential:
		return e.Message
	case ReasonRedirected:
		return where + ": " + e.Message
	default:
		what = "the server answered " + status
	}
	if e.Message == "" {
		return what
	}
	return what + ": " + e.Message
}

// Fix says what to do about it.
func (e *Error) Fix() string {
	if e.Hint != "" {
		return e.Hint
	}
	ctx := e.Context
	if ctx == "" {
		ctx = "CONTEXT"
	}
	switch e.Reason {
	case ReasonTokenRejected:
		ci := "CI_JOB_TOKEN is valid only while its job runs: a kubeconfig or token kept from another job no longer works\n" +
			"(use the running job's $KUBECONFIG, or exec contexts: kubectl gitlab update-kubeconfig); also check the agent ID in ci:<agent-id>:…"
		pat := "the personal access token is wrong, expired or revoked, lacks the k8s_proxy scope, or the agent's user_access\n" +
			"does not admit you: run kubectl gitlab login (and check user_access in the agent's config.yaml)"
		switch e.TokenKind {
		case "ci":
			return "the job token is wrong or expired: " + ci
		case "pat":
			return pat
		}
		return "the token is wrong or expired. In a job: " + ci + "\nOn a workstation: " + pat
	case ReasonAgentNotAllowed:
		return AgentNotAllowedFix(ctx, e.AgentID, nil)
	case ReasonJobForbidden:
		return "GitLab lets the job's user (GITLAB_USER_LOGIN) not use its API: the account is blocked, deactivated or locked, or has not accepted\n" +
			"the terms; have a GitLab administrator check it, or run the pipeline as another user"
	case ReasonJobNotFound:
		return "KAS asked GitLab's /api/v4/job/allowed_agents and found no such route: KAS's gitlab address points at something that is not\n" +
			"GitLab's API, or a proxy between them hides it. Have the GitLab administrator check KAS's configuration and logs"
	case ReasonGitLabFailed:
		return GitLabFailedFix
	case ReasonUserSessionFailed:
		return "GitLab does not know this personal access token (deleted, or mistyped; GitLab then answers KAS 400), or GitLab failed:\n" +
			"run kubectl gitlab login with a valid token that has the k8s_proxy scope; if it lasts, have the administrator check KAS's logs"
	case ReasonImpersonationRefused:
		return "the agent impersonates already (access_as: ci_job, impersonate or user in its config.yaml), and agentk refuses to impersonate\n" +
			"a second time what --as, --as-group, --as-uid or the kubeconfig user's as:, as-groups:, as-user-extra: ask: drop them, and give the\n" +
			"identity the agent impersonates (kubectl gitlab whoami) the rights it needs with RBAC (kubectl gitlab access rbac)"
	case ReasonAgentNotConnected:
		return AgentNotConnectedFix(e.AgentID)
	case ReasonClusterForbidden:
		return "KAS accepted the token; the identity the agent uses in the cluster lacks the RBAC rights. See it with kubectl gitlab whoami,\n" +
			"then have a cluster admin bind a role to its groups, e.g.\n" +
			"kubectl gitlab access rbac --for-project-id <project id> --clusterrole edit --namespace <namespace> | kubectl apply -f -"
	case ReasonClusterUnauthorized:
		return "KAS accepted the token, but the cluster did not accept the agent's request: the agent's service account token may be\n" +
			"invalid, or it may not impersonate (it needs the impersonate verb on users, groups, uids and userextras); check the agent's logs and RBAC"
	case ReasonUpgradeRequired:
		return KubectlUpgradeFix
	case ReasonAgentUnavailable:
		return "KAS is up but the agent does not answer: check the agent's pods in the cluster (kubectl logs in the agent's namespace)\n" +
			"and its token; the agent reconnects by itself once it runs"
	case ReasonUntrustedCertificate:
		return UntrustedCertificateFix(ctx, e.CAConfigured)
	case ReasonCertificateName:
		return "use the k8s-proxy URL that GitLab gives (kubectl gitlab update-kubeconfig finds it), or set the cluster's tls-server-name\n" +
			"to a name in KAS's certificate"
	case ReasonCertificateInvalid:
		return "KAS's certificate has expired, is not yet valid, or may not serve TLS: check this machine's clock, and have the certificate renewed"
	case ReasonNotTLS:
		return "the server speaks plain HTTP where https was asked for: check the port in the server URL; KAS's k8s-proxy serves HTTPS"
	case ReasonConnectionRefused:
		return "nothing listens there: KAS is down, or the server URL is wrong (GitLab.com: https://kas.gitlab.com/k8s-proxy/;\n" +
			"self-managed: https://<gitlab host>/-/kubernetes-agent/k8s-proxy/); kubectl gitlab update-kubeconfig writes the right one"
	case ReasonHostNotFound:
		return "the host name does not resolve: check the server URL (kubectl gitlab update-kubeconfig writes the right one) and DNS"
	case ReasonTimeout:
		return "KAS did not answer in time: check firewalls and proxies (HTTPS_PROXY, the cluster's proxy-url) between here and KAS"
	case ReasonNetwork:
		return "check the server URL and the network"
	case ReasonPlainHTTP:
		return PlainHTTPFix
	case ReasonNotFound:
		return "the cluster does not serve this API; it may be too old"
	}
	return ""
}

// GitLabFailedFix is the fix when GitLab failed KAS's question about a
// token: nothing the user's token or configuration can change.
const GitLabFailedFix = "GitLab failed or could not be reached when KAS asked it (after KAS's retries): try again; if it lasts, have the GitLab\n" +
	"administrator check GitLab's health and KAS's connection to it (KAS's logs)"

// AgentNotConnectedFix says where to look when KAS has no tunnel to an
// agent: agentk's pods and logs, its version against KAS's, its token.
func AgentNotConnectedFix(agentID int64) string {
	agent := "the agent"
	if agentID != 0 {
		agent = fmt.Sprintf("agent %d", agentID)
	}
	return "KAS accepted the token, but no agentk of " + agent + " holds a connection to it. Check the agent's pods in its cluster (another way in):\n" +
		"kubectl get pods -n gitlab-agent-<agent name>, and their logs (kubectl logs -n gitlab-agent-<agent name> -l app.kubernetes.io/name=gitlab-agent);\n" +
		"its version must match KAS's (GitLab's version, or one minor older: upgrade the Helm release);\n" +
		"logs saying unauthenticated or token invalid mean its token was revoked or the agent re-registered: create a token in GitLab\n" +
		"(Operate > Kubernetes clusters > the agent > Access tokens) and put it in the agent's secret; then the agent reconnects by itself"
}

// KubectlUpgradeFix is the fix for the 426 of kubectl 1.27.0 and 1.27.1.
const KubectlUpgradeFix = "kubectl 1.27.0 and 1.27.1 get this 426 through KAS (https://github.com/kubernetes/kubernetes/issues/117463):\n" +
	"use another kubectl version (1.27.2 or later)"

// PlainHTTPFix explains what an http:// KAS URL leads to.
const PlainHTTPFix = "without TLS kubectl fails with \"error: You must be logged in to the server (the server has asked for the client to provide credentials)\":\n" +
	"configure TLS for GitLab and KAS, and use the https:// k8s-proxy URL (kubectl gitlab update-kubeconfig writes it)"

// UntrustedCertificateFix says how to make kubectl trust KAS.
func UntrustedCertificateFix(context string, caConfigured bool) string {
	first := "pass the CA that signed KAS's certificate"
	if caConfigured {
		first = "the CA in the kubeconfig did not sign KAS's certificate: pass the right one"
	}
	return first + ": kubectl gitlab use-context " + quoteArg(context) + " --certificate-authority FILE\n" +
		"(or set $KAS_CERTIFICATE, a path or PEM text, and run kubectl gitlab use-context); SSL_CERT_FILE works too.\n" +
		"--insecure-skip-tls-verify also works but is not recommended"
}

// AgentNotAllowedFix names what ci_access matches on, and the agent ID,
// which KAS answers alike when no agent has it. lookupEnv, when given,
// gives the job's values of those variables (they are not secrets).
func AgentNotAllowedFix(context string, agentID int64, lookupEnv func(string) (string, bool)) string {
	get := func(name string) string {
		if lookupEnv == nil {
			return ""
		}
		if v, ok := lookupEnv(name); ok {
			return fmt.Sprintf(" (here: %q)", v)
		}
		return " (not set here)"
	}
	agentProject, agentName := "<agent project>", "<agent>"
	if p, n, ok := agentcontext.SplitContextName(context); ok {
		agentProject, agentName = p, n
	}
	id := "<agent-id>"
	if agentID != 0 {
		id = fmt.Sprint(agentID)
	}
	return "KAS answers so when no agent has the ID in ci:" + id + ":… (check it: the agent's page in GitLab shows its ID), or when\n" +
		"the agent's ci_access does not admit this job: an entry must match the project (CI_PROJECT_PATH" + get("CI_PROJECT_PATH") + "),\n" +
		"the environment (CI_ENVIRONMENT_NAME" + get("CI_ENVIRONMENT_NAME") + ") and, with protected_branches_only, the branch\n" +
		"(CI_COMMIT_REF_PROTECTED" + get("CI_COMMIT_REF_PROTECTED") + "); changes to config.yaml take a minute or two to apply. Check it offline:\n" +
		"kubectl gitlab access explain .gitlab/agents/" + agentName + "/config.yaml --agent-project " + agentProject +
		" --project \"$CI_PROJECT_PATH\" --environment \"$CI_ENVIRONMENT_NAME\" [--protected-branch]"
}

func quoteArg(s string) string {
	if s == "" || strings.ContainsAny(s, " \t'\"$\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// DecodeError reads a failed answer (status 300 or more) from KAS or from
// the cluster behind it and says what it means. It reads and closes the
// body. KAS marks its own 401s with Gitlab-Unauthorized: true, and its
// messages start with "GitLab Agent Server"; everything else is the
// cluster's.
func DecodeError(resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := statusMessage(body)
	e := &Error{StatusCode: resp.StatusCode, Message: msg}
	if resp.Request != nil && resp.Request.URL != nil {
		u := *resp.Request.URL
		u.RawQuery = ""
		e.URL = u.String()
	}
	// KAS's messages (internal/module/kubernetes_api/server/proxy.go at
	// KAS 16.5) start "GitLab Agent Server: " and may end with a trace or
	// correlation ID: match what they contain.
	fromKAS := strings.HasPrefix(msg, "GitLab Agent Server")
	kasSays := func(s string) bool { return fromKAS && strings.Contains(msg, s) }
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized && strings.EqualFold(resp.Header.Get("Gitlab-Unauthorized"), "true"):
		e.Reason, e.FromKAS = ReasonTokenRejected, true
	case code == http.StatusUnauthorized:
		e.Reason = ReasonClusterUnauthorized
	case code == http.StatusForbidden && kasSays("Forbidden: CI job token"):
		e.Reason, e.FromKAS = ReasonJobForbidden, true
	case code == http.StatusForbidden && (fromKAS || strings.Contains(msg, "agentId is not allowed")):
		e.Reason, e.FromKAS = ReasonAgentNotAllowed, true
	case code == http.StatusForbidden:
		e.Reason = ReasonClusterForbidden
	case code == http.StatusNotFound && kasSays("Not found: agents for CI job token"):
		e.Reason, e.FromKAS = ReasonJobNotFound, true
	case code == http.StatusInternalServerError && kasSays("Failed to get allowed agents for CI job token"):
		e.Reason, e.FromKAS = ReasonGitLabFailed, true
	case code == http.StatusInternalServerError && kasSays("Failed to authorize user session"):
		e.Reason, e.FromKAS = ReasonUserSessionFailed, true
	// agentk refuses nested impersonation (agent/server.go
	// restImpersonationConfig); KAS relays it as a 502 since 15.1.
	case (code == http.StatusBadGateway || code == http.StatusBadRequest) && strings.Contains(msg, "nested impersonation is not supported"),
		code == http.StatusBadRequest && strings.Contains(strings.ToLower(msg), "imperson"):
		e.Reason, e.FromKAS = ReasonImpersonationRefused, fromKAS
	case code == http.StatusBadRequest:
		e.Reason, e.FromKAS = ReasonBadRequest, fromKAS
	case code == http.StatusUpgradeRequired:
		e.Reason = ReasonUpgradeRequired
	// cmd/kas/kasapp/router_kas.go: no tunnel within 20 s.
	case code == http.StatusBadGateway && kasSays("Agent connection not found"):
		e.Reason, e.FromKAS = ReasonAgentNotConnected, true
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		e.Reason, e.FromKAS = ReasonAgentUnavailable, true
	case code == http.StatusNotFound:
		e.Reason = ReasonNotFound
	default:
		e.Reason, e.FromKAS = ReasonServerError, fromKAS
	}
	return e
}

// statusMessage is a Kubernetes Status's message, else the body's first
// line, shortened.
func statusMessage(body []byte) string {
	var st struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &st) == nil {
		switch {
		case st.Message != "":
			return st.Message
		case st.Error != "":
			return st.Error
		}
	}
	text := strings.TrimSpace(string(body))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return text
}

// DecodeTransportError says why a request to server got no answer at all.
func DecodeTransportError(server string, err error) error {
	if err == nil {
		return nil
	}
	var ke *Error
	if errors.As(err, &ke) {
		return ke
	}
	e := &Error{URL: server, Err: err, Message: transportMessage(err)}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	var dns *net.DNSError
	var netErr net.Error
	switch {
	case errors.As(err, &unknownAuthority):
		e.Reason = ReasonUntrustedCertificate
	case errors.As(err, &hostname):
		e.Reason = ReasonCertificateName
	case errors.As(err, &invalid):
		e.Reason = ReasonCertificateInvalid
	case errors.As(err, &recordHeader), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Reason = ReasonNotTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason = ReasonConnectionRefused
	case errors.As(err, &dns):
		e.Reason = ReasonHostNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Reason = ReasonTimeout
	default:
		e.Reason = ReasonNetwork
	}
	return e
}

// transportMessage drops url.Error's "Get \"URL\": " prefix: the URL is
// said once, by Error().
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// IsTransport tells a failure to get any answer (network, TLS) from an
// answer.
func (e *Error) IsTransport() bool {
	switch e.Reason {
	case ReasonUntrustedCertificate, ReasonCertificateName, ReasonCertificateInvalid, ReasonNotTLS,
		ReasonConnectionRefused, ReasonHostNotFound, ReasonTimeout, ReasonNetwork:
		return true
	}
	return false
}

// IsTLS tells a TLS failure (the server was reached) from one of the
// network.
func (e *Error) IsTLS() bool {
	switch e.Reason {
	case ReasonUntrustedCertificate, ReasonCertificateName, ReasonCertificateInvalid, ReasonNotTLS:
		return true
	}
	return false
}
