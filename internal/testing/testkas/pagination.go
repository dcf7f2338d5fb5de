package testkas

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// GitLab's offset pagination: lib/api/pagination_params.rb (page default
// 1, per_page default 20, per_page 0 refused), Kaminari (max_per_page 100
// in config/initializers/kaminari_config.rb: larger values are clamped; a
// negative per_page is ignored; a page below 1 is page 1),
// lib/gitlab/pagination/offset_pagination.rb and offset_header_builder.rb
// for the headers.
const (
	defaultPerPage = 20
	maxPerPage     = 100
)

type pageRange struct{ from, to int }

// paginate writes the pagination headers for a list of total items and
// returns the bounds of the page asked for. routeParams are the route's
// own parameters (e.g. id), which GitLab's Link URLs carry too. On a bad
// parameter it writes Grape's 400 and returns false.
func paginate(w http.ResponseWriter, r *http.Request, gitlabURL string, total int, routeParams map[string]string) (pageRange, bool) {
	q := r.URL.Query()
	param := func(name string, def int) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			writeGitLabJSON(w, http.StatusBadRequest, object{{"error", name + " is invalid"}})
			return 0, false
		}
		return n, true
	}
	page, ok := param("page", 1)
	if !ok {
		return pageRange{}, false
	}
	perPage, ok := param("per_page", defaultPerPage)
	if !ok {
		return pageRange{}, false
	}
	if perPage == 0 { // except_values: [0]
		writeGitLabJSON(w, http.StatusBadRequest, object{{"error", "per_page has a value not allowed"}})
		return pageRange{}, false
	}
	limit := perPage
	switch {
	case limit < 0:
		limit = defaultPerPage
	case limit > maxPerPage:
		limit = maxPerPage
	}
	page = max(page, 1)
	totalPages := (total + limit - 1) / limit
	outOfRange := page > totalPages
	next, prev := "", ""
	if page < totalPages {
		next = strconv.Itoa(page + 1)
	}
	if page > 1 && !outOfRange {
		prev = strconv.Itoa(page - 1)
	}
	shownPages := max(totalPages, 1)

	// Link: the request's URL on GitLab's configured host, its query
	// rebuilt from every parameter (Rails to_query: sorted, CGI-escaped),
	// with the page replaced and per_page as asked.
	params := map[string]string{}
	for k, v := range q {
		params[k] = v[0]
	}
	for k, v := range routeParams {
		params[k] = v
	}
	params["per_page"] = strconv.Itoa(perPage)
	href := func(p int) string {
		params["page"] = strconv.Itoa(p)
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var query []string
		for _, k := range keys {
			query = append(query, url.QueryEscape(k)+"="+url.QueryEscape(params[k]))
		}
		return gitlabURL + r.URL.EscapedPath() + "?" + strings.Join(query, "&")
	}
	var links []string
	if prev != "" {
		links = append(links, "<"+href(page-1)+`>; rel="prev"`)
	}
	if next != "" {
		links = append(links, "<"+href(page+1)+`>; rel="next"`)
	}
	links = append(links, "<"+href(1)+`>; rel="first"`, "<"+href(shownPages)+`>; rel="last"`)

	h := w.Header()
	h.Set("X-Per-Page", strconv.Itoa(limit))
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)
	h.Set("Link", strings.Join(links, ", "))
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(shownPages))

	from := min((page-1)*limit, total)
	return pageRange{from, min(from+limit, total)}, true
}
