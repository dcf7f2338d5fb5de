package testkas

import (
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// kasCodecs is KAS's responseSerializer: a codec factory over an empty
// scheme (internal/module/kubernetes_api/server/factory.go), so JSON,
// YAML and protobuf.
var kasCodecs = serializer.NewCodecFactory(runtime.NewScheme())

// notAcceptable is the text of apiserver's NewNotAcceptableError for
// kasCodecs' media types.
const notAcceptable = "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"

// negotiateStatusMedia is k8s.io/apiserver's NegotiateOutputMediaType with
// DefaultEndpointRestrictions, which KAS's writeErrorResponse calls: no
// Accept means JSON; clauses by quality, most specific first; a clause
// that asks for a conversion (as=, g=, v=, kubectl's as=Table) or a stream
// other than watch is skipped; pretty=1, ?pretty=true and curl, Wget and
// browsers get indented JSON.
func negotiateStatusMedia(r *http.Request) (runtime.SerializerInfo, bool) {
	supported := kasCodecs.SupportedMediaTypes()
	accept := r.Header.Get("Accept")
	if accept == "" {
		return prettyIfAsked(r, supported[0], false), true
	}
	type clause struct {
		typ, sub string
		q        float64
		params   map[string]string
	}
	var clauses []clause
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		typ, sub, _ := strings.Cut(mt, "/")
		q := 1.0
		if v, ok := params["q"]; ok {
			q, _ = strconv.ParseFloat(v, 64)
			delete(params, "q")
		}
		clauses = append(clauses, clause{typ, sub, q, params})
	}
	sort.SliceStable(clauses, func(i, j int) bool { // goautoneg.ParseAccept's order
		a, b := clauses[i], clauses[j]
		if a.q != b.q {
			return a.q > b.q
		}
		return a.typ != "*" && b.typ == "*" || a.sub != "*" && b.sub == "*"
	})
	for _, c := range clauses {
		if _, ok := c.params["as"]; ok || c.params["g"] != "" || c.params["v"] != "" || c.params["stream"] != "" && c.params["stream"] != "watch" {
			continue
		}
		for _, info := range supported {
			if c.typ == "*" && c.sub == "*" || c.typ == info.MediaTypeType && (c.sub == "*" || c.sub == info.MediaTypeSubType) {
				return prettyIfAsked(r, info, c.params["pretty"] == "1"), true
			}
		}
	}
	return runtime.SerializerInfo{}, false
}

// prettyIfAsked is NegotiateOutputMediaType's pretty printing (isPrettyPrint).
func prettyIfAsked(r *http.Request, info runtime.SerializerInfo, pretty bool) runtime.SerializerInfo {
	if !pretty {
		if v := r.URL.Query().Get("pretty"); v != "" {
			pretty, _ = strconv.ParseBool(v)
		} else {
			ua := r.UserAgent()
			pretty = strings.HasPrefix(ua, "curl") || strings.HasPrefix(ua, "Wget") || strings.HasPrefix(ua, "Mozilla/5.0")
		}
	}
	if pretty && info.PrettySerializer != nil {
		info.Serializer = info.PrettySerializer
	}
	return info
}
