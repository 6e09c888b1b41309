package ci

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	githubactions "github.com/sethvargo/go-githubactions"
)

// maxEventBytes bounds the read of GITHUB_EVENT_PATH. GitHub caps webhook
// payloads at 25 MB; podium needs two fields from it.
const maxEventBytes = 25 << 20

// maxSummaryBytes is the runner's limit on a step's summary: a larger file
// is not shown at all, so podium cuts an append that would cross it.
const maxSummaryBytes = 1 << 20

// summaryCut ends a summary podium cut to fit maxSummaryBytes.
const summaryCut = "\n\n> **Note:** podium cut this summary to fit GitHub's 1 MiB step summary limit; the run directory and the job log hold the full results.\n"

// GitHub is GitHub Actions. Workflow commands go to the log stream through
// go-githubactions where it escapes its data (masks, groups, annotations);
// outputs and the step summary are written to their files by podium, since
// the library's fixed heredoc delimiter is open to injection.
type GitHub struct {
	opts   options
	guard  *commandGuard
	log    *stickyWriter
	action *githubactions.Action
	// masker writes `::add-mask::` to the raw stream (options.mask).
	masker *githubactions.Action

	runOnce sync.Once
	run     Run
}

// NewGitHub returns the GitHub Actions platform.
func NewGitHub(opts ...Option) *GitHub {
	o := newOptions(opts)
	guard := &commandGuard{newToken: o.stopToken}
	// Podium's own commands end any window of relayed output first: a mask
	// or an annotation sent while commands are stopped would be ignored.
	log := &stickyWriter{w: &commands{g: guard, w: o.log}}
	return &GitHub{
		opts:  o,
		guard: guard,
		log:   log,
		action: githubactions.New(
			githubactions.WithGetenv(o.getenv),
			githubactions.WithWriter(log),
		),
		masker: githubactions.New(
			githubactions.WithGetenv(o.getenv),
			githubactions.WithWriter(&stickyWriter{w: &commands{g: guard, w: o.mask}}),
		),
	}
}

func (g *GitHub) Name() string { return "github-actions" }

// Input returns INPUT_<NAME> (upper case, spaces as '_'), trimmed, as the
// runner sets it for an action's `with:` inputs.
func (g *GitHub) Input(name string) string { return g.action.GetInput(name) }

// SetOutput appends name and value to the GITHUB_OUTPUT file under a random
// delimiter. Any value round-trips, newlines and "::" included; a value that
// contains the delimiter is refused.
func (g *GitHub) SetOutput(name, value string) error {
	path := g.opts.getenv("GITHUB_OUTPUT")
	if path == "" {
		return fmt.Errorf("failed to set output %q: GITHUB_OUTPUT is not set", name)
	}
	entry, err := formatFileCommand(name, value, g.opts.delimiter())
	if err != nil {
		return fmt.Errorf("failed to set output %q: %w", name, err)
	}
	if err := appendFile(path, entry); err != nil {
		return fmt.Errorf("failed to set output %q: %w", name, err)
	}
	return nil
}

// AppendSummary appends Markdown to the GITHUB_STEP_SUMMARY file, ending it
// with a newline so the next append starts a new block. GitHub shows no
// summary at all over 1 MiB, so Markdown that would cross the limit is cut
// at a line boundary and ends with a note saying so; when not even the note
// fits, the append is dropped with a line in the log. Neither is an error:
// the summary is a view of results podium keeps elsewhere.
func (g *GitHub) AppendSummary(markdown string) error {
	path := g.opts.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return fmt.Errorf("failed to append to the step summary: GITHUB_STEP_SUMMARY is not set")
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	if room := maxSummaryBytes - size; int64(len(markdown)) > room {
		if room < int64(len(summaryCut)) {
			fmt.Fprintf(g.log, "podium: the step summary is full (GitHub's limit is %d bytes); %d bytes not added\n", maxSummaryBytes, len(markdown))
			return nil
		}
		markdown = cutSummary(markdown, int(room)-len(summaryCut)) + summaryCut
	}
	if err := appendFile(path, markdown); err != nil {
		return fmt.Errorf("failed to append to the step summary: %w", err)
	}
	return nil
}

// cutSummary returns the whole lines of markdown that fit in n bytes
// (never a partial line, so no Markdown or UTF-8 sequence is split).
func cutSummary(markdown string, n int) string {
	if n <= 0 {
		return ""
	}
	if i := strings.LastIndexByte(markdown[:n], '\n'); i >= 0 {
		return markdown[:i]
	}
	return ""
}

