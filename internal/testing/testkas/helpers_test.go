package testkas

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// exchange is one request and the answer the real server gives.
type exchange struct {
	name   string
	method string // GET when empty
	url    string // relative to the base the test passes
	header http.Header
	body   string
	// want
	status  int
	headers map[string]string // exact values; "" means the header is absent
	exact   string            // the whole body, when set
	empty   bool              // no body at all
	has     []string          // parts of the body
}

func (x exchange) check(t *testing.T, s *Server, base string) (*http.Response, string) {
	t.Helper()
	method := x.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, base+x.url, strings.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range x.header {
		req.Header[k] = vs
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	body := string(data)
	if resp.StatusCode != x.status {
		t.Errorf("%s: status %d, want %d\n%s", x.name, resp.StatusCode, x.status, body)
	}
	for k, v := range x.headers {
		if got := strings.Join(resp.Header.Values(k), ", "); got != v {
			t.Errorf("%s: header %s = %q, want %q", x.name, k, got, v)
		}
	}
	if x.exact != "" && body != x.exact {
		t.Errorf("%s: body\n%s\nwant\n%s", x.name, body, x.exact)
	}
	if x.empty && body != "" {
		t.Errorf("%s: body %q, want none", x.name, body)
	}
	for _, part := range x.has {
		if !strings.Contains(body, part) {
			t.Errorf("%s: body lacks %q:\n%s", x.name, part, body)
		}
	}
	return resp, body
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func privateToken(token string) http.Header { return http.Header{"Private-Token": {token}} }

func jobTokenHeader(token string) http.Header { return http.Header{"Job-Token": {token}} }

// Bodies GitLab answers with (see gitlab.go for their sources).
const (
	body401        = `{"message":"401 Unauthorized"}`
	expiredBody    = `{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}`
	revokedBody    = `{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`
	expiredWWWAuth = `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired. You can either do re-authorization or token refresh."`
	revokedWWWAuth = `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token was revoked. You have to re-authorize from the user."`
)

func scopeBody(scopes string) string {
	return `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"` + scopes + `"}`
}

// kasStatusBody is the metav1.Status KAS writes (no trace ID: tracing
// off), encoded as apimachinery's JSON serializer does (encoding/json:
// HTML-escaped, so "->" is "-\u003e").
func kasStatusBody(code int, reason, message string) string {
	r := ""
	if reason != "" {
		r = `"reason":"` + reason + `",`
	}
	m, _ := json.Marshal("GitLab Agent Server: " + message)
	return `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":` + string(m) + `,` + r + `"code":` + itoa(int64(code)) + "}\n"
}
