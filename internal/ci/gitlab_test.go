package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestGitLab(t *testing.T, extra env) (*GitLab, string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	e := env{"GITLAB_CI": "true", "CI_PROJECT_DIR": dir}
	for k, v := range extra {
		e[k] = v
	}
	var log bytes.Buffer
	clock := func() time.Time { return time.Unix(1700000000, 0) }
	return NewGitLab(WithGetenv(e.get), WithWriter(&log), WithClock(clock)), dir, &log
}

func TestGitLabDotenvParsesBack(t *testing.T) {
	t.Parallel()
	g, dir, _ := newTestGitLab(t, nil)
	outputs := []struct{ name, value string }{
		{"decision", "promote"},
		{"run-dir", ".podium/run"},
		{"report_url", "https://gitlab.example.com/g/p/-/merge_requests/3#note_1?a=b&c=d"},
		{"empty", ""},
		{"equals", "a=b=c"},
		{"commands", "::add-mask::x # not a comment"},
		{"quotes", `"quoted" 'single'`},
		{"decision", "reject"}, // replaces the first value in place
	}
	for _, o := range outputs {
		if err := g.SetOutput(o.name, o.value); err != nil {
			t.Fatalf("SetOutput(%q): %v", o.name, err)
		}
	}
	data := readFile(t, filepath.Join(dir, "podium.env"))
	got, err := ParseDotenv(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PODIUM_OUT_DECISION":   "reject",
		"PODIUM_OUT_RUN_DIR":    ".podium/run",
		"PODIUM_OUT_REPORT_URL": "https://gitlab.example.com/g/p/-/merge_requests/3#note_1?a=b&c=d",
		"PODIUM_OUT_EMPTY":      "",
		"PODIUM_OUT_EQUALS":     "a=b=c",
		"PODIUM_OUT_COMMANDS":   "::add-mask::x # not a comment",
		"PODIUM_OUT_QUOTES":     `"quoted" 'single'`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed dotenv (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(data, "PODIUM_OUT_DECISION=reject\n") {
		t.Errorf("a replaced value moved: %q", data)
	}
}

func TestGitLabDotenvPath(t *testing.T) {
	t.Parallel()
	abs := filepath.Join(t.TempDir(), "out", "vars.env")
	tests := []struct {
		name, setting, want string
	}{
		{name: "relative to the project dir", setting: "build/podium.env", want: "build/podium.env"},
		{name: "absolute", setting: abs, want: abs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, dir, _ := newTestGitLab(t, env{"PODIUM_DOTENV": tt.setting})
			if err := g.SetOutput("decision", "promote"); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if got := readFile(t, want); got != "PODIUM_OUT_DECISION=promote\n" {
				t.Errorf("%s holds %q", want, got)
			}
		})
	}
}

func TestGitLabSetOutputRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, output, value, wantErr string
	}{
		{
			name: "newline", output: "report", value: "a\nPODIUM_DECISION=promote",
			wantErr: `failed to set output "report": a GitLab dotenv value cannot hold a newline, carriage return or NUL byte`,
		},
		{
			name: "carriage return", output: "report", value: "a\rb",
			wantErr: `failed to set output "report": a GitLab dotenv value cannot hold a newline, carriage return or NUL byte`,
		},
		{
			name: "NUL", output: "report", value: "a\x00b",
			wantErr: `failed to set output "report": a GitLab dotenv value cannot hold a newline, carriage return or NUL byte`,
		},
		{
			name: "surrounding whitespace", output: "report", value: " a ",
			wantErr: `failed to set output "report": GitLab strips leading and trailing whitespace from dotenv values`,
		},
		{
			name: "bad name", output: "a=b", value: "c",
			wantErr: `failed to set output "a=b": invalid output name "a=b": use letters, digits, '_' and '-', starting with a letter or '_'`,
		},
		{
			name: "too large", output: "big", value: strings.Repeat("x", maxDotenvBytes),
			wantErr: `failed to set output "big": podium.env would exceed GitLab's dotenv size limit of 5120 bytes`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A relative PODIUM_DOTENV without CI_PROJECT_DIR keeps the
			// message's path short; the refusal happens before any write.
			g := NewGitLab(WithGetenv(env{"PODIUM_DOTENV": "podium.env"}.get), WithWriter(&bytes.Buffer{}))
			err := g.SetOutput(tt.output, tt.value)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("SetOutput() error = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

func TestGitLabDotenvVariableLimit(t *testing.T) {
	t.Parallel()
	g, dir, _ := newTestGitLab(t, nil)
	for i := range maxDotenvVariables {
		if err := g.SetOutput("v"+string(rune('a'+i)), "1"); err != nil {
			t.Fatal(err)
		}
	}
	err := g.SetOutput("one_more", "1")
	want := `failed to set output "one_more": ` + filepath.Join(dir, "podium.env") + ` would hold more than GitLab's 20 dotenv variables`
	if err == nil || err.Error() != want {
		t.Fatalf("SetOutput() error = %v, want %s", err, want)
	}
	// Replacing an existing variable is still allowed.
	if err := g.SetOutput("va", "2"); err != nil {
		t.Fatal(err)
	}
}

func TestParseDotenv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string
		wantErr  string
	}{
		{name: "stripped", in: " A = b c \n", want: map[string]string{"A": "b c"}},
		{name: "first equals splits", in: "A=b=c\n", want: map[string]string{"A": "b=c"}},
		{name: "blank line", in: "A=1\n\nB=2\n", wantErr: "line 2: invalid format"},
		{name: "comment", in: "# c\n", wantErr: "line 1: invalid format"},
		{name: "bad key", in: "A-B=1\n", wantErr: `line 1: invalid key "A-B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDotenv(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseDotenv() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDotenv() (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzWriteDotenv(f *testing.F) {
	f.Add("decision", "promote", "url", "https://x/y?a=b")
	f.Add("a", "b\nPODIUM_X=1", "a", " ")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		dir := t.TempDir()
		g := NewGitLab(WithGetenv(env{"CI_PROJECT_DIR": dir}.get), WithWriter(&bytes.Buffer{}))
		want := map[string]string{}
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}} {
			if err := g.SetOutput(kv[0], kv[1]); err == nil {
				want[DotenvName(kv[0])] = kv[1]
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, "podium.env"))
		if os.IsNotExist(err) && len(want) == 0 {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDotenv(string(data))
		if err != nil {
			t.Fatalf("GitLab could not parse what was written: %v\n%q", err, data)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parsed dotenv (-want +got):\n%s", diff)
		}
	})
}

func TestGitLabSummary(t *testing.T) {
	t.Parallel()
	g, dir, _ := newTestGitLab(t, nil)
	for _, md := range []string{"## podium", "| a | b |\n"} {
		if err := g.AppendSummary(md); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, filepath.Join(dir, "podium-summary.md")); got != "## podium\n| a | b |\n" {
		t.Errorf("summary = %q", got)
	}
}

func TestGitLabGroup(t *testing.T) {
	t.Parallel()
	g, _, log := newTestGitLab(t, nil)
	endTrain := g.Group("train\x1b[0Ksection_end:1:podium_1\r\nfake")
	endTrain()
	endTrain()
	g.Group("evaluate")()
	want := "\x1b[0Ksection_start:1700000000:podium_1[collapsed=true]\r\x1b[0K" + "train[0Ksection_end:1:podium_1 fake\n" +
		"\x1b[0Ksection_end:1700000000:podium_1\r\x1b[0K\n" +
		"\x1b[0Ksection_start:1700000000:podium_2[collapsed=true]\r\x1b[0Kevaluate\n" +
		"\x1b[0Ksection_end:1700000000:podium_2\r\x1b[0K\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestGitLabAnnotate(t *testing.T) {
	t.Parallel()
	g, _, log := newTestGitLab(t, nil)
	g.Annotate(Annotation{Level: LevelError, File: "podium.yaml", Line: 3, Col: 5, Title: "spec", Message: "bad\nsecond line"})
	g.Annotate(Annotation{Level: LevelWarning, Message: "champion read from the PR"})
	want := "podium.yaml:3:5: error: spec: bad\n    second line\nwarning: champion read from the PR\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestGitLabInputAndMask(t *testing.T) {
	t.Parallel()
	g, _, log := newTestGitLab(t, env{"PODIUM_RUN_DIR": " run ", "PODIUM_FAIL_ON_REJECT": "true"})
	if got := g.Input("run_dir"); got != "run" {
		t.Errorf("Input(run_dir) = %q", got)
	}
	if got := g.Input("fail-on-reject"); got != "true" {
		t.Errorf("Input(fail-on-reject) = %q", got)
	}
	g.Mask("glpat-CANARY")
	if log.Len() != 0 {
		t.Errorf("Mask printed %q", log.String())
	}
}

func TestGitLabRun(t *testing.T) {
	t.Parallel()
	common := env{
		"CI_COMMIT_SHA":      "0123456789abcdef0123456789abcdef01234567",
		"CI_DEFAULT_BRANCH":  "main",
		"CI_PROJECT_PATH":    "acme/ml/iris",
		"CI_PROJECT_ID":      "77",
		"CI_PIPELINE_ID":     "1234",
		"CI_PIPELINE_URL":    "https://gitlab.example.com/acme/ml/iris/-/pipelines/1234",
		"CI_JOB_URL":         "https://gitlab.example.com/acme/ml/iris/-/jobs/99",
		"CI_JOB_NAME":        "podium-compare",
		"CI_SERVER_URL":      "https://gitlab.example.com",
		"CI_API_V4_URL":      "https://gitlab.example.com/api/v4",
		"GITLAB_USER_LOGIN":  "alice",
		"CI_COMMIT_REF_NAME": "feature",
	}
	with := func(kv ...string) env {
		e := env{}
		for k, v := range common {
			e[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	base := Run{
		Provider:      "gitlab-ci",
		Commit:        "0123456789abcdef0123456789abcdef01234567",
		DefaultBranch: "main",
		Repository:    "acme/ml/iris",
		ProjectID:     "77",
		RunID:         "1234",
		RunURL:        "https://gitlab.example.com/acme/ml/iris/-/jobs/99",
		Job:           "podium-compare",
		ServerURL:     "https://gitlab.example.com",
		APIURL:        "https://gitlab.example.com/api/v4",
		Actor:         "alice",
	}
	runWith := func(mod func(*Run)) Run {
		r := base
		mod(&r)
		return r
	}
	tests := []struct {
		name string
		env  env
		want Run
	}{
		{
			name: "merge request",
			env: with("CI_PIPELINE_SOURCE", "merge_request_event", "CI_MERGE_REQUEST_IID", "3",
				"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature"),
			want: runWith(func(r *Run) {
				r.EventName, r.PullRequest, r.Ref, r.Branch = "merge_request_event", 3, "refs/merge-requests/3/head", "feature"
			}),
		},
		{
			name: "branch push",
			env:  with("CI_PIPELINE_SOURCE", "push"),
			want: runWith(func(r *Run) { r.EventName, r.Ref, r.Branch = "push", "refs/heads/feature", "feature" }),
		},
		{
			name: "tag",
			env:  with("CI_PIPELINE_SOURCE", "push", "CI_COMMIT_TAG", "v1.0.0", "CI_COMMIT_REF_NAME", "v1.0.0"),
			want: runWith(func(r *Run) { r.EventName, r.Ref = "push", "refs/tags/v1.0.0" }),
		},
		{
			name: "pipeline url when there is no job url",
			env:  with("CI_JOB_URL", "", "CI_API_V4_URL", "", "CI_PIPELINE_SOURCE", "schedule"),
			want: runWith(func(r *Run) {
				r.EventName, r.Ref, r.Branch = "schedule", "refs/heads/feature", "feature"
				r.RunURL = "https://gitlab.example.com/acme/ml/iris/-/pipelines/1234"
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := NewGitLab(WithGetenv(tt.env.get), WithWriter(&bytes.Buffer{}))
			if diff := cmp.Diff(tt.want, g.Run()); diff != "" {
				t.Errorf("Run() (-want +got):\n%s", diff)
			}
		})
	}
}

// A later job sees an earlier job's outputs as variables: no output may
// read back as an input of the same name (compare's `report` output must
// not become the next compare's --report).
func TestGitLabOutputsAreNotInputs(t *testing.T) {
	t.Parallel()
	g, dir, _ := newTestGitLab(t, nil)
	names := []string{"decision", "report", "run-dir", "ref", "pr-url", "retrain"}
	for _, n := range names {
		if err := g.SetOutput(n, "from-an-earlier-job"); err != nil {
			t.Fatal(err)
		}
	}
	vars, err := ParseDotenv(readFile(t, filepath.Join(dir, "podium.env")))
	if err != nil {
		t.Fatal(err)
	}
	later := NewGitLab(WithGetenv(env(vars).get), WithWriter(&bytes.Buffer{}))
	for _, n := range names {
		if got := later.Input(n); got != "" {
			t.Errorf("output %q reads back as input %q = %q", n, n, got)
		}
	}
	if got := vars["PODIUM_OUT_PR_URL"]; got != "from-an-earlier-job" {
		t.Errorf("PODIUM_OUT_PR_URL = %q (dotenv: %v)", got, vars)
	}
}
