package gitlab

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gitlab.com/kubectl-gitlab/kubectl-gitlab/internal/httpsafe"
)

// FuzzNextPage: whatever a server sends as X-Next-Page and Link, the next
// page comes after the current one, and a Link is followed only on the
// client's own origin.
func FuzzNextPage(f *testing.F) {
	f.Add("2", "", 1)
	f.Add("", `<https://gitlab.example.com/api/v4/x?page=3>; rel="next"`, 2)
	f.Add("", `<https://evil.example/api/v4/x?page=3>; rel="next", <https://gitlab.example.com/x?page=1>; rel="first"`, 2)
	f.Add("1", "", 1)
	f.Add("x", "<>; rel=next", 0)
	c, err := NewClient("https://gitlab.example.com", Auth{}, nil, httpsafe.Policy{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, xNext, link string, current int) {
		h := http.Header{}
		if xNext != "" {
			h.Set("X-Next-Page", xNext)
		}
		if link != "" {
			h.Set("Link", link)
		}
		next, perr := c.nextPage(h, current)
		if perr != nil {
			if next != 0 {
				t.Fatalf("an error and page %d", next)
			}
			return
		}
		if next != 0 && next <= current {
			t.Fatalf("page %d after page %d", next, current)
		}
		if next != 0 && xNext == "" {
			u, err := url.Parse(linkNext(h.Values("Link")))
			if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, "gitlab.example.com") {
				t.Fatalf("followed a Link to %q", linkNext(h.Values("Link")))
			}
		}
	})
}
