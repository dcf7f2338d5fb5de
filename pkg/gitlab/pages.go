package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GitLab pages its lists by offset (gitlabhq/gitlabhq
// lib/api/helpers/pagination.rb, lib/gitlab/pagination/offset_pagination.rb
// and offset_header_builder.rb, lib/api/pagination_params.rb): 20 rows a
// page unless per_page asks for more, at most 100 (Kaminari's max_per_page
// in config/initializers/kaminari_config.rb clamps larger values). Every
// answer says X-Next-Page, empty on the last page. X-Total and
// X-Total-Pages are left out past 10,000 rows, so they are never read.
// The Link header's URLs carry GitLab's configured host, which need not be
// the origin asked (a proxy, a hostile server): they are never followed;
// each page's URL is built here, on the client's own origin.
const (
	perPage = 100
	// maxPages bounds the loop against a server that never ends: 10,000
	// rows, more than any list the plugin asks for holds.
	maxPages = 100
)

// page is one page of a list: its items and the headers that say where
// the next one is.
type page[T any] struct {
	items  []T
	header http.Header
}

func (p *page[T]) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.items) }

func (p *page[T]) setHeader(h http.Header) { p.header = h }

// listAll fetches every page of the list at path (below /api/v4, escaped)
// with the given query, per_page=100, following X-Next-Page.
func listAll[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("per_page", strconv.Itoa(perPage))
	var all []T
	for n, current := 0, 1; ; n++ {
		if n == maxPages {
			return nil, &PaginationError{Endpoint: "/api/v4" + path, Problem: fmt.Sprintf("GitLab was still sending pages after %d (%d rows); stopped", maxPages, len(all))}
		}
		q.Set("page", strconv.Itoa(current))
		var p page[T]
		if err := c.get(ctx, path+"?"+q.Encode(), &p); err != nil {
			return nil, err
		}
		all = append(all, p.items...)
		next, err := c.nextPage(p.header, current)
		if err != nil {
			err.Endpoint = "/api/v4" + path
			return nil, err
		}
		if next == 0 {
			return all, nil
		}
		current = next
	}
}

// nextPage reads the number of the page after current: X-Next-Page, else
// (a proxy that drops X- headers) the page of a Link rel="next" on the
// client's origin; 0 when there is none.
func (c *Client) nextPage(h http.Header, current int) (int, *PaginationError) {
	raw, ok := "", false
	if v := h.Values("X-Next-Page"); len(v) > 0 {
		raw, ok = strings.TrimSpace(v[0]), true
	} else if link := linkNext(h.Values("Link")); link != "" {
		u, err := url.Parse(link)
		base := c.BaseURL()
		if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
			return 0, &PaginationError{Problem: "GitLab named the next page only by a Link to another origin, which is not followed"}
		}
		raw, ok = u.Query().Get("page"), true
	}
	if !ok || raw == "" {
		return 0, nil
	}
	next, err := strconv.Atoi(raw)
	if err != nil || next <= current {
		return 0, &PaginationError{Problem: fmt.Sprintf("GitLab's next page %q does not come after page %d", raw, current)}
	}
	return next, nil
}

// linkNext is the URL of rel="next" in Link headers (RFC 8288), or "".
func linkNext(headers []string) string {
	for _, h := range headers {
		for _, entry := range strings.Split(h, ",") {
			target, params, found := strings.Cut(entry, ";")
			target = strings.TrimSpace(target)
			if !found || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.EqualFold(strings.Trim(v, `"`), "next") {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

// PaginationError is a list whose pages do not add up.
type PaginationError struct {
	Endpoint string
	Problem  string
}

func (e *PaginationError) Error() string { return "GET " + e.Endpoint + ": " + e.Problem }

// Fix says what is likely in the way.
func (e *PaginationError) Fix() string {
	return "check the GitLab URL: a proxy in front of GitLab, or a server that is not GitLab, sent these pages"
}
