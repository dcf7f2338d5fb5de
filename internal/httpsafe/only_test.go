package httpsafe

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyNewClientMakesClients: no product code builds its own HTTP
// client (or uses net/http's default one), which would follow redirects
// with the token. Test doubles under internal/testing may.
func TestOnlyNewClientMakesClients(t *testing.T) {
	forbidden := []string{"http.Client{", "http.DefaultClient", "http.Get(", "http.Post(", "http.PostForm(", "http.Head("}
	checked := 0
	for _, dir := range []string{"../../cmd", "../../pkg", "../../internal"} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (strings.HasSuffix(path, "internal/testing") || strings.HasSuffix(path, "internal/httpsafe")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			checked++
			for _, f := range forbidden {
				if strings.Contains(string(data), f) {
					t.Errorf("%s uses %s: make HTTP clients with httpsafe.NewClient", path, f)
				}
			}
			return nil
		})
	}
	if checked < 50 {
		t.Fatalf("only %d files checked: the walk missed the sources", checked)
	}
}
