package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/atomicfile"
)

// Paths says where kubeconfig files come from, by kubectl's rules:
// --kubeconfig alone if given; else every file in $KUBECONFIG; else
// ~/.kube/config.
type Paths struct {
	Explicit string // --kubeconfig
	Env      string // $KUBECONFIG
	Home     string // the user's home directory
}

// List resolves the rules to file names, deduplicated, in order.
func (p Paths) List() []string {
	if p.Explicit != "" {
		return []string{p.Explicit}
	}
	if p.Env != "" {
		var out []string
		seen := map[string]bool{}
		for _, f := range filepath.SplitList(p.Env) {
			if f == "" || seen[f] {
				continue
			}
			seen[f] = true
			out = append(out, f)
		}
		if len(out) > 0 {
			return out
		}
	}
	return []string{filepath.Join(p.Home, ".kube", "config")}
}

// File is one kubeconfig file as loaded.
type File struct {
	Path   string
	Exists bool
	Doc    *Document
	Config Config
}

// Set is the effective kubeconfig: the files in order, merged the way
// kubectl merges them (the first file that names an entry wins).
type Set struct {
	Paths Paths
	Files []*File

	// Indexes by name of the winning entries, so that lookups stay cheap
	// in kubeconfigs with thousands of contexts.
	contexts map[string]located[Context]
	clusters map[string]located[Cluster]
	users    map[string]located[User]
}

type located[T any] struct {
	entry T
	file  string
}

func (s *Set) index() {
	s.contexts = map[string]located[Context]{}
	s.clusters = map[string]located[Cluster]{}
	s.users = map[string]located[User]{}
	for _, f := range s.Files {
		for _, c := range f.Config.Contexts {
			if _, ok := s.contexts[c.Name]; !ok {
				s.contexts[c.Name] = located[Context]{c.Context, f.Path}
			}
		}
		for _, c := range f.Config.Clusters {
			if _, ok := s.clusters[c.Name]; !ok {
				s.clusters[c.Name] = located[Cluster]{c.Cluster, f.Path}
			}
		}
		for _, u := range f.Config.Users {
			if _, ok := s.users[u.Name]; !ok {
				s.users[u.Name] = located[User]{u.User, f.Path}
			}
		}
	}
}

// MaxFileSize bounds what is read from one kubeconfig file: 64 MiB is some
// 400,000 contexts, or 20,000 clusters with embedded CAs.
const MaxFileSize = 64 << 20

// Load reads every file the rules name. Missing files are skipped as kubectl
// skips them (use RequireExisting for commands that need one). A file that
// cannot be parsed is an error that names it and the line.
func Load(p Paths) (*Set, error) {
	s := &Set{Paths: p}
	for _, path := range p.List() {
		f := &File{Path: path}
		data, err := atomicfile.ReadFile(path, MaxFileSize)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if p.Explicit != "" {
				return nil, &MissingError{Paths: p, Missing: []string{path}}
			}
		case err != nil:
			return nil, fmt.Errorf("cannot read kubeconfig %s: %w", path, errors.Unwrap(err))
		default:
			f.Exists = true
			if f.Doc, err = ParseDocument(path, data); err != nil {
				return nil, err
			}
			if f.Config, err = f.Doc.Config(); err != nil {
				return nil, err
			}
		}
		s.Files = append(s.Files, f)
	}
	s.index()
	return s, nil
}

// Misread lists, file by file, the values kubectl reads otherwise than as
// written (see Misread).
func (s *Set) Misread() []Misread {
	var out []Misread
	for _, f := range s.Files {
		out = append(out, f.Config.Misread...)
	}
	return out
}

// MissingError says that no kubeconfig file exists where the rules look.
type MissingError struct {
	Paths   Paths
	Missing []string
}

func (e *MissingError) Error() string {
	switch {
	case e.Paths.Explicit != "":
		return fmt.Sprintf("--kubeconfig %s: no such file", e.Paths.Explicit)
	case e.Paths.Env != "":
		return fmt.Sprintf("$KUBECONFIG names %s, which does not exist", strings.Join(e.Missing, ", "))
	}
	return fmt.Sprintf("no kubeconfig at %s", strings.Join(e.Missing, ", "))
}

// RequireExisting fails unless at least one file exists.
func (s *Set) RequireExisting() error {
	for _, f := range s.Files {
		if f.Exists {
			return nil
		}
	}
	var missing []string
	for _, f := range s.Files {
		missing = append(missing, f.Path)
	}
	return &MissingError{Paths: s.Paths, Missing: missing}
}

// CurrentContext is the current context: the first file's that sets one.
func (s *Set) CurrentContext() string {
	for _, f := range s.Files {
		if f.Config.CurrentContext != "" {
			return f.Config.CurrentContext
		}
	}
	return ""
}

// CurrentContextFile is where kubectl writes current-context: the first
// file that sets one, else the first file that exists, else the first one.
func (s *Set) CurrentContextFile() string {
	for _, f := range s.Files {
		if f.Config.CurrentContext != "" {
			return f.Path
		}
	}
	return s.DefaultFile()
}

// DefaultFile is where new entries go: the first file that exists, else the
// first one named.
func (s *Set) DefaultFile() string {
	for _, f := range s.Files {
		if f.Exists {
			return f.Path
		}
	}
	return s.Files[0].Path
}

// Context finds a context by name, and the file it comes from.
func (s *Set) Context(name string) (Context, string, bool) {
	c, ok := s.contexts[name]
	return c.entry, c.file, ok
}

// Cluster finds a cluster by name, and the file it comes from.
func (s *Set) Cluster(name string) (Cluster, string, bool) {
	c, ok := s.clusters[name]
	return c.entry, c.file, ok
}

// User finds a user by name, and the file it comes from.
func (s *Set) User(name string) (User, string, bool) {
	u, ok := s.users[name]
	return u.entry, u.file, ok
}

// ContextNames lists every context once, sorted as kubectl sorts them.
func (s *Set) ContextNames() []string {
	names := make([]string, 0, len(s.contexts))
	for name := range s.contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
