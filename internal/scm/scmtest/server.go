package scmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is how a fake answers one request instead of (or after) handling
// it. Build one with the constructors below; inject it with Inject.
type Fault struct {
	// Status answers with this status and Body (a JSON message when Body
	// is empty).
	Status int
	// Header is set on the answer.
	Header map[string]string
	Body   string
	// ResetIn sets x-ratelimit-remaining: 0 (GitHub) or RateLimit-Remaining:
	// 0 (GitLab) and a reset this long after the fake's clock.
	ResetIn time.Duration
	// Hang never answers: the handler returns when the client gives up.
	Hang bool
	// Reset closes the connection without an answer (a connection reset).
	Reset bool
	// After handles the request for real first (the PR is created, the
	// comment posted) and then answers with the fault; with Status 0 and no
	// Hang or Reset, the real answer is sent with Header added.
	After bool
	// EchoAuth puts the request's credentials in the body, as a careless
	// proxy might: token-safety tests check they never get printed.
	EchoAuth bool
}

// Status answers code with a JSON message.
func Status(code int) Fault { return Fault{Status: code} }

// TooManyRequests answers 429 with Retry-After: seconds.
func TooManyRequests(seconds int) Fault {
	return Fault{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": strconv.Itoa(seconds)}}
}

// SecondaryLimit answers GitHub's secondary rate limit (code 403 or 429)
// with no retry-after header.
func SecondaryLimit(code int) Fault {
	return Fault{Status: code, Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}
}

// PrimaryLimit answers 403 with an exhausted primary rate limit that
// resets after d.
func PrimaryLimit(d time.Duration) Fault {
	return Fault{Status: http.StatusForbidden, ResetIn: d, Body: `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`}
}

// Hang never answers.
func Hang() Fault { return Fault{Hang: true} }

// ConnectionReset closes the connection without answering.
func ConnectionReset() Fault { return Fault{Reset: true} }

// EchoToken answers code with the request's credentials in the message.
func EchoToken(code int) Fault { return Fault{Status: code, EchoAuth: true} }

// Headers sends the real answer with extra headers (a crafted Link, say).
func Headers(h map[string]string) Fault { return Fault{After: true, Header: h} }

// AfterHandling makes f happen after the request was handled for real: a
// 502 or a reset after the fake created the PR.
func (f Fault) AfterHandling() Fault { f.After = true; return f }

func (f Fault) String() string {
	var parts []string
	if f.After {
		parts = append(parts, "after")
	}
	switch {
	case f.Hang:
		parts = append(parts, "hang")
	case f.Reset:
		parts = append(parts, "reset")
	case f.Status != 0:
		parts = append(parts, strconv.Itoa(f.Status))
	default:
		parts = append(parts, "headers")
	}
	return strings.Join(parts, " ")
}

// Request is one request a fake received.
type Request struct {
	Method string
	Path   string // below the API prefix, unescaped, without the query
	Query  string
	// BodySHA256 is the hex digest of the body, so tests can check that
	// retries send the same bytes.
	BodySHA256 string
	// ContentLengthOK is false when the Content-Length header did not
	// match the body.
	ContentLengthOK bool
	Fault           string // the injected fault, "" when answered normally
}

type faultRule struct {
	method, pattern string
	fault           Fault
}

// core is what both fakes share: the listener, the API prefix, auth,
// request log, fault injection and the state lock.
type core struct {
	// URL is the API base URL, prefix included (http://127.0.0.1:port/api/v3).
	URL string
	// Dir is the bare git repository that holds the fake's branches.
	Dir string

	t             testing.TB
	srv           *httptest.Server
	repo          *repo
	defaultBranch string
	prefix        string
	clock         interface{ Now() time.Time }
	done          chan struct{}
	auth          func(r *http.Request) bool
	route         func(w http.ResponseWriter, r *http.Request, segs []string)
	errBody       func(msg string) string
	// resetHeaders names the rate-limit headers ResetIn sets.
	resetHeaders [2]string

	// mu serializes every handler's work on the state and the repository.
	mu sync.Mutex

	logMu    sync.Mutex
	faults   []faultRule
	requests []Request

	state
}

// start creates the fake's repository, with files as the first commit of
// defaultBranch, and starts serving.
func (c *core) start(t testing.TB, defaultBranch string, files map[string]string, clock interface{ Now() time.Time }) {
	t.Helper()
	c.clock = clock
	c.defaultBranch = defaultBranch
	c.repo = newRepo(t, defaultBranch, clock)
	c.Dir = c.repo.dir
	if _, err := c.repo.seed(defaultBranch, "", files, "Initial commit"); err != nil {
		t.Fatal(err)
	}
	c.t = t
	c.done = make(chan struct{})
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	c.URL = c.srv.URL + c.prefix
	t.Cleanup(func() {
		close(c.done)
		c.srv.CloseClientConnections()
		c.srv.Close()
	})
}

// Inject queues faults for requests that match method ("*" for any) and
// pattern: a path below the API prefix, unescaped, without the query
// ("/repos/octo/models/pulls"), where "*" matches one path segment
// (path.Match) and a lone "*" matches every path. Each matching request
// takes the next fault; requests beyond them are answered normally.
func (c *core) Inject(method, pattern string, faults ...Fault) {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	for _, f := range faults {
		c.faults = append(c.faults, faultRule{method: method, pattern: pattern, fault: f})
	}
}

// ClearFaults drops the injected faults no request has taken yet.
func (c *core) ClearFaults() {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	c.faults = nil
}

// Requests returns every request received so far, in order.
func (c *core) Requests() []Request {
	c.logMu.Lock()
	defer c.logMu.Unlock()
	return append([]Request(nil), c.requests...)
}

// Count returns how many requests matched method and pattern (as Inject).
func (c *core) Count(method, pattern string) int {
	n := 0
	for _, r := range c.Requests() {
		if match(method, pattern, r.Method, r.Path) {
			n++
		}
	}
	return n
}

// Total returns the number of requests received.
func (c *core) Total() int { return len(c.Requests()) }

func match(method, pattern, gotMethod, gotPath string) bool {
	if method != "*" && !strings.EqualFold(method, gotMethod) {
		return false
	}
	if pattern == "*" {
		return true
	}
	ok, _ := path.Match(pattern, gotPath)
	return ok
}

func (c *core) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)

	escaped := r.URL.EscapedPath()
	if !strings.HasPrefix(escaped, c.prefix+"/") {
		// A client that drops the prefix (a hard-coded absolute URL) fails.
		c.writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	escaped = strings.TrimPrefix(escaped, c.prefix)
	var segs []string
	for _, s := range strings.Split(strings.Trim(escaped, "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			c.writeError(w, http.StatusBadRequest, "bad path")
			return
		}
		segs = append(segs, u)
	}
	rec := Request{
		Method:          r.Method,
		Path:            "/" + strings.Join(segs, "/"),
		Query:           r.URL.RawQuery,
		BodySHA256:      hex.EncodeToString(sum[:]),
		ContentLengthOK: r.ContentLength < 0 || r.ContentLength == int64(len(body)),
	}

	c.logMu.Lock()
	var fault *Fault
	for i, f := range c.faults {
		if match(f.method, f.pattern, rec.Method, rec.Path) {
			fault = &f.fault
			rec.Fault = f.fault.String()
			c.faults = append(c.faults[:i:i], c.faults[i+1:]...)
			break
		}
	}
	c.requests = append(c.requests, rec)
	c.logMu.Unlock()

	if fault != nil && !fault.After {
		c.answerFault(w, r, *fault)
		return
	}
	if !c.auth(r) {
		c.writeError(w, http.StatusUnauthorized, c.unauthorized())
		return
	}
	if fault == nil {
		c.handle(w, r, segs)
		return
	}
	// Handle for real, then answer with the fault.
	real := httptest.NewRecorder()
	c.handle(real, r, segs)
	if fault.Status == 0 && !fault.Hang && !fault.Reset {
		for k, vs := range real.Header() {
			w.Header()[k] = vs
		}
		for k, v := range fault.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(real.Code)
		w.Write(real.Body.Bytes())
		return
	}
	c.answerFault(w, r, *fault)
}