// Mask registers secret with the runner, one `::add-mask::` per line, since
// the runner matches masks against single log lines. The commands go to
// the raw stream (WithMaskWriter), not through podium's redactor, which
// would turn them into `::add-mask::***`. The secret is escaped as command
// data and so never appears as a line of its own, and nothing else echoes
// it.
func (g *GitHub) Mask(secret string) {
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		g.masker.AddMask(line)
	}
}

// Annotate writes an `::error`, `::warning` or `::notice` command. The
// message and the properties are escaped as GitHub's toolkit escapes them
// ("%", CR, LF; properties also ":" and ","), so untrusted text cannot end
// the command or start a new one.
func (g *GitHub) Annotate(a Annotation) {
	props := githubactions.CommandProperties{}
	if a.File != "" {
		props["file"] = a.File
	}
	if a.Line > 0 {
		props["line"] = strconv.Itoa(a.Line)
	}
	if a.Col > 0 {
		props["col"] = strconv.Itoa(a.Col)
	}
	if a.Title != "" {
		props["title"] = a.Title
	}
	act := g.action.WithFieldsMap(props)
	switch a.Level {
	case LevelError:
		act.Errorf("%s", a.Message)
	case LevelWarning:
		act.Warningf("%s", a.Message)
	default:
		act.Noticef("%s", a.Message)
	}
}

// Group starts a `::group::` (title escaped) and returns its `::endgroup::`.
// GitHub does not nest groups; an inner group ends the outer one.
func (g *GitHub) Group(title string) func() {
	g.action.Group(title)
	var once sync.Once
	return func() { once.Do(g.action.EndGroup) }
}

// Relay returns a writer onto w whose bytes the runner shows but does not
// obey: they go out inside a `::stop-commands::<token>` window, closed
// before podium's next command and by Close (see relay.go).
func (g *GitHub) Relay(w io.Writer) io.WriteCloser {
	return &githubRelay{g: g.guard, w: w}
}

// Run reads the job's metadata from the runner's GITHUB_* variables and the
// event payload. A missing or malformed payload leaves the fields it would
// have given empty.
func (g *GitHub) Run() Run {
	g.runOnce.Do(func() { g.run = g.readRun() })
	return g.run
}

func (g *GitHub) readRun() Run {
	env := g.opts.getenv
	r := Run{
		Provider:  g.Name(),
		Commit:    env("GITHUB_SHA"),
		Ref:       env("GITHUB_REF"),
		Branch:    cmp.Or(env("GITHUB_HEAD_REF"), env("GITHUB_REF_NAME")),
		RunID:     env("GITHUB_RUN_ID"),
		Workflow:  env("GITHUB_WORKFLOW"),
		Job:       env("GITHUB_JOB"),
		EventName: env("GITHUB_EVENT_NAME"),
		ServerURL: strings.TrimSuffix(cmp.Or(env("GITHUB_SERVER_URL"), "https://github.com"), "/"),
		APIURL:    strings.TrimSuffix(cmp.Or(env("GITHUB_API_URL"), "https://api.github.com"), "/"),
		Actor:     env("GITHUB_ACTOR"),
		Protected: env("GITHUB_REF_PROTECTED") == "true",
	}
	r.Repository = env("GITHUB_REPOSITORY")
	r.Attempt, _ = strconv.Atoi(env("GITHUB_RUN_ATTEMPT"))
	if r.Repository != "" && r.RunID != "" {
		r.RunURL = r.ServerURL + "/" + r.Repository + "/actions/runs/" + r.RunID
	}
	ev := readEvent(env("GITHUB_EVENT_PATH"), g.opts.maxEvent)
	r.DefaultBranch = ev.Repository.DefaultBranch
	if ev.PullRequest != nil && ev.PullRequest.Number > 0 {
		r.PullRequest = ev.PullRequest.Number
	} else if m := pullRef().FindStringSubmatch(r.Ref); m != nil {
		r.PullRequest, _ = strconv.Atoi(m[1])
	}
	return r
}

// pullRef matches the refs GitHub checks out for pull requests.
var pullRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^refs/pull/([0-9]+)/(?:merge|head)$`) })

// event holds the fields podium reads from the webhook payload.
type event struct {
	PullRequest *struct {
		Number int `json:"number"`
	} `json:"pull_request"`
	Repository struct {
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

// readEvent decodes the event payload at path, reading at most limit
// bytes. Any failure yields the zero event: the payload only adds detail
// that podium can do without.
func readEvent(path string, limit int64) event {
	var ev event
	if path == "" {
		return ev
	}
	f, err := os.Open(path)
	if err != nil {
		return ev
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || int64(len(data)) > limit {
		return ev
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return event{}
	}
	return ev
}
