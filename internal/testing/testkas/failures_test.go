package testkas

import "testing"

// TestFailAnswersAsGitLabsStack: an injected status comes with the body
// and headers of the part of GitLab's stack that gives it.
func TestFailAnswersAsGitLabsStack(t *testing.T) {
	s := Start(t, gitlabConfig())
	s.Fail("/api/v4/metadata", 429, 502, 503, 504, 500, 403)
	for _, x := range []exchange{
		{name: "Rack::Attack", url: "/api/v4/metadata", status: 429, exact: "Retry later\n",
			headers: map[string]string{"Content-Type": "text/plain", "Retry-After": "1"}},
		{name: "Workhorse", url: "/api/v4/metadata", status: 502, exact: "GitLab is not responding", headers: map[string]string{"Content-Type": "text/plain"}},
		{name: "nginx 503", url: "/api/v4/metadata", status: 503, headers: map[string]string{"Content-Type": "text/html"},
			exact: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"},
		{name: "nginx 504", url: "/api/v4/metadata", status: 504, has: []string{"<title>504 Gateway Time-out</title>"}},
		{name: "Grape 500", url: "/api/v4/metadata", status: 500, exact: `{"message":"500 Internal Server Error"}`,
			headers: map[string]string{"Content-Type": "application/json"}},
		{name: "Grape 403", url: "/api/v4/metadata", status: 403, exact: `{"message":"403 Forbidden"}`},
		{name: "then normal service", url: "/api/v4/metadata", status: 401, exact: body401},
	} {
		x.check(t, s, s.URL)
	}
}