func (c *core) unauthorized() string {
	if c.prefix == "/api/v4" {
		return "401 Unauthorized"
	}
	return "Bad credentials"
}

func (c *core) handle(w http.ResponseWriter, r *http.Request, segs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.route(w, r, segs)
}

func (c *core) answerFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-c.done:
		}
		return
	case f.Reset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0) // RST, not FIN
		}
		conn.Close()
		return
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	if f.ResetIn != 0 {
		w.Header().Set(c.resetHeaders[0], "0")
		w.Header().Set(c.resetHeaders[1], strconv.FormatInt(c.clock.Now().Add(f.ResetIn).Unix(), 10))
	}
	body := f.Body
	switch {
	case f.EchoAuth:
		var creds []string
		for _, h := range []string{"Authorization", "Private-Token", "Job-Token"} {
			if v := r.Header.Get(h); v != "" {
				creds = append(creds, h+": "+v)
			}
		}
		body = c.errBody("upstream rejected " + strings.Join(creds, ", "))
	case body == "":
		body = c.errBody(http.StatusText(f.Status))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.Status)
	io.WriteString(w, body)
}

func (c *core) writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}

func (c *core) writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, c.errBody(msg))
}

// decode reads a JSON request body into v; false (with a 400 sent) when
// it is not valid JSON.
func (c *core) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		c.writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// paginate slices items by the page and per_page query parameters and sets
// the Link header (and GitLab's X-* headers) for the next and last pages.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T, defaultPerPage int) []T {
	q := r.URL.Query()
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 {
		perPage = defaultPerPage
	}
	perPage = min(perPage, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	last := max(1, (len(items)+perPage-1)/perPage)
	link := func(p int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		return u.String()
	}
	var links []string
	if page < last {
		links = append(links, fmt.Sprintf(`<%s>; rel="next"`, link(page+1)))
		w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
	} else {
		w.Header().Set("X-Next-Page", "")
	}
	links = append(links, fmt.Sprintf(`<%s>; rel="last"`, link(last)))
	w.Header().Set("Link", strings.Join(links, ", "))
	w.Header().Set("X-Page", strconv.Itoa(page))
	w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
	w.Header().Set("X-Total", strconv.Itoa(len(items)))
	w.Header().Set("X-Total-Pages", strconv.Itoa(last))
	lo := min((page-1)*perPage, len(items))
	hi := min(lo+perPage, len(items))
	return items[lo:hi]
}

