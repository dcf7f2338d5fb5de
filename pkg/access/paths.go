package access

import (
	"fmt"
	"strings"
)

// checkFullPath tells what is wrong with a GitLab project or group full path
// (`group/subgroup/project`), or returns "" when it is well formed. GitLab
// looks entries up by full path, case-insensitively; a path that cannot
// exist matches nothing, silently.
func checkFullPath(path string, kind EntryKind) string {
	if path == "" {
		return "is empty"
	}
	if strings.Contains(path, "://") {
		return "is a URL; write the full path only, as in `group/project`"
	}
	if strings.TrimSpace(path) != path {
		return "has leading or trailing spaces"
	}
	if strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return "starts or ends with `/`; write it as in `group/project`"
	}
	segments := strings.Split(path, "/")
	for _, s := range segments {
		if s == "" {
			return "has an empty segment (`//`)"
		}
		if msg := checkPathSegment(s); msg != "" {
			return fmt.Sprintf("has segment %q that %s", s, msg)
		}
	}
	if kind == KindProject && len(segments) < 2 {
		return "has no namespace: a project's full path is `namespace/project`"
	}
	return ""
}

// checkPathSegment follows GitLab's path rules: letters, digits, `_`, `-`
// and `.`, not starting with `-` or `.`, not ending with `.git` or `.atom`.
func checkPathSegment(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return "contains " + fmt.Sprintf("%q", r) + "; paths hold only letters, digits, `_`, `-` and `.`"
		}
	}
	if s[0] == '-' || s[0] == '.' {
		return "starts with `-` or `.`"
	}
	if strings.HasSuffix(s, ".git") || strings.HasSuffix(s, ".atom") {
		return "ends with `.git` or `.atom`"
	}
	return ""
}

// topLevel is the first segment of a full path: the top-level group or user
// namespace.
func topLevel(path string) string {
	top, _, _ := strings.Cut(path, "/")
	return top
}

// ancestorGroups lists the namespaces a project path lies in, outermost
// first: `a/b/p` → `a`, `a/b`.
func ancestorGroups(projectPath string) []string {
	segs := strings.Split(projectPath, "/")
	out := make([]string, 0, len(segs)-1)
	for i := 1; i < len(segs); i++ {
		out = append(out, strings.Join(segs[:i], "/"))
	}
	return out
}

// depth is the number of segments of a full path.
func depth(path string) int { return strings.Count(path, "/") + 1 }

// samePath compares full paths as GitLab does: case-insensitively.
func samePath(a, b string) bool { return strings.EqualFold(a, b) }
