package access

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Our restated name rules agree with apimachinery's.
func TestNameRulesAgreeWithApimachinery(t *testing.T) {
	inputs := []string{"", "a", "ci-job-view", "-a", "a-", "A", "a.b", "a..b", ".a", "a_b", "1a", strings.Repeat("a", 63), strings.Repeat("a", 64),
		strings.Repeat("a", 253), strings.Repeat("a", 254), strings.Repeat("a.", 100) + "a", "ä", "a b", "gitlab:ci_job"}
	for _, s := range inputs {
		if ours, theirs := checkDNSLabel(s) == "", len(validation.IsDNS1123Label(s)) == 0; ours != theirs {
			t.Errorf("label %q: ours %v, apimachinery %v", s, ours, theirs)
		}
		if ours, theirs := checkDNSSubdomain(s) == "", len(validation.IsDNS1123Subdomain(s)) == 0; ours != theirs {
			t.Errorf("subdomain %q: ours %v, apimachinery %v", s, ours, theirs)
		}
		if len(validation.IsDNS1123Label(dnsName(s, "view"))) != 0 {
			t.Errorf("dnsName(%q) = %q is not a label", s, dnsName(s, "view"))
		}
	}
}
