package httpclient

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// RedirectError is a redirect podium refused to follow: it leads to
// another origin (scheme, host or port) than the request it answers.
//
// Every request podium sends to a code host carries a credential, in a
// header (Authorization, which go-github's auth transport sets again on
// every hop; GitLab's PRIVATE-TOKEN or JOB-TOKEN, which net/http never
// strips) or in the body (a GitLab trigger token, resent on a 307 or
// 308). A redirect to another origin would hand it to a server the user
// never named, so the call fails instead, and says where it was sent.
// Redirects within the origin (GitHub's for a renamed repository) are
// followed.
type RedirectError struct {
	Status int    // the redirect's status, 301, 302, 303, 307 or 308 (0 when unknown)
	From   string // the origin the request was sent to: scheme://host:port
	To     string // the origin the server redirected to
}

func (e *RedirectError) Error() string {
	status := "a redirect"
	if e.Status != 0 {
		status = fmt.Sprintf("a %d redirect", e.Status)
	}
	return fmt.Sprintf("refused %s from %s to %s: another origin would receive the request's credentials (podium follows redirects only within the API's own scheme, host and port)",
		status, e.From, e.To)
}

// checkRedirect is the http.Client's CheckRedirect: a redirect is followed
// only to the origin of the first request, and at most maxRedirects times.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first := via[0]
	if from, to := origin(first.URL), origin(req.URL); from != to {
		rerr := &RedirectError{From: from, To: to}
		if req.Response != nil {
			rerr.Status = req.Response.StatusCode
		}
		return rerr
	}
	return nil
}

// maxRedirects is net/http's own limit.
const maxRedirects = 10

// origin is scheme://host:port, lower case, with the scheme's default port
// made explicit, so that https://API.example.com and
// https://api.example.com:443 are one origin and http://... another.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Confine returns a shallow copy of c that refuses redirects to another
// origin before c's own CheckRedirect runs (a client from New when c is
// nil). Backends call it on the client they are given, so that no caller
// loses the rule by passing its own *http.Client.
func Confine(c *http.Client) *http.Client {
	if c == nil {
		return New(Options{})
	}
	cc := *c
	own := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if own != nil {
			return own(req, via)
		}
		return nil
	}
	return &cc
}