// state is the review state both fakes keep: change requests (PRs or
// MRs), their comments or notes, commit statuses and the runs (workflow
// dispatches or pipelines) they started. core.mu guards it; the exported
// readers take the lock, the rest run inside a handler that holds it.
type state struct {
	nextNumber int
	// nextID numbers comments, statuses and runs from one sequence, so an
	// id never names two things.
	nextID   int64
	pulls    []*PullRequest
	comments map[int][]*Comment
	statuses map[string][]CommitStatus
	runs     []Dispatch
}

func newState(firstID int64) state {
	return state{
		nextNumber: 1,
		nextID:     firstID,
		comments:   map[int][]*Comment{},
		statuses:   map[string][]CommitStatus{},
	}
}

// newID returns the next comment, status or run id.
func (s *state) newID() int64 {
	s.nextID++
	return s.nextID
}

// addPull numbers p and records it.
func (s *state) addPull(p *PullRequest) {
	p.Number = s.nextNumber
	s.nextNumber++
	s.pulls = append(s.pulls, p)
}

func (s *state) pull(number int) *PullRequest {
	for _, p := range s.pulls {
		if p.Number == number {
			return p
		}
	}
	return nil
}

// addComment gives c an id and appends it to change request number.
func (s *state) addComment(number int, c *Comment) *Comment {
	c.ID = s.newID()
	s.comments[number] = append(s.comments[number], c)
	return c
}

// addStatus records st on sha and returns the status id.
func (s *state) addStatus(sha string, st CommitStatus) int64 {
	s.statuses[sha] = append(s.statuses[sha], st)
	return s.newID()
}

// addRun gives run an id and records it.
func (s *state) addRun(run Dispatch) Dispatch {
	run.ID = s.newID()
	s.runs = append(s.runs, run)
	return run
}

// pullViews copies every change request, by number, with the head SHA
// the branch has now (it moves when podium pushes after opening).
func (c *core) pullViews() []PullRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []PullRequest
	for _, p := range c.pulls {
		out = append(out, c.view(p))
	}
	return out
}

func (c *core) view(p *PullRequest) PullRequest {
	v := *p
	v.Labels = slices.Clone(p.Labels)
	if sha := c.repo.branchHead(p.Head); sha != "" && p.HeadRepo == "" {
		v.HeadSHA = sha
	}
	return v
}

// commentsOn copies the comments on change request number, oldest first.
func (c *core) commentsOn(number int) []Comment {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Comment
	for _, cm := range c.comments[number] {
		out = append(out, *cm)
	}
	return out
}

// postComment records a comment written outside podium (another user, a
// spoof of podium's marker, a system note) and returns its id.
func (c *core) postComment(number int, cm Comment) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addComment(number, &cm).ID
}

// Statuses returns the statuses set on sha, oldest first.
func (c *core) Statuses(sha string) []CommitStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.statuses[sha])
}

func (c *core) runList() []Dispatch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.runs)
}
