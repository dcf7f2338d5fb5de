package access

import "strings"

// closestKey returns the known key that an unknown one most likely
// misspells, or "" when none is close. Close means the same up to case and
// `-`/`_`, or an edit distance of at most 2 (3 for long keys): enough for
// `project` → `projects` and `enviroments` → `environments`, not so much
// that unrelated keys are "corrected".
func closestKey(unknown string, known []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestDist := "", 1<<30
	for _, k := range known {
		if norm(k) == norm(unknown) {
			return k
		}
		d := editDistance(strings.ToLower(unknown), k)
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	limit := 2
	if len(unknown) >= 10 {
		limit = 3
	}
	if bestDist <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes (keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
