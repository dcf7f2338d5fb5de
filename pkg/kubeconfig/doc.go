// Package kubeconfig reads kubeconfigs as kubectl does and edits them
// without reformatting them.
//
//   - Load (set.go) reads the files that Paths names (--kubeconfig, else
//     $KUBECONFIG, else ~/.kube/config) and decodes each into a Config
//     (types.go, decode.go).
//   - The Set merges them by kubectl's rules: the first file that names an
//     entry wins; it says which file holds each entry and the current context.
//   - A Document is one file's text, parsed for minimal edits (edit.go):
//     SetCurrentContext, SetContextNamespace, SetClusterCA and Upsert* splice
//     only the bytes they must, and decode the result to check it.
//   - Update (update.go) writes: under the file's lock it re-reads the file,
//     applies the edits to a fresh Document and replaces the file atomically.
//
// The YAML engine under Document (parser, splices, rendering) is
// internal/yamledit; this package holds what the entries mean.
package kubeconfig
