package realkas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/testing/testprocess"
)

const (
	// startAttempts covers the race between picking a free port and the
	// process binding it.
	startAttempts = 3
	// readyTimeout bounds the start of one process.
	readyTimeout = 30 * time.Second

	// K8sProxyPath is where KAS serves the Kubernetes API, as behind
	// GitLab's own host in an Omnibus install: kubeconfigs point at
	// <KAS>/-/kubernetes-agent/k8s-proxy.
	K8sProxyPath = "/-/kubernetes-agent/k8s-proxy/"

	// PollPeriod is how often KAS reads the agents' config.yaml
	// (agent.configuration.poll_period, 5 min by default).
	PollPeriod = time.Second

	// allowedAgentCacheTTL is how long KAS keeps GitLab's answers about
	// tokens (allowed agents, proxy users), successful or not. GitLab's
	// defaults are 60 s and 10 s; tests need a changed GitLab seen at once.
	allowedAgentCacheTTL = time.Second
)

// kasFiles are the files KAS reads: its configuration, the secrets shared
// with GitLab and with other KAS instances, and the k8s-proxy's
// certificate.
type kasFiles struct {
	config, gitlabSecret, privateAPISecret, apiSecret, caCert, cert, key string
}

// kasPorts are KAS's listeners, all on 127.0.0.1 (some default to every
// interface).
type kasPorts struct {
	agent, k8sProxy, privateAPI, api, observability int
}

// kasConfig is KAS's configuration file (schema: pkg/kascfg/kascfg.proto of
// gitlab-agent). Grace periods are short, so that it stops at once (the
// default lets a SIGTERM wait an hour for open watches), and so are the
// caches of GitLab's answers and the poll of the agents' configuration, so
// that tests see a changed GitLab within a second or two.
func kasConfig(gitlabURL, redisAddr string, f kasFiles, p kasPorts) map[string]any {
	listen := func(port int, extra map[string]any) map[string]any {
		l := map[string]any{"network": "tcp", "address": "127.0.0.1:" + strconv.Itoa(port), "listen_grace_period": "0.1s"}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	return map[string]any{
		"gitlab": map[string]any{
			"address":                    gitlabURL,
			"authentication_secret_file": f.gitlabSecret,
			"ca_certificate_file":        f.caCert,
		},
		"agent": map[string]any{
			"listen":        listen(p.agent, nil),
			"configuration": map[string]any{"poll_period": PollPeriod.String()},
			"kubernetes_api": map[string]any{
				"listen": listen(p.k8sProxy, map[string]any{
					"certificate_file": f.cert, "key_file": f.key, "shutdown_grace_period": "1s",
				}),
				"url_path_prefix":               K8sProxyPath,
				"allowed_agent_cache_ttl":       allowedAgentCacheTTL.String(),
				"allowed_agent_cache_error_ttl": allowedAgentCacheTTL.String(),
			},
			"info_cache_ttl":       "1s",
			"info_cache_error_ttl": "1s",
		},
		"observability": map[string]any{
			"listen":  map[string]any{"network": "tcp", "address": "127.0.0.1:" + strconv.Itoa(p.observability)},
			"logging": map[string]any{"level": "debug", "grpc_level": "error"},
		},
		"private_api": map[string]any{"listen": listen(p.privateAPI, map[string]any{"authentication_secret_file": f.privateAPISecret})},
		"api":         map[string]any{"listen": listen(p.api, map[string]any{"authentication_secret_file": f.apiSecret})},
		"redis": map[string]any{
			"server":  map[string]any{"address": redisAddr},
			"network": "tcp",
		},
	}
}

// kasInstance is a running KAS.
type kasInstance struct {
	proc  *testprocess.Process
	ports kasPorts
}

var errPortTaken = errors.New("a port was taken before KAS could bind it")

// startKAS runs KAS and returns once its readiness probe passes. ports
// picks the listeners' ports for each attempt.
func startKAS(t testing.TB, bin, dir string, files kasFiles, gitlabURL, redisAddr string, ports func() (kasPorts, error)) (*kasInstance, error) {
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		p, err := ports()
		if err != nil {
			return nil, err
		}
		data, err := json.MarshalIndent(kasConfig(gitlabURL, redisAddr, files, p), "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(files.config, data, 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "--configuration-file", files.config)
		// KAS tells other KAS instances, through Redis, where its private
		// API is; it would guess from the network interfaces otherwise.
		cmd.Env = append(os.Environ(), "OWN_PRIVATE_API_URL=grpc://127.0.0.1:"+strconv.Itoa(p.privateAPI))
		proc, err := testprocess.Start(t, "kas", filepath.Join(dir, fmt.Sprintf("kas-%d.log", attempt)), cmd)
		if err != nil {
			return nil, err
		}
		k := &kasInstance{proc: proc, ports: p}
		if lastErr = k.waitReady(); lastErr == nil {
			return k, nil
		}
		proc.Stop()
		if !errors.Is(lastErr, errPortTaken) {
			break
		}
		t.Logf("realkas: KAS attempt %d: %v; retrying on other ports", attempt, lastErr)
	}
	return nil, lastErr
}

// waitReady polls KAS's readiness probe (observability.readiness_probe).
func (k *kasInstance) waitReady() error {
	url := "http://127.0.0.1:" + strconv.Itoa(k.ports.observability) + "/readiness"
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		if !k.proc.Running() {
			if strings.Contains(k.proc.LogTail(50), "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("kas exited during start-up: %v\n%s", k.proc.Err(), k.proc.LogTail(30))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		cancel()
		if time.Now().After(deadline) {
			return fmt.Errorf("kas not ready within %v (last /readiness: %s)\n%s", readyTimeout, last, k.proc.LogTail(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
