package testkas

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// psychScalar writes a string as GitLab writes it into a job's kubeconfig:
// Ruby's YAML.dump (Psych) as a block mapping value. Psych picks a style in
// Psych::Visitors::YAMLTree#visit_String (psych 4.0.3,
// lib/psych/visitors/yaml_tree.rb) from Psych::ScalarScanner#tokenize
// (lib/psych/scalar_scanner.rb); libyaml's emitter then refuses plain
// style where YAML would misread it (yaml_emitter_analyze_scalar and
// yaml_emitter_select_scalar_style in emitter.c). column is where the
// value starts on its line.
//
// Not modelled, refused with an error: line breaks and tabs (Psych
// writes a literal block or escapes), non-ASCII text, and values long
// enough that libyaml would fold them at a space (past column 80).
func psychScalar(s string, column int) (string, error) {
	for _, c := range s {
		if c > '~' || c < ' ' {
			return "", fmt.Errorf("psychScalar: %q has a character outside printable ASCII, which testkas does not model", s)
		}
	}
	if i := strings.LastIndexByte(s, ' '); i >= 0 && column+i > 80 {
		return "", fmt.Errorf("psychScalar: libyaml would fold %q at a space past column 80, which testkas does not model", s)
	}
	switch {
	case s == "<<":
		return "!!str '<<'", nil
	case s == "y" || s == "n":
		return doubleQuoted(s), nil
	case s != "" && !isWordChar(s[0]) && !strings.Contains(s[1:], `"`): // /^[^[:word:]][^"]*$/
		return doubleQuoted(s), nil
	case !tokenizesAsString(s) || octalLooking.MatchString(s):
		return singleQuoted(s), nil
	case !plainAllowed(s):
		return singleQuoted(s), nil
	}
	return s, nil
}

var octalLooking = regexp.MustCompile(`^0[0-7]*[89]`)

func isWordChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func singleQuoted(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func doubleQuoted(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Psych::ScalarScanner's patterns (psych 4.0.3). Ruby's ^ and $ anchor
// lines; the values here have no line breaks, so \A and \z are the same.
var (
	scanStringLike = regexp.MustCompile(`^[^\d.:-]?[a-zA-Z_\s!@#$%^&*(){}<>|/\\~;=]+`)
	scanTime       = regexp.MustCompile(`^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`)
	scanDate       = regexp.MustCompile(`^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`)
	scanInfNaN     = regexp.MustCompile(`(?i)^(?:[-+]?\.inf|\.nan)$`)
	scanSymbol     = regexp.MustCompile(`^:.`)
	scanBase60     = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}(?:\.[0-9_]*)?$`)
	scanFloat      = regexp.MustCompile(`^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$`)
	scanLoneDot    = regexp.MustCompile(`^[-+]?\.$`)
	scanInteger    = regexp.MustCompile(`^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$`)
	scanNotYTONF   = regexp.MustCompile(`(?i)^[^ytonf~]`)
	scanNull       = regexp.MustCompile(`(?i)^(?:~|null)$`)
	scanBool       = regexp.MustCompile(`(?i)^(?:yes|true|on|no|false|off)$`)
)

// tokenizesAsString reports whether ScalarScanner#tokenize gives back the
// string itself (not nil, a boolean, a number, a date or a symbol).
func tokenizesAsString(s string) bool {
	switch {
	case s == "":
		return false
	case scanStringLike.MatchString(s):
		if len(s) > 5 || scanNotYTONF.MatchString(s) {
			return true
		}
		return !scanNull.MatchString(s) && !scanBool.MatchString(s)
	case scanTime.MatchString(s):
		return false
	case scanDate.MatchString(s):
		_, err := time.Parse("2006-1-2", s) // Date.strptime: an impossible date stays a string
		return err != nil
	case scanInfNaN.MatchString(s), scanSymbol.MatchString(s), scanBase60.MatchString(s):
		return false
	case scanFloat.MatchString(s):
		return scanLoneDot.MatchString(s)
	case scanInteger.MatchString(s):
		return false
	}
	return true
}

// plainAllowed is libyaml's block_plain_allowed for a non-empty value in
// block context: no leading or trailing space, no indicator at the start, no
// ": " or " #", no ':' at the end, not a document marker.
func plainAllowed(s string) bool {
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return false
	}
	followedBySpace := func(i int) bool { return i+1 >= len(s) || s[i+1] == ' ' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 0 {
			if strings.IndexByte("#,[]{}&*!|>'\"%@`", c) >= 0 {
				return false
			}
			if (c == '?' || c == ':' || c == '-') && followedBySpace(i) {
				return false
			}
			continue
		}
		if c == ':' && followedBySpace(i) || c == '#' && s[i-1] == ' ' {
			return false
		}
	}
	return true
}
