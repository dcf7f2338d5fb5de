package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestArchivesAreReproducible(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"bin": "binary", "LICENSE": "license", "README.md": "readme"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entries := []archiveEntry{
		{Name: "kubectl-gitlab", Path: filepath.Join(dir, "bin"), Mode: 0o755},
		{Name: "README.md", Path: filepath.Join(dir, "README.md"), Mode: 0o644},
		{Name: "LICENSE", Path: filepath.Join(dir, "LICENSE"), Mode: 0o644},
	}
	mtime := time.Unix(1700000000, 0)
	for _, ext := range []string{".tar.gz", ".zip"} {
		first, second := filepath.Join(dir, "first"+ext), filepath.Join(dir, "second"+ext)
		if err := writeArchive(first, entries, mtime); err != nil {
			t.Fatal(err)
		}
		// Touching the inputs and reordering them must change nothing.
		later := time.Now().Add(time.Hour)
		for _, e := range entries {
			os.Chtimes(e.Path, later, later)
		}
		reversed := []archiveEntry{entries[2], entries[1], entries[0]}
		if err := writeArchive(second, reversed, mtime); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(first)
		b, _ := os.ReadFile(second)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: two packings of the same files differ", ext)
		}
	}
}

func TestVersionMustBeSemver(t *testing.T) {
	for _, v := range []string{"", "dev", "1.2.3", "v1.2", "v01.2.3"} {
		if _, err := parseFlags([]string{"-version", v}); err == nil {
			t.Errorf("-version %q accepted", v)
		}
	}
	o, err := parseFlags([]string{"-version", "v1.2.3-rc.1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := releasesURL + "/v1.2.3-rc.1/downloads"; o.downloadURL != want || len(o.platforms) != 6 {
		t.Errorf("defaults: download URL %q (want %q), %d platforms", o.downloadURL, want, len(o.platforms))
	}
	if _, err := parseFlags([]string{"-version", "v1.2.3", "-platforms", "linux/386"}); err == nil {
		t.Error("-platforms linux/386 accepted")
	}
}

func TestManifestTemplateRenders(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join("..", "..", manifestTemplate))
	if err != nil {
		t.Fatal(err)
	}
	var artifacts []artifact
	for _, p := range allPlatforms {
		// All digits: YAML would read an unquoted sum as a number.
		artifacts = append(artifacts, artifact{platform: p, Name: p.archive("v1.2.3"), SHA256: strings.Repeat("0123456789", 6) + "0123"})
	}
	out, err := renderManifest(string(tmpl), "v1.2.3", "https://example.test/dl", artifacts)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"name: gitlab\n",
		"uri: https://example.test/dl/kubectl-gitlab_v1.2.3_windows_arm64.zip\n",
		"bin: kubectl-gitlab.exe\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered manifest lacks %q:\n%s", want, out)
		}
	}
}
