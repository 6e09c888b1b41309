package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
)

// commentHost is a code host that keeps one comment per marker, as the
// real backends' UpsertComment does. Other methods fail the test.
type commentHost struct {
	scm.Host // nil: any other call panics
	t        *testing.T
	comments map[string]string // marker → body
	numbers  []int
	err      error
}

func (h *commentHost) UpsertComment(ctx context.Context, number int, marker, body string) (*scm.Comment, error) {
	if h.err != nil {
		return nil, h.err
	}
	h.numbers = append(h.numbers, number)
	_, existed := h.comments[marker]
	h.comments[marker] = body
	return &scm.Comment{ID: 1, URL: "https://github.example/acme/iris/pull/7#issuecomment-1", Created: !existed}, nil
}

// reportRunDir makes a run directory with run.json and compare.json in a
// repository whose origin/main holds the champion.
func reportRunDir(t *testing.T, warnings int) (specPath, runDir string) {
	t.Helper()
	up, dataDigest := prUpstream(t)
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--branch", "pr", up, ".")
	runDir = writeRun(t, clone, map[string]float64{"accuracy": 0.931, "accuracy_by_location.seattle": 0.95}, dataDigest)
	specPath = filepath.Join(clone, "podium.yaml")
	f, io := platformFactory(t, &citest.Platform{})
	if code := runCLI(t, f, "compare", "--spec", specPath, "--run-dir", runDir); code != ExitOK {
		t.Fatalf("compare: exit %d\n%s", code, io.Err)
	}
	if warnings > 0 {
		doc, err := rundir.ReadCompare(runDir)
		if err != nil {
			t.Fatal(err)
		}
		for range warnings {
			doc.Warnings = append(doc.Warnings, strings.Repeat("a long warning @octocat | ", 100))
		}
		if err := rundir.WriteCompare(runDir, doc); err != nil {
			t.Fatal(err)
		}
	}
	return specPath, runDir
}

func TestReportPrintsAndWrites(t *testing.T) {
	gittest.SetEnv(t)
	specPath, runDir := reportRunDir(t, 0)

	platform := &citest.Platform{}
	f, io := platformFactory(t, platform)
	if code := runCLI(t, f, "report", "--spec", specPath, "--run-dir", runDir); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, io.Err)
	}
	md := io.Out.String()
	for _, want := range []string{
		"<!-- podium:report model=iris-classifier -->\n### ✅ promote `iris-classifier`\n\nBoth checks pass against champion `v2` (read from `origin/main`).\n",
		"| `accuracy` | 0.925 | 0.931 | +0.006 | higher · ≥ 0.9 · Δ ≥ +0.005 | ✅ pass |\n",
		"    x-axis [\"v1\", \"v2\", \"candidate\"]\n    y-axis \"accuracy\"\n    line [0.91, 0.925, 0.931]\n",
		"| evaluation data | `data/test.csv` | `sha256:",
		"| promote v2 | 0.925 |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if diff := cmp.Diff(map[string]string{"decision": "promote"}, platform.Outputs()); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}

	out := filepath.Join(t.TempDir(), "r.md")
	f2, io2 := platformFactory(t, platform)
	if code := runCLI(t, f2, "report", "--spec", specPath, "--run-dir", runDir, "--out", out); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, io2.Err)
	}
	written, err := os.ReadFile(out)
	if err != nil || string(written) != md {
		t.Errorf("--out wrote a different report (%v)", err)
	}
	if io2.Out.Len() != 0 || platform.Outputs()["report"] != out {
		t.Errorf("stdout = %q, outputs = %v", io2.Out, platform.Outputs())
	}
}

