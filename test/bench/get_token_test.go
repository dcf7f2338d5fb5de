package bench

import (
	"path/filepath"
	"testing"
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
