package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testkas"
)

const execInfoV1 = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`

// BenchmarkGetToken compares get-token in a CI job with the stdlib
// reference that prints the same credential.
func BenchmarkGetToken(b *testing.B) {
	env := []string{"CI_JOB_TOKEN=glcbt-64_benchToken", "KUBERNETES_EXEC_INFO=" + execInfoV1, "HOME=" + b.TempDir()}
	args := []string{"--agent-id=1234"}
	compare(b, "get-token (CI job)",
		command{Name: "reference (stdlib + net/http + crypto/tls)", Path: filepath.Join(binDir, "reference"), Args: args, Env: env},
		command{Name: "kubectl-gitlab get-token", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: append([]string{"get-token"}, args...), Env: env},
	)
}

// workstation logs in to a testkas with the given store and returns the
// environment and arguments for get-token.
func workstation(b *testing.B, store string, env []string) (args []string) {
	b.Helper()
	kas := testkas.Start(b, testkas.Config{
		Agents: []testkas.Agent{{ID: 1234, Name: "prod", ConfigProjectID: 77, ConfigProjectPath: "group/agents"}},
		PATs:   []testkas.PAT{{Token: "glpat-benchToken", ID: 1, Name: "bench", Scopes: []string{"k8s_proxy"}, ExpiresAt: "2099-01-01", Agents: []int64{1234}}},
	})
	login := exec.Command(filepath.Join(binDir, "kubectl-gitlab"), "login", "--gitlab-url", kas.URL, "--token-stdin", "--token-store", store)
	login.Env = append(env, "SSL_CERT_FILE="+kas.CAFile)
	login.Stdin = strings.NewReader("glpat-benchToken\n")
	if out, err := login.CombinedOutput(); err != nil {
		b.Fatalf("login: %v\n%s", err, out)
	}
	return []string{"get-token", "--agent-id=1234", "--gitlab-url=" + kas.URL, "--token-store=" + store}
}

// BenchmarkGetTokenFileStore: a workstation whose token is in the 0600 file.
func BenchmarkGetTokenFileStore(b *testing.B) {
	env := []string{"HOME=" + b.TempDir(), "KUBERNETES_EXEC_INFO=" + execInfoV1, "CI_JOB_TOKEN=glpat-benchToken"}
	args := workstation(b, "file", env)
	plugin := command{Name: "kubectl-gitlab get-token (file store)", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: args, Env: withoutJobToken(env)}
	compare(b, "get-token (workstation, file store)",
		command{Name: "reference (stdlib + net/http + crypto/tls)", Path: filepath.Join(binDir, "reference"), Env: env}, plugin)
}

// BenchmarkGetTokenKeyring: a workstation whose token is in the Secret
// Service. make bench runs under hack/keyring/with-secret-service.sh.
func BenchmarkGetTokenKeyring(b *testing.B) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		b.Fatal("no D-Bus session: run make bench (it starts a Secret Service), or hack/keyring/with-secret-service.sh go test -bench GetTokenKeyring ./test/bench/")
	}
	env := []string{"HOME=" + b.TempDir(), "KUBERNETES_EXEC_INFO=" + execInfoV1, "CI_JOB_TOKEN=glpat-benchToken",
		"DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS")}
	args := workstation(b, "keyring", env)
	plugin := command{Name: "kubectl-gitlab get-token (keyring)", Path: filepath.Join(binDir, "kubectl-gitlab"), Args: args, Env: withoutJobToken(env)}
	compare(b, "get-token (workstation, Secret Service)",
		command{Name: "reference (stdlib + net/http + crypto/tls)", Path: filepath.Join(binDir, "reference"), Env: env}, plugin)
}

func withoutJobToken(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "CI_JOB_TOKEN=") {
			out = append(out, e)
		}
	}
	return out
}
