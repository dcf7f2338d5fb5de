package realkas

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildRefusesWrongSources: unset, the sources are the archives kept in
// testdata/sources, and they are the pinned snapshots; a directory without
// them, or with others of the same names, is an error (Build then fails
// the test), before anything is built or taken from the cache.
func TestBuildRefusesWrongSources(t *testing.T) {
	t.Setenv(SourcesEnv, "")
	kept, err := sourcesDir()
	if err != nil || filepath.Base(kept) != "sources" {
		t.Fatalf("unset: %q, %v; want testdata/sources", kept, err)
	}
	for _, a := range []archive{gitlabAgent, cliUtils} {
		if err := a.verify(kept); err != nil {
			t.Errorf("the kept archive: %v", err)
		}
	}
	dir := t.TempDir()
	t.Setenv(SourcesEnv, dir)
	if _, err := build(t); err == nil || !strings.Contains(err.Error(), gitlabAgent.file) {
		t.Errorf("no archives: %v", err)
	}
	for _, a := range []archive{gitlabAgent, cliUtils} {
		if err := os.WriteFile(filepath.Join(dir, a.file), []byte("not the snapshot"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := build(t); err == nil || !strings.Contains(err.Error(), "not the pinned snapshot") {
		t.Errorf("other archives: %v", err)
	}
}

// TestUnpackRefusesEscapes: an archive entry outside the target directory,
// or anything but a directory or a regular file, stops the unpacking.
func TestUnpackRefusesEscapes(t *testing.T) {
	for name, hdr := range map[string]*tar.Header{
		"parent":   {Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644},
		"absolute": {Name: "/tmp/escaped", Typeflag: tar.TypeReg, Mode: 0o644},
		"symlink":  {Name: "gitlab-agent/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.tar.gz")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			gz := gzip.NewWriter(f)
			tw := tar.NewWriter(gz)
			tw.WriteHeader(hdr)
			tw.Close()
			gz.Close()
			f.Close()
			out := filepath.Join(dir, "out")
			if err := unpack(path, out); err == nil {
				t.Errorf("%s unpacked", hdr.Name)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("left %v", entries)
			}
		})
	}
}
