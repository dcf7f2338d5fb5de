package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// archiveEntry is a file to pack: Path on disk, Name in the archive.
type archiveEntry struct {
	Name string
	Path string
	Mode int64
}

// writeArchive packs entries into path, a .tar.gz or a .zip by its name.
// Entries are sorted and carry mtime and no owner, so equal inputs give
// equal bytes.
func writeArchive(path string, entries []archiveEntry, mtime time.Time) (err error) {
	entries = append([]archiveEntry(nil), entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	switch {
	case strings.HasSuffix(path, ".tar.gz"):
		return writeTarGz(f, entries, mtime)
	case strings.HasSuffix(path, ".zip"):
		return writeZip(f, entries, mtime)
	}
	return fmt.Errorf("%s: unknown archive type", path)
}

func writeTarGz(w io.Writer, entries []archiveEntry, mtime time.Time) error {
	// The zero gzip header has no name and no time: nothing that varies.
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		data, err := os.ReadFile(e.Path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.Name,
			Size:     int64(len(data)),
			Mode:     e.Mode,
			ModTime:  mtime,
			Format:   tar.FormatUSTAR, // no PAX records with sub-second or access times
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []archiveEntry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		data, err := os.ReadFile(e.Path)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(os.FileMode(e.Mode))
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