func TestReportComment(t *testing.T) {
	gittest.SetEnv(t)
	specPath, runDir := reportRunDir(t, 40) // ~100k characters of warnings
	marker := report.Marker("iris-classifier")

	tests := []struct {
		name     string
		run      ci.Run
		args     []string
		hostErr  error
		wantCode int
		wantPR   int
		wantErr  string
	}{
		{name: "PR from the CI job", run: ci.Run{PullRequest: 7, RunURL: "https://github.example/acme/iris/actions/runs/1"}, wantCode: ExitOK, wantPR: 7},
		{name: "--pr overrides", run: ci.Run{PullRequest: 7}, args: []string{"--pr", "9"}, wantCode: ExitOK, wantPR: 9},
		{name: "no PR", wantCode: ExitInvalid, wantErr: "--comment needs a pull request: run in a pull request or merge request job, or pass --pr\nRun 'podium report --help' for usage."},
		{name: "host fails", run: ci.Run{PullRequest: 7}, hostErr: errors.New("403 Resource not accessible by integration"), wantCode: ExitFailure,
			wantErr: "failed to comment on pull request 7: 403 Resource not accessible by integration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := &commentHost{t: t, comments: map[string]string{}, err: tt.hostErr}
			platform := &citest.Platform{RunInfo: tt.run}
			f, io := platformFactory(t, platform)
			hostBuilds := 0
			f.Host = func(ctx context.Context) (scm.Host, error) {
				hostBuilds++
				return host, nil
			}
			args := append([]string{"report", "--spec", specPath, "--run-dir", runDir, "--comment"}, tt.args...)
			code := runCLI(t, f, args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.wantCode, io.Err)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want %q", io.Err, tt.wantErr)
			}
			if tt.wantCode != ExitOK {
				return
			}
			if diff := cmp.Diff([]int{tt.wantPR}, host.numbers); diff != "" {
				t.Errorf("commented on (-want +got):\n%s", diff)
			}
			body := host.comments[marker]
			if n := utf8.RuneCountInString(body); n > report.MaxCommentLength || n < report.MaxCommentLength-1000 {
				t.Errorf("comment has %d characters, want just under %d", n, report.MaxCommentLength)
			}
			if !strings.HasPrefix(body, marker+"\n") || !strings.Contains(body, "cut to fit") {
				t.Errorf("comment = %.200s … %s", body, body[max(len(body)-300, 0):])
			}
			if tt.run.RunURL != "" && !strings.Contains(body, "[Read the full report]("+tt.run.RunURL+")") {
				t.Errorf("the comment does not link the full report")
			}
			if got := strings.TrimSpace(io.Out.String()); got != "https://github.example/acme/iris/pull/7#issuecomment-1" {
				t.Errorf("stdout = %q, want the comment URL", got)
			}
			if platform.Outputs()["comment-url"] == "" || hostBuilds != 1 {
				t.Errorf("outputs = %v, host built %d times", platform.Outputs(), hostBuilds)
			}
		})
	}
}

func TestReportRejectsWrongRunDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "podium.yaml")
	if err := os.WriteFile(specPath, []byte(compareSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	f, io := platformFactory(t, &citest.Platform{})
	code := runCLI(t, f, "report", "--spec", specPath, "--run-dir", dir)
	want := filepath.Join(dir, "compare.json") + ": no such file (run podium compare --run-dir " + dir + " first)"
	if code != ExitInvalid || !strings.Contains(io.Err.String(), want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, io.Err, want)
	}
}

func TestRegistryCommands(t *testing.T) {
	gittest.SetEnv(t)
	up, _ := prUpstream(t)
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--depth=1", "--branch", "pr", "file://"+up, ".")
	specPath := filepath.Join(clone, "podium.yaml")

	run := func(args ...string) (int, testIO) {
		f, io := platformFactory(t, &citest.Platform{RunInfo: ci.Run{DefaultBranch: "main"}})
		return runCLI(t, f, append(args, "--spec", specPath)...), io
	}

	code, io := run("registry", "show")
	if code != ExitOK || !strings.HasPrefix(io.Out.String(), "iris-classifier: champion v2 (from origin/main)\n") {
		t.Errorf("show: exit %d\n%s%s", code, io.Out, io.Err)
	}
	// Names and values each in a column, across files and metrics.
	for _, line := range []string{
		"evaluation data  data/test.csv                 sha256:",
		"metric           accuracy                      0.925\n",
		"metric           accuracy_by_location.seattle  0.93\n",
	} {
		if !strings.Contains(io.Out.String(), line) {
			t.Errorf("show lacks %q:\n%s", line, io.Out)
		}
	}

	code, io = run("registry", "show", "--json")
	var shown registryShowResult
	if err := json.Unmarshal(io.Out.Bytes(), &shown); err != nil || code != ExitOK {
		t.Fatalf("show --json: exit %d, %v\n%s", code, err, io.Out)
	}
	if shown.Champion == nil || shown.Champion.Version != "v2" || shown.Source != "origin/main" || shown.Path != ".podium/registry/iris-classifier.json" {
		t.Errorf("show --json = %+v", shown)
	}

	code, io = run("registry", "show", "--model", "other")
	if code != ExitOK || io.Out.String() != "other has no champion yet (no .podium/registry/other.json on origin/main)\n" {
		t.Errorf("show other: exit %d, %q", code, io.Out)
	}

	code, io = run("registry", "show", "--model", "../etc/passwd")
	if code != ExitInvalid {
		t.Errorf("show with a path as model: exit %d", code)
	}

	// The shallow fetch holds one commit of main: history shows it alone.
	code, io = run("registry", "history", "--json")
	var hist registryHistoryResult
	if err := json.Unmarshal(io.Out.Bytes(), &hist); err != nil || code != ExitOK {
		t.Fatalf("history --json: exit %d, %v\n%s", code, err, io.Out)
	}
	if len(hist.Entries) != 1 || hist.Entries[0].Pointer.Version != "v2" || hist.Entries[0].Subject != "promote v2" {
		t.Errorf("history = %+v", hist.Entries)
	}

	// A full clone has the whole history.
	full := t.TempDir()
	gittest.Git(t, full, "clone", "-q", up, ".")
	f, io := platformFactory(t, &citest.Platform{})
	code = runCLI(t, f, "registry", "history", "--spec", filepath.Join(full, "podium.yaml"))
	lines := strings.Split(strings.TrimSpace(io.Out.String()), "\n")
	if code != ExitOK || len(lines) != 3 || !strings.HasPrefix(lines[0], "DATE") ||
		!strings.Contains(lines[1], "v2       promote v2") || !strings.Contains(lines[2], "v1       promote v1") {
		t.Errorf("history: exit %d\n%s", code, io.Out)
	}

	code, io = run("registry", "history", "--limit", "-1")
	if code != ExitInvalid || !strings.Contains(io.Err.String(), "invalid --limit -1") {
		t.Errorf("history --limit -1: exit %d, %s", code, io.Err)
	}
}

