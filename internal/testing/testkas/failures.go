package testkas

import (
	"fmt"
	"io"
	"net/http"
)

// writeInjectedFailure answers an injected status (Server.Fail,
// FailForKAS) as the part of GitLab's stack that gives it would:
//   - 429: Rack::Attack's throttle, text/plain "Retry later\n" with
//     Retry-After (gitlabhq lib/gitlab/rack_attack.rb, throttled_responder;
//     lib/gitlab/throttle.rb, DEFAULT_RATE_LIMITING_RESPONSE_TEXT; the
//     wait is the rest of the throttle's period: its last second here, so
//     that KAS's retry, which honours it, stays quick);
//   - 502: Workhorse when Rails does not answer, text/plain "GitLab is not
//     responding" (workhorse/internal/badgateway/roundtripper.go);
//   - 503 and 504: nginx in front of GitLab, its built-in HTML page
//     (nginx src/http/ngx_http_special_response.c);
//   - anything else: Grape's error!, {"message":"<code> <reason>"} (500:
//     rescue_from :all in lib/api/api.rb).
func writeInjectedFailure(w http.ResponseWriter, status int) {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(status)
		io.WriteString(w, "Retry later\n")
	case http.StatusBadGateway:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		io.WriteString(w, "GitLab is not responding")
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if status == http.StatusServiceUnavailable {
			text = "503 Service Temporarily Unavailable" // nginx's words
		} else {
			text = "504 Gateway Time-out"
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, "<html>\r\n<head><title>"+text+"</title></head>\r\n<body>\r\n<center><h1>"+text+"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	default:
		writeGitLabJSON(w, status, object{{"message", text}})
	}
}
