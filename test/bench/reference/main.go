// Command reference is the yardstick for get-token's start-up time: a
// stdlib-only program that prints the same ExecCredential with
// encoding/json, and links net/http and crypto/tls as any plugin that talks
// to GitLab must (README.md, "Performance").
package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"strings"
)

// Linked, as in a real plugin, though this path does not use them.
var (
	_ = http.DefaultClient
	_ = tls.VersionTLS13
)

func main() {
	var info struct {
		APIVersion string `json:"apiVersion"`
	}
	info.APIVersion = "client.authentication.k8s.io/v1"
	if env := os.Getenv("KUBERNETES_EXEC_INFO"); env != "" {
		if err := json.Unmarshal([]byte(env), &info); err != nil {
			os.Exit(2)
		}
	}
	agentID := "1234"
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "--agent-id="); ok {
			agentID = v
		}
	}
	out := map[string]any{
		"kind":       "ExecCredential",
		"apiVersion": info.APIVersion,
		"spec":       map[string]any{},
		"status":     map[string]any{"token": "ci:" + agentID + ":" + os.Getenv("CI_JOB_TOKEN")},
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
