package ci

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Output that podium relays but did not write (a pipeline step's, a
// component's build or test: the PR's code) must not speak to the runner.
// Each platform's Relay wraps the stream it goes to:
//
//   - GitHub reads workflow commands from every line of a step's output:
//     "::add-mask::", "::error file=...::", "::stop-commands::" at the
//     start of a line, and legacy "##[command]" anywhere in one. Relayed
//     bytes are preceded by `::stop-commands::<random token>`, under which
//     the runner obeys nothing but `::<token>::`; podium ends the window
//     with that line before it writes a command of its own (a group, an
//     annotation, a mask) and when the relay closes. The token is new for
//     every window and never written where the relayed code could read it.
//   - GitLab folds the log at `section_start:<time>:<name>` and
//     `section_end:<time>:<name>` markers found anywhere in it; relayed
//     bytes have every such marker broken (an invisible \e[0K inserted
//     after "section"), so a step can neither close podium's section nor
//     open one of its own.
//   - A terminal has no runner: the local relay passes bytes through.

// commandGuard is the GitHub platform's record of whether the runner is
// obeying commands. Podium's own commands and relayed output both pass
// through it, so a window of relayed output is always closed before the
// next command.
type commandGuard struct {
	mu sync.Mutex
	// token is the stop token of the open window; "" while commands are obeyed.
	token string
	// w is where the window was opened: the resume goes to the same stream.
	w io.Writer
	// midLine: the relayed bytes so far do not end a line, so the resume
	// needs a line break first (the runner reads "\n", "\r\n" and "\r" as
	// line ends).
	midLine bool
	// newToken makes stop tokens; tests fix it.
	newToken func() string
}

// stop opens a window on w unless one is open. mu is held.
func (g *commandGuard) stop(w io.Writer) {
	if g.token != "" {
		return
	}
	g.token = g.newToken()
	g.w = w
	g.midLine = false
	fmt.Fprintf(w, "::stop-commands::%s\n", g.token)
}

// resume closes the open window, if any. mu is held.
func (g *commandGuard) resume() {
	if g.token == "" {
		return
	}
	if g.midLine {
		io.WriteString(g.w, "\n")
	}
	fmt.Fprintf(g.w, "::%s::\n", g.token)
	g.token, g.w, g.midLine = "", nil, false
}

// commands is the writer podium's own workflow commands go through: it
// closes a window of relayed output first.
type commands struct {
	g *commandGuard
	w io.Writer
}

func (c *commands) Write(p []byte) (int, error) {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	c.g.resume()
	return c.w.Write(p)
}

// githubRelay writes relayed output inside a stop-commands window.
type githubRelay struct {
	g *commandGuard
	w io.Writer
}

func (r *githubRelay) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	r.g.stop(r.w)
	n, err := r.w.Write(p)
	if last := p[len(p)-1]; last != '\n' && last != '\r' {
		r.g.midLine = true
	} else {
		r.g.midLine = false
	}
	return n, err
}

// Close ends the window, so that commands are obeyed again once the
// relayed output is over.
func (r *githubRelay) Close() error {
	r.g.mu.Lock()
	defer r.g.mu.Unlock()
	r.g.resume()
	return nil
}

// sectionMarkers are the literal heads of GitLab's section markers
// (Gitlab::Regex.build_trace_section_regex: section_(start|end):\d+:name,
// options, then \r\e[0K). Breaking the head breaks the marker.
var sectionMarkers = []string{"section_start:", "section_end:"}

// sectionBreaker inserts \e[0K (erase to the end of the line: invisible
// on a terminal, and dropped by GitLab's log renderer) after "section" in
// every marker head of the relayed bytes.
var sectionBreaker = strings.NewReplacer(
	"section_start:", "section\x1b[0K_start:",
	"section_end:", "section\x1b[0K_end:",
)

// gitlabRelay breaks section markers in relayed output. A marker head
// split across two writes is caught by holding back the bytes that could
// begin one until the next write (or Close).
type gitlabRelay struct {
	mu   sync.Mutex
	w    io.Writer
	held []byte
}

func (r *gitlabRelay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	buf := append(r.held, p...)
	keep := markerPrefixLen(buf)
	out := sectionBreaker.Replace(string(buf[:len(buf)-keep]))
	r.held = append([]byte(nil), buf[len(buf)-keep:]...)
	if _, err := io.WriteString(r.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (r *gitlabRelay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.held) == 0 {
		return nil
	}
	_, err := r.w.Write(r.held)
	r.held = nil
	return err
}

// markerPrefixLen is the length of the longest suffix of b that is a
// proper prefix of a marker head.
func markerPrefixLen(b []byte) int {
	for k := min(len(b), len(sectionMarkers[0])-1); k > 0; k-- {
		tail := b[len(b)-k:]
		for _, m := range sectionMarkers {
			if k < len(m) && bytes.HasPrefix([]byte(m), tail) {
				return k
			}
		}
	}
	return 0
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
