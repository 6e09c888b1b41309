package ci

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/redact"
)

// env is a fake environment for WithGetenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// newTestGitHub returns a GitHub platform whose GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY are files in a temp dir, and its log buffer.
func newTestGitHub(t *testing.T, extra env, opts ...Option) (*GitHub, env, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	e := env{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
	}
	for k, v := range extra {
		e[k] = v
	}
	var log bytes.Buffer
	opts = append([]Option{WithGetenv(e.get), WithWriter(&log)}, opts...)
	return NewGitHub(opts...), e, &log
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestGitHubSetOutputParsesBack(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"decision":  "promote",
		"empty":     "",
		"multiline": "line one\nline two\n",
		"fixed-delimiter": "a\n_GitHubActionsFileCommandDelimeter_\ninjected<<EOF\nevil\nEOF\n" +
			"_GitHubActionsFileCommandDelimeter_",
		"toolkit_prefix": "ghadelimiter_00000000-0000-4000-8000-000000000000\nx=1",
		"commands":       "::add-mask::x\n::stop-commands::y\n::error file=a::b",
		"equals":         "a=b<<c",
		"crlf":           "one\r\ntwo\r\n",
		"only_newline":   "\n",
		"unicode":        "accuracy ≥ 0.9 ✓",
	}
	g, e, _ := newTestGitHub(t, nil)
	for name, value := range want {
		if err := g.SetOutput(name, value); err != nil {
			t.Fatalf("SetOutput(%q): %v", name, err)
		}
	}
	got, err := ParseFileCommands(readFile(t, e["GITHUB_OUTPUT"]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed outputs (-want +got):\n%s", diff)
	}
}

func TestGitHubSetOutputLaterWins(t *testing.T) {
	t.Parallel()
	g, e, _ := newTestGitHub(t, nil)
	for _, v := range []string{"reject", "promote"} {
		if err := g.SetOutput("decision", v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ParseFileCommands(readFile(t, e["GITHUB_OUTPUT"]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"decision": "promote"}, got); diff != "" {
		t.Errorf("parsed outputs (-want +got):\n%s", diff)
	}
}

func TestGitHubSetOutputRefuses(t *testing.T) {
	t.Parallel()
	const delim = "ghadelimiter_fixed"
	tests := []struct {
		name, output, value string
		wantErr             string
	}{
		{
			name: "value holds the delimiter", output: "x", value: "a\nghadelimiter_fixed\ny<<z",
			wantErr: `failed to set output "x": unexpected input: value of "x" should not contain the delimiter "ghadelimiter_fixed"`,
		},
		{
			name: "value holds the delimiter inside a line", output: "x", value: "prefix ghadelimiter_fixed suffix",
			wantErr: `failed to set output "x": unexpected input: value of "x" should not contain the delimiter "ghadelimiter_fixed"`,
		},
		{
			name: "name with equals", output: "a=b", value: "v",
			wantErr: `failed to set output "a=b": invalid output name "a=b": use letters, digits, '_' and '-', starting with a letter or '_'`,
		},
		{
			name: "name with newline", output: "a\nb", value: "v",
			wantErr: `failed to set output "a\nb": invalid output name "a\nb": use letters, digits, '_' and '-', starting with a letter or '_'`,
		},
		{
			name: "empty name", output: "", value: "v",
			wantErr: `failed to set output "": invalid output name "": use letters, digits, '_' and '-', starting with a letter or '_'`,
		},
		{
			name: "heredoc in name", output: "a<<b", value: "v",
			wantErr: `failed to set output "a<<b": invalid output name "a<<b": use letters, digits, '_' and '-', starting with a letter or '_'`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, e, _ := newTestGitHub(t, nil, withDelimiter(func() string { return delim }))
			err := g.SetOutput(tt.output, tt.value)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("SetOutput() error = %v, want %s", err, tt.wantErr)
			}
			if _, err := os.Stat(e["GITHUB_OUTPUT"]); !os.IsNotExist(err) {
				t.Errorf("GITHUB_OUTPUT was written after a refusal (stat: %v)", err)
			}
		})
	}
}

func TestGitHubSetOutputWithoutFile(t *testing.T) {
	t.Parallel()
	g := NewGitHub(WithGetenv(env{}.get), WithWriter(&bytes.Buffer{}))
	err := g.SetOutput("decision", "promote")
	want := `failed to set output "decision": GITHUB_OUTPUT is not set`
	if err == nil || err.Error() != want {
		t.Fatalf("SetOutput() error = %v, want %s", err, want)
	}
}

func TestRandomDelimiter(t *testing.T) {
	t.Parallel()
	a, b := randomDelimiter(), randomDelimiter()
	if a == b {
		t.Errorf("two delimiters are equal: %s", a)
	}
	if !strings.HasPrefix(a, "ghadelimiter_") || len(a) != len("ghadelimiter_")+36 {
		t.Errorf("delimiter %q is not ghadelimiter_<uuid>", a)
	}
}

func TestGitHubAppendSummary(t *testing.T) {
	t.Parallel()
	g, e, log := newTestGitHub(t, nil)
	parts := []string{"## podium\n", "| metric | value |\n|---|---|\n| accuracy | 0.93 |", "::add-mask::not a command here\n"}
	for _, p := range parts {
		if err := g.AppendSummary(p); err != nil {
			t.Fatal(err)
		}
	}
	want := "## podium\n| metric | value |\n|---|---|\n| accuracy | 0.93 |\n::add-mask::not a command here\n"
	if diff := cmp.Diff(want, readFile(t, e["GITHUB_STEP_SUMMARY"])); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if log.Len() != 0 {
		t.Errorf("the summary leaked into the log: %q", log.String())
	}
}

func TestGitHubAppendSummaryLimit(t *testing.T) {
	t.Parallel()
	row := "| accuracy_by_region.r0001 | 0.91 | 0.92 | pass |\n" // 50 bytes
	big := strings.Repeat(row, maxSummaryBytes/len(row)+10)
	tests := []struct {
		name    string
		before  int // bytes already in the summary
		md      string
		want    string // the appended text, "" for none
		wantLog string
	}{
		{name: "fits", before: maxSummaryBytes - 6, md: "fits", want: "fits\n"},
		{name: "exactly fits", before: maxSummaryBytes - 5, md: "fits", want: "fits\n"},
		{
			name: "cut at a line with a note",
			md:   big,
			want: strings.Repeat(row, (maxSummaryBytes-len(summaryCut))/len(row))[:((maxSummaryBytes-len(summaryCut))/len(row))*len(row)-1] + summaryCut,
		},
		{
			name:    "full: dropped with a log line",
			before:  maxSummaryBytes - len(summaryCut) + 1,
			md:      big,
			wantLog: "podium: the step summary is full (GitHub's limit is 1048576 bytes); 1049050 bytes not added\n",
		},
		{name: "one long line: only the note", md: strings.Repeat("x", maxSummaryBytes+1), want: summaryCut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, e, log := newTestGitHub(t, nil)
			prefix := strings.Repeat("p", tt.before)
			if err := os.WriteFile(e["GITHUB_STEP_SUMMARY"], []byte(prefix), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := g.AppendSummary(tt.md); err != nil {
				t.Fatalf("AppendSummary() error = %v, want none", err)
			}
			got := strings.TrimPrefix(readFile(t, e["GITHUB_STEP_SUMMARY"]), prefix)
			if got != tt.want {
				t.Errorf("appended %d bytes ending %q, want %d bytes ending %q", len(got), tail(got), len(tt.want), tail(tt.want))
			}
			if n := tt.before + len(got); n > maxSummaryBytes {
				t.Errorf("summary holds %d bytes, over the limit %d", n, maxSummaryBytes)
			}
			if diff := cmp.Diff(tt.wantLog, log.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func tail(s string) string { return s[max(0, len(s)-120):] }

// commandLines returns the lines of log that the runner would read as
// workflow commands.
func commandLines(log string) []string {
	var cmds []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "::") {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

func TestGitHubAnnotateEscapesInjection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    Annotation
		want string
	}{
		{
			name: "add-mask after a newline",
			a:    Annotation{Level: LevelError, Message: "bad metric\n::add-mask::ghp_CANARY"},
			want: "::error::bad metric%0A::add-mask::ghp_CANARY\n",
		},
		{
			name: "stop-commands",
			a:    Annotation{Level: LevelWarning, Message: "::stop-commands::x"},
			want: "::warning::::stop-commands::x\n",
		},
		{
			name: "already-encoded newline",
			a:    Annotation{Level: LevelNotice, Message: "a%0A::error::b"},
			want: "::notice::a%250A::error::b\n",
		},
		{
			name: "carriage return",
			a:    Annotation{Level: LevelError, Message: "a\r::error::b"},
			want: "::error::a%0D::error::b\n",
		},
		{
			name: "position and title properties",
			a: Annotation{
				Level: LevelError, File: "podium.yaml", Line: 3, Col: 5,
				Title: "gate: rules", Message: "metric \"acc\" not found",
			},
			want: "::error col=5,file=podium.yaml,line=3,title=gate%3A rules::metric \"acc\" not found\n",
		},
		{
			name: "property injection",
			a: Annotation{
				Level: LevelError, File: "a,line=1::\n::add-mask::x", Title: "t%0A",
				Message: "m",
			},
			want: "::error file=a%2Cline=1%3A%3A%0A%3A%3Aadd-mask%3A%3Ax,title=t%250A::m\n",
		},
		{
			name: "format verbs are not interpreted",
			a:    Annotation{Level: LevelError, Message: "100%s %d"},
			want: "::error::100%25s %25d\n",
		},
		{
			name: "no level is a notice",
			a:    Annotation{Message: "fyi"},
			want: "::notice::fyi\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, _, log := newTestGitHub(t, nil)
			g.Annotate(tt.a)
			if diff := cmp.Diff(tt.want, log.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
			if n := len(commandLines(log.String())); n != 1 {
				t.Errorf("log holds %d command lines, want 1: %q", n, log.String())
			}
		})
	}
}

func TestGitHubMask(t *testing.T) {
	t.Parallel()
	g, _, log := newTestGitHub(t, nil)
	g.Mask("ghp_CANARY")
	g.Mask("-----BEGIN KEY-----\r\nabc%def\r\n\n   \n-----END KEY-----\n")
	g.Mask("")
	want := "::add-mask::ghp_CANARY\n" +
		"::add-mask::-----BEGIN KEY-----\n" +
		"::add-mask::abc%25def\n" +
		"::add-mask::-----END KEY-----\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// A mask issued after untrusted text must still work: the untrusted text
// cannot have stopped command processing.
func TestGitHubMaskAfterUntrustedText(t *testing.T) {
	t.Parallel()
	g, _, log := newTestGitHub(t, nil)
	g.Annotate(Annotation{Level: LevelWarning, Message: "x\n::stop-commands::tok"})
	g.Group("step\n::stop-commands::tok2")
	g.Mask("ghp_CANARY")
	for _, l := range commandLines(log.String()) {
		if strings.HasPrefix(l, "::stop-commands::") {
			t.Errorf("untrusted text started a stop-commands line: %q", l)
		}
	}
	if !strings.HasSuffix(log.String(), "\n::add-mask::ghp_CANARY\n") {
		t.Errorf("the mask is not a command line of its own: %q", log.String())
	}
}

func TestGitHubGroup(t *testing.T) {
	t.Parallel()
	g, _, log := newTestGitHub(t, nil)
	end := g.Group("train\n::add-mask::x")
	end()
	end() // a second call is a no-op
	want := "::group::train%0A::add-mask::x\n::endgroup::\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// go-githubactions panics when it cannot write a command; podium must not.
func TestGitHubClosedLogDoesNotPanic(t *testing.T) {
	t.Parallel()
	g := NewGitHub(WithGetenv(env{}.get), WithWriter(failingWriter{}))
	g.Mask("secret-value")
	g.Annotate(Annotation{Level: LevelError, Message: "m"})
	g.Group("t")()
}

func TestGitHubInput(t *testing.T) {
	t.Parallel()
	g, _, _ := newTestGitHub(t, env{"INPUT_RUN_DIR": "  .podium/run \n", "INPUT_SPEC": "podium.yaml"})
	if got := g.Input("run_dir"); got != ".podium/run" {
		t.Errorf("Input(run_dir) = %q", got)
	}
	if got := g.Input("spec"); got != "podium.yaml" {
		t.Errorf("Input(spec) = %q", got)
	}
	if got := g.Input("missing"); got != "" {
		t.Errorf("Input(missing) = %q", got)
	}
}

func TestGitHubRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeEvent := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prEvent := writeEvent("pr.json", `{"action":"opened","number":42,"pull_request":{"number":42,"head":{"ref":"feature"}},"repository":{"default_branch":"main"}}`)
	pushEvent := writeEvent("push.json", `{"ref":"refs/heads/main","repository":{"default_branch":"trunk"}}`)
	malformed := writeEvent("bad.json", `{"pull_request":{"number":"42"`)
	wrongType := writeEvent("type.json", `{"pull_request":{"number":"42"},"repository":{"default_branch":"main"}}`)
	huge := writeEvent("huge.json", `{"pull_request":{"number":7},"pad":"`+strings.Repeat("x", 1<<10)+`"}`)

	base := env{
		"GITHUB_SHA":         "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_REPOSITORY":  "acme/iris",
		"GITHUB_RUN_ID":      "9001",
		"GITHUB_RUN_ATTEMPT": "2",
		"GITHUB_WORKFLOW":    "model review",
		"GITHUB_JOB":         "review",
		"GITHUB_SERVER_URL":  "https://github.example.com/",
		"GITHUB_API_URL":     "https://github.example.com/api/v3",
		"GITHUB_ACTOR":       "octocat",
	}
	with := func(kv ...string) env {
		e := env{}
		for k, v := range base {
			e[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	common := Run{
		Provider:   "github-actions",
		Commit:     "0123456789abcdef0123456789abcdef01234567",
		Repository: "acme/iris",
		RunID:      "9001",
		RunURL:     "https://github.example.com/acme/iris/actions/runs/9001",
		Workflow:   "model review",
		Job:        "review",
		Attempt:    2,
		ServerURL:  "https://github.example.com",
		APIURL:     "https://github.example.com/api/v3",
		Actor:      "octocat",
	}
	runWith := func(mod func(*Run)) Run {
		r := common
		mod(&r)
		return r
	}
	tests := []struct {
		name string
		env  env
		want Run
	}{
		{
			name: "pull request",
			env: with("GITHUB_EVENT_NAME", "pull_request", "GITHUB_REF", "refs/pull/42/merge",
				"GITHUB_HEAD_REF", "feature", "GITHUB_REF_NAME", "42/merge", "GITHUB_EVENT_PATH", prEvent),
			want: runWith(func(r *Run) {
				r.EventName, r.Ref, r.Branch, r.PullRequest, r.DefaultBranch = "pull_request", "refs/pull/42/merge", "feature", 42, "main"
			}),
		},
		{
			name: "push",
			env: with("GITHUB_EVENT_NAME", "push", "GITHUB_REF", "refs/heads/main",
				"GITHUB_REF_NAME", "main", "GITHUB_EVENT_PATH", pushEvent),
			want: runWith(func(r *Run) {
				r.EventName, r.Ref, r.Branch, r.DefaultBranch = "push", "refs/heads/main", "main", "trunk"
			}),
		},
		{
			name: "missing event file falls back to the ref",
			env: with("GITHUB_EVENT_NAME", "pull_request", "GITHUB_REF", "refs/pull/7/merge",
				"GITHUB_HEAD_REF", "fix", "GITHUB_EVENT_PATH", filepath.Join(dir, "absent.json")),
			want: runWith(func(r *Run) {
				r.EventName, r.Ref, r.Branch, r.PullRequest = "pull_request", "refs/pull/7/merge", "fix", 7
			}),
		},
		{
			name: "malformed event file",
			env:  with("GITHUB_REF", "refs/heads/x", "GITHUB_REF_NAME", "x", "GITHUB_EVENT_PATH", malformed),
			want: runWith(func(r *Run) { r.Ref, r.Branch = "refs/heads/x", "x" }),
		},
		{
			name: "wrong types in the event",
			env:  with("GITHUB_REF", "refs/heads/x", "GITHUB_REF_NAME", "x", "GITHUB_EVENT_PATH", wrongType),
			want: runWith(func(r *Run) { r.Ref, r.Branch = "refs/heads/x", "x" }),
		},
		{
			name: "event over the size bound is ignored",
			env:  with("GITHUB_REF", "refs/heads/x", "GITHUB_REF_NAME", "x", "GITHUB_EVENT_PATH", huge),
			want: runWith(func(r *Run) { r.Ref, r.Branch = "refs/heads/x", "x" }),
		},
		{
			name: "bad attempt number",
			env:  with("GITHUB_RUN_ATTEMPT", "two"),
			want: runWith(func(r *Run) { r.Attempt = 0 }),
		},
		{
			name: "defaults for github.com",
			env:  env{"GITHUB_REPOSITORY": "acme/iris", "GITHUB_RUN_ID": "1"},
			want: Run{
				Provider: "github-actions", Repository: "acme/iris", RunID: "1",
				RunURL:    "https://github.com/acme/iris/actions/runs/1",
				ServerURL: "https://github.com", APIURL: "https://api.github.com",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := NewGitHub(WithGetenv(tt.env.get), WithWriter(&bytes.Buffer{}), withEventLimit(1<<10))
			if diff := cmp.Diff(tt.want, g.Run()); diff != "" {
				t.Errorf("Run() (-want +got):\n%s", diff)
			}
		})
	}
}

// The runner learns a secret only from `::add-mask::<secret>`: masks must
// bypass podium's redactor, while everything else stays redacted.
func TestGitHubMaskBypassesRedactor(t *testing.T) {
	t.Parallel()
	secrets := &redact.Redactor{}
	secrets.Add("ghp_CANARY1234")
	tests := []struct {
		name string
		opts func(raw, log io.Writer) []Option
	}{
		{
			name: "redacting log stream is unwrapped",
			opts: func(raw, _ io.Writer) []Option {
				return []Option{WithWriter(secrets.Writer(raw))}
			},
		},
		{
			name: "explicit mask writer",
			opts: func(raw, log io.Writer) []Option {
				return []Option{WithWriter(log), WithMaskWriter(raw)}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var raw, log bytes.Buffer
			g := NewGitHub(append([]Option{WithGetenv(env{}.get)}, tt.opts(&raw, secrets.Writer(&log))...)...)
			g.Mask("ghp_CANARY1234")
			g.Annotate(Annotation{Level: LevelError, Message: "token ghp_CANARY1234 rejected"})
			all := raw.String() + log.String()
			if got, want := strings.Count(all, "ghp_CANARY1234"), 1; got != want {
				t.Errorf("secret appears %d times, want %d (the mask only): %q", got, want, all)
			}
			if !strings.HasPrefix(raw.String(), "::add-mask::ghp_CANARY1234\n") {
				t.Errorf("raw stream = %q, want it to start with the real mask", raw.String())
			}
			if !strings.Contains(all, "::error::token *** rejected\n") {
				t.Errorf("annotation not redacted: %q", all)
			}
		})
	}
}
