package testkas

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
)

// serveKube is the little of the Kubernetes API that `kubectl get pods`,
// `kubectl get ns` and `kubectl auth whoami` need, in legacy discovery form
// (kubectl falls back to it from aggregated discovery).
func serveKube(w http.ResponseWriter, r *http.Request, path string, cfg Config, id Identity) {
	path = "/" + strings.Trim(path, "/")
	table := strings.Contains(r.Header.Get("Accept"), "as=Table")
	switch {
	case path == "/version":
		writeJSON(w, http.StatusOK, map[string]string{"major": "1", "minor": "33", "gitVersion": "v1.33.0-testkas", "platform": "linux/amd64"})
	case path == "/api":
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []any{map[string]string{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host}}})
	case path == "/apis":
		versions := []any{}
		for _, v := range []string{"v1", "v1beta1", "v1alpha1"} {
			versions = append(versions, map[string]string{"groupVersion": "authentication.k8s.io/" + v, "version": v})
		}
		authz := map[string]string{"groupVersion": "authorization.k8s.io/v1", "version": "v1"}
		writeJSON(w, http.StatusOK, map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{
			map[string]any{"name": "authentication.k8s.io", "versions": versions, "preferredVersion": versions[0]},
			map[string]any{"name": "authorization.k8s.io", "versions": []any{authz}, "preferredVersion": authz}}})
	case path == "/apis/authorization.k8s.io/v1":
		writeJSON(w, http.StatusOK, resourceList("authorization.k8s.io/v1", resource("selfsubjectrulesreviews", "SelfSubjectRulesReview", false, "create")))
	case path == "/api/v1":
		writeJSON(w, http.StatusOK, resourceList("v1",
			resource("pods", "Pod", true, "get", "list").short("po"),
			resource("namespaces", "Namespace", false, "get", "list").short("ns")))
	case strings.HasPrefix(path, "/apis/authentication.k8s.io/"):
		version, rest, _ := strings.Cut(strings.TrimPrefix(path, "/apis/authentication.k8s.io/"), "/")
		switch {
		case rest == "":
			writeJSON(w, http.StatusOK, resourceList("authentication.k8s.io/"+version, resource("selfsubjectreviews", "SelfSubjectReview", false, "create")))
		case rest == "selfsubjectreviews" && r.Method == http.MethodPost:
			io.Copy(io.Discard, r.Body)
			writeJSON(w, http.StatusCreated, map[string]any{"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/" + version,
				"metadata": map[string]any{"creationTimestamp": nil}, "status": map[string]any{"userInfo": map[string]any{
					"username": id.Username, "uid": id.UID, "groups": id.Groups, "extra": id.Extra}}})
		default:
			notFound(w, path)
		}
	case path == "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews" && r.Method == http.MethodPost:
		selfSubjectRulesReview(w, r, cfg)
	case path == "/api/v1/namespaces":
		var names []string
		for ns := range cfg.Pods {
			names = append(names, ns)
		}
		sort.Strings(names)
		writeList(w, table, "Namespace", "", names)
	case strings.HasPrefix(path, "/api/v1/namespaces/") && strings.HasSuffix(path, "/pods"):
		ns := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/namespaces/"), "/pods")
		writeList(w, table, "Pod", ns, cfg.Pods[ns])
	default:
		notFound(w, path)
	}
}

func notFound(w http.ResponseWriter, path string) {
	writeJSON(w, http.StatusNotFound, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": "the server could not find the requested resource (" + path + ")", "reason": "NotFound", "code": 404})
}

type apiResource map[string]any

func resource(name, kind string, namespaced bool, verbs ...string) apiResource {
	return apiResource{"name": name, "singularName": strings.ToLower(kind), "namespaced": namespaced, "kind": kind, "verbs": verbs}
}

func (r apiResource) short(names ...string) apiResource {
	r["shortNames"] = names
	return r
}

func resourceList(groupVersion string, resources ...apiResource) map[string]any {
	return map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": groupVersion, "resources": resources}
}

const created = "2026-01-01T00:00:00Z"

// writeList answers a list as a server-side printed Table when kubectl
// asks for one, else as a plain list.
func writeList(w http.ResponseWriter, table bool, kind, ns string, names []string) {
	meta := func(name string) map[string]any {
		m := map[string]any{"name": name, "creationTimestamp": created, "uid": "uid-" + name, "resourceVersion": "1"}
		if ns != "" {
			m["namespace"] = ns
		}
		return m
	}
	if !table {
		items := []any{}
		for _, n := range names {
			item := map[string]any{"kind": kind, "apiVersion": "v1", "metadata": meta(n)}
			if kind == "Pod" {
				item["status"] = map[string]any{"phase": "Running"}
			}
			items = append(items, item)
		}
		writeJSON(w, http.StatusOK, map[string]any{"kind": kind + "List", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": "1"}, "items": items})
		return
	}
	cols := []any{col("Name", "name"), col("Status", "")}
	if kind == "Pod" {
		cols = []any{col("Name", "name"), col("Ready", ""), col("Status", ""), col("Restarts", ""), col("Age", "")}
	}
	rows := []any{}
	for _, n := range names {
		cells := []any{n, "Active"}
		if kind == "Pod" {
			cells = []any{n, "1/1", "Running", "0", "10d"}
		}
		rows = append(rows, map[string]any{"cells": cells, "object": map[string]any{
			"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta(n)}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"kind": "Table", "apiVersion": "meta.k8s.io/v1",
		"metadata": map[string]any{"resourceVersion": "1"}, "columnDefinitions": cols, "rows": rows})
}

func col(name, format string) map[string]any {
	return map[string]any{"name": name, "type": "string", "format": format, "description": "", "priority": 0}
}

// selfSubjectRulesReview answers what a real cluster would for an identity
// that may read pods where the built-in API has pods: every authenticated
// identity may create self reviews; get and list pods in those namespaces.
func selfSubjectRulesReview(w http.ResponseWriter, r *http.Request, cfg Config) {
	var in struct {
		Spec struct {
			Namespace string `json:"namespace"`
		} `json:"spec"`
	}
	json.NewDecoder(r.Body).Decode(&in)
	rules := []any{map[string]any{"verbs": []string{"create"}, "apiGroups": []string{"authorization.k8s.io"},
		"resources": []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}}}
	if _, ok := cfg.Pods[in.Spec.Namespace]; ok {
		rules = append(rules, map[string]any{"verbs": []string{"get", "list"}, "apiGroups": []string{""}, "resources": []string{"pods"}})
	}
	writeJSON(w, http.StatusCreated, map[string]any{"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
		"metadata": map[string]any{}, "spec": map[string]any{"namespace": in.Spec.Namespace},
		"status": map[string]any{"resourceRules": rules, "nonResourceRules": []any{}, "incomplete": false}})
}
