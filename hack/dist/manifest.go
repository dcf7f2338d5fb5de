package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// writeChecksums writes "<sha256>  <file>" lines, as sha256sum does, so that
// `sha256sum -c checksums.txt` checks a download.
func writeChecksums(path string, artifacts []artifact) error {
	sorted := append([]artifact(nil), artifacts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var text strings.Builder
	for _, a := range sorted {
		fmt.Fprintf(&text, "%s  %s\n", a.SHA256, a.Name)
	}
	return os.WriteFile(path, []byte(text.String()), 0o644)
}

// manifestData is what krew/plugin.yaml.tmpl sees.
type manifestData struct {
	Version   string
	Platforms []manifestPlatform
}

type manifestPlatform struct {
	OS, Arch string
	URI      string
	SHA256   string
	Bin      string
}

// renderManifest fills the krew manifest template in and checks that the
// result reads back as YAML with the URIs and sums it was given.
func renderManifest(tmplText, version, downloadURL string, artifacts []artifact) ([]byte, error) {
	tmpl, err := template.New("plugin.yaml").Option("missingkey=error").Parse(tmplText)
	if err != nil {
		return nil, err
	}
	data := manifestData{Version: version}
	for _, a := range artifacts {
		data.Platforms = append(data.Platforms, manifestPlatform{
			OS: a.OS, Arch: a.Arch, URI: downloadURL + "/" + a.Name, SHA256: a.SHA256, Bin: a.binary(),
		})
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return nil, err
	}

	var parsed struct {
		Spec struct {
			Version   string
			Platforms []struct {
				// any, not string: krew reads YAML through JSON, where a
				// value that YAML types as a number cannot be a string.
				URI    any `yaml:"uri"`
				SHA256 any `yaml:"sha256"`
			}
		}
	}
	if err := yaml.Unmarshal(out.Bytes(), &parsed); err != nil {
		return nil, fmt.Errorf("the rendered manifest is not YAML: %w\n%s", err, out.Bytes())
	}
	if parsed.Spec.Version != version || len(parsed.Spec.Platforms) != len(data.Platforms) {
		return nil, fmt.Errorf("the rendered manifest lost its version or platforms:\n%s", out.Bytes())
	}
	for i, p := range parsed.Spec.Platforms {
		if p.URI != data.Platforms[i].URI || p.SHA256 != data.Platforms[i].SHA256 {
			return nil, fmt.Errorf("the rendered manifest's platform %d has uri %#v sha256 %#v, want %q %q",
				i, p.URI, p.SHA256, data.Platforms[i].URI, data.Platforms[i].SHA256)
		}
	}
	return out.Bytes(), nil
}

func writeManifest(path, tmplPath, version, downloadURL string, artifacts []artifact) error {
	tmplText, err := os.ReadFile(tmplPath)
	if err != nil {
		return err
	}
	manifest, err := renderManifest(string(tmplText), version, downloadURL, artifacts)
	if err != nil {
		return fmt.Errorf("%s: %w", tmplPath, err)
	}
	return os.WriteFile(path, manifest, 0o644)
}