// TestReportRefusesForgedCompare: a decision that is not promote or reject,
// or one its checks do not support, sets no output and posts nothing.
func TestReportRefusesForgedCompare(t *testing.T) {
	gittest.SetEnv(t)
	specPath, runDir := reportRunDir(t, 0)
	file := filepath.Join(runDir, rundir.CompareFile)
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		old     string
		new     string
		wantErr string
	}{
		{
			name:    "workflow command in the decision",
			old:     `"decision": "promote"`,
			new:     `"decision": "maybe\n::error::spoofed"`,
			wantErr: file + `: /decision: value must be one of "promote", "reject", "unchanged", "unverified" [schema]`,
		},
		{
			name:    "promote with a failed check",
			old:     `"passed": true`,
			new:     `"passed": false`,
			wantErr: file + ": decision: promote, but checks[0] (accuracy) did not pass: the decision is promote only when every check passes [compare]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forged := strings.Replace(string(orig), tt.old, tt.new, 1)
			if forged == string(orig) {
				t.Fatalf("compare.json lacks %s", tt.old)
			}
			if err := os.WriteFile(file, []byte(forged), 0o644); err != nil {
				t.Fatal(err)
			}
			platform := &citest.Platform{RunInfo: ci.Run{PullRequest: 7}}
			f, io := platformFactory(t, platform)
			f.Host = func(ctx context.Context) (scm.Host, error) {
				t.Error("the host was built for a forged compare.json")
				return nil, errors.New("no host")
			}
			code := runCLI(t, f, "report", "--spec", specPath, "--run-dir", runDir, "--comment")
			if code != ExitInvalid || strings.TrimSpace(io.Err.String()) != tt.wantErr {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and:\n%s", code, io.Err, tt.wantErr)
			}
			if len(platform.Outputs()) != 0 || io.Out.Len() != 0 {
				t.Errorf("outputs %v, stdout %q", platform.Outputs(), io.Out)
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	gittest.SetEnv(t)
	specPath, runDir := reportRunDir(t, 0)

	f, io := platformFactory(t, &citest.Platform{})
	if code := runCLI(t, f, "report", "--spec", specPath, "--run-dir", runDir); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, io.Err)
	}
	md := io.Out.String()

	out := filepath.Join(t.TempDir(), "r.md")
	url := "https://github.example/acme/iris/pull/7#issuecomment-1"
	tests := []struct {
		name string
		args []string
		want reportResult
	}{
		{
			name: "printed",
			want: reportResult{SchemaVersion: 1, Model: "iris-classifier", Decision: "promote", Markdown: md},
		},
		{
			name: "--out and --comment",
			args: []string{"--out", out, "--comment", "--pr", "7"},
			want: reportResult{SchemaVersion: 1, Model: "iris-classifier", Decision: "promote", Report: &out, CommentURL: &url, Markdown: md},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, io := platformFactory(t, &citest.Platform{})
			host := &commentHost{t: t, comments: map[string]string{}}
			f.Host = func(ctx context.Context) (scm.Host, error) { return host, nil }
			args := append([]string{"report", "--spec", specPath, "--run-dir", runDir, "--json"}, tt.args...)
			if code := runCLI(t, f, args...); code != ExitOK {
				t.Fatalf("exit %d\n%s", code, io.Err)
			}
			dec := json.NewDecoder(io.Out)
			dec.DisallowUnknownFields()
			var got reportResult
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not a report document: %v\n%s", err, io.Out)
			}
			if dec.More() {
				t.Errorf("stdout holds more than one document")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("report --json (-want +got):\n%s", diff)
			}
		})
	}
}
