package cli

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/schemas"
)

const compareSpec = `version: 1
model: iris-classifier
evaluation_data: [data/test.csv]
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.9, min_delta: 0.005}
    - {metric: "accuracy_by_location.*", direction: higher, tolerance: 0.01}
`

const (
	testData     = "date,weather\n2015-01-01,sun\n"
	testCommitID = "0123456789abcdef0123456789abcdef01234567"
)

func championPointer(t *testing.T, version string, accuracy float64, dataDigest string) string {
	t.Helper()
	data, err := registry.Marshal(&registry.Pointer{
		Model: "iris-classifier", Version: version,
		Metrics:        map[string]float64{"accuracy": accuracy, "accuracy_by_location.seattle": 0.93},
		EvaluationData: map[string]string{"data/test.csv": dataDigest},
		Commit:         testCommitID,
		PromotedAt:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// writeRun writes a run directory whose evaluate step read data/test.csv
// with dataDigest.
func writeRun(t *testing.T, dir string, metrics map[string]float64, dataDigest string) string {
	t.Helper()
	runDir := filepath.Join(dir, "run")
	err := rundir.WriteRun(runDir, &rundir.Run{
		Model: "iris-classifier", SpecDigest: fingerprint.Bytes([]byte(compareSpec)), Commit: testCommitID, Params: map[string]any{"seed": 42.0},
		Steps: []rundir.Step{{Name: "evaluate", Status: rundir.StatusOK, DurationS: 1.5,
			Inputs: map[string]string{"data/test.csv": dataDigest}, Outputs: map[string]string{"metrics.json": fingerprint.Bytes([]byte("{}"))}}},
		Metrics: metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	return runDir
}

// prUpstream is the repository CI clones: champion v2 (accuracy 0.925) on
// main, and a PR branch that rewrites the pointer to a champion so weak
// that any candidate would win.
func prUpstream(t *testing.T) (dir, dataDigest string) {
	t.Helper()
	up := gittest.Init(t)
	dataDigest = fingerprint.Bytes([]byte(testData))
	gittest.WriteFile(t, up, "podium.yaml", compareSpec)
	gittest.WriteFile(t, up, "data/test.csv", testData)
	gittest.WriteFile(t, up, ".podium/registry/iris-classifier.json", championPointer(t, "v1", 0.91, dataDigest))
	gittest.Commit(t, up, "promote v1")
	gittest.WriteFile(t, up, ".podium/registry/iris-classifier.json", championPointer(t, "v2", 0.925, dataDigest))
	gittest.Commit(t, up, "promote v2")
	gittest.Git(t, up, "checkout", "-q", "-b", "pr")
	gittest.WriteFile(t, up, ".podium/registry/iris-classifier.json", championPointer(t, "pr-edit", 0.1, dataDigest))
	gittest.Commit(t, up, "make my model the best")
	gittest.Git(t, up, "checkout", "-q", "main")
	return up, dataDigest
}

func platformFactory(t *testing.T, p *citest.Platform) (*Factory, testIO) {
	t.Helper()
	f, io := newTestFactory(t, nil)
	f.Platform = func() ci.Platform { return p }
	return f, io
}

// TestCompareReadsChampionFromDefaultBranch is the CI case: a shallow
// clone of the PR branch (as actions/checkout makes) has no origin/main,
// and its own pointer file says the champion is weak. compare must fetch
// main and reject the candidate against the real champion.
func TestCompareReadsChampionFromDefaultBranch(t *testing.T) {
	gittest.SetEnv(t)
	up, dataDigest := prUpstream(t)
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--depth=1", "--branch", "pr", "file://"+up, ".")
	if refs := gittest.Git(t, clone, "for-each-ref", "refs/remotes/origin/main"); refs != "" {
		t.Fatalf("the clone already has origin/main: %s", refs)
	}
	runDir := writeRun(t, clone, map[string]float64{"accuracy": 0.927, "accuracy_by_location.seattle": 0.95}, dataDigest)

	for _, tc := range []struct {
		name          string
		defaultBranch string
		args          []string
		wantCode      int
	}{
		{name: "default branch from the platform", defaultBranch: "main", wantCode: ExitOK},
		{name: "default branch guessed", args: []string{"--fail-on-reject"}, wantCode: ExitRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			platform := &citest.Platform{RunInfo: ci.Run{DefaultBranch: tc.defaultBranch, Branch: "pr", PullRequest: 7}}
			f, io := platformFactory(t, platform)
			args := append([]string{"compare", "--spec", filepath.Join(clone, "podium.yaml"), "--run-dir", runDir, "--json"}, tc.args...)
			if code := runCLI(t, f, args...); code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, io.Out, io.Err)
			}
			var doc rundir.Compare
			if err := json.Unmarshal(io.Out.Bytes(), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, io.Out)
			}
			if doc.Decision != gate.Reject || doc.Champion == nil || doc.Champion.Version != "v2" {
				t.Fatalf("decision %q against %+v, want reject against v2 from origin/main", doc.Decision, doc.Champion)
			}
			if !doc.Comparable || len(doc.Warnings) != 0 {
				t.Errorf("comparable = %v, warnings = %q", doc.Comparable, doc.Warnings)
			}
			wantReasons := []string{
				"accuracy 0.927 < champion 0.925 + 0.005",
				"accuracy_by_location.seattle 0.95 ≥ champion 0.93 - 0.01",
			}
			var reasons []string
			for _, c := range doc.Checks {
				reasons = append(reasons, c.Reason)
			}
			if diff := cmp.Diff(wantReasons, reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			written, err := os.ReadFile(filepath.Join(runDir, rundir.CompareFile))
			if err != nil || string(written) != io.Out.String() {
				t.Errorf("compare.json differs from --json output:\n%s\nvs\n%s (%v)", written, io.Out, err)
			}
			reportPath := filepath.Join(runDir, "report.md")
			wantOutputs := map[string]string{"decision": "reject", "report": reportPath}
			if diff := cmp.Diff(wantOutputs, platform.Outputs()); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
			md, err := os.ReadFile(reportPath)
			if err != nil || !strings.HasPrefix(string(md), "<!-- podium:report model=iris-classifier -->\n### ❌ reject") {
				t.Errorf("report.md = %.200s (%v)", md, err)
			}
			if platform.Summary() != string(md) {
				t.Error("the step summary is not the report")
			}
		})
	}
	if out := gittest.Git(t, clone, "rev-parse", "--is-shallow-repository"); out != "true" {
		t.Errorf("the clone was deepened: %s", out)
	}
}

// TestCompareFallsBackToWorkingTreeLoudly: without a default branch to
// read, the champion comes from the working tree, which the change can
// edit. A passing candidate is then unverified, not promoted, unless
// --allow-local-champion says the working tree is trusted.
func TestCompareFallsBackToWorkingTreeLoudly(t *testing.T) {
	gittest.SetEnv(t)
	dir := gittest.Init(t)
	dataDigest := fingerprint.Bytes([]byte(testData))
	gittest.WriteFile(t, dir, "podium.yaml", compareSpec)
	gittest.WriteFile(t, dir, "data/test.csv", testData)
	gittest.WriteFile(t, dir, ".podium/registry/iris-classifier.json", championPointer(t, "local", 0.9, dataDigest))
	const loud = "THE CHAMPION WAS READ FROM THE WORKING TREE"
	const unverified = "not promoted: the champion was read from the working tree"
	for _, tc := range []struct {
		name         string
		args         []string
		wantCode     int
		wantDecision string
		wantWarnings int
	}{
		{name: "unverified by default", wantCode: ExitOK, wantDecision: gate.Unverified, wantWarnings: 2},
		{name: "unverified is not a pass for --fail-on-reject", args: []string{"--fail-on-reject"}, wantCode: ExitRejected, wantDecision: gate.Unverified, wantWarnings: 2},
		{name: "--allow-local-champion promotes", args: []string{"--allow-local-champion", "--fail-on-reject"}, wantCode: ExitOK, wantDecision: gate.Promote, wantWarnings: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runDir := writeRun(t, t.TempDir(), map[string]float64{"accuracy": 0.95, "accuracy_by_location.seattle": 0.95}, dataDigest)
			platform := &citest.Platform{}
			f, io := platformFactory(t, platform)
			code := runCLI(t, f, append([]string{"compare", "--spec", filepath.Join(dir, "podium.yaml"), "--run-dir", runDir}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", code, tc.wantCode, io.Err)
			}
			doc, err := rundir.ReadCompare(runDir)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Decision != tc.wantDecision {
				t.Errorf("decision = %q, want %q", doc.Decision, tc.wantDecision)
			}
			if len(doc.Warnings) != tc.wantWarnings || !strings.HasPrefix(doc.Warnings[0], loud) ||
				tc.wantWarnings == 2 && !strings.HasPrefix(doc.Warnings[1], unverified) {
				t.Errorf("compare.json warnings = %q", doc.Warnings)
			}
			if got := platform.Outputs()["decision"]; got != tc.wantDecision {
				t.Errorf("decision output = %q, want %q", got, tc.wantDecision)
			}
			md, _ := os.ReadFile(filepath.Join(runDir, "report.md"))
			if !strings.Contains(string(md), "> [!WARNING]\n> - "+loud) {
				t.Errorf("the report does not carry the warning:\n%s", md)
			}
			if a := platform.Annotations(); len(a) != tc.wantWarnings || a[0].Level != ci.LevelWarning || !strings.HasPrefix(a[0].Message, loud) {
				t.Errorf("annotations = %+v", a)
			}
		})
	}
}

func TestCompareFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	specPath := write("podium.yaml", compareSpec)
	write("data/test.csv", testData)
	good := write("good.json", `{"accuracy": 0.930, "accuracy_by_location": {"seattle": 0.95}}`)
	weak := write("weak.json", `{"accuracy": 0.92, "accuracy_by_location": {"seattle": 0.95}}`)
	nan := write("nan.json", `{"accuracy": NaN, "accuracy_by_location": {"seattle": 0.95}}`)
	lacking := write("lacking.json", `{"acc": 0.95, "accuracy_by_location": {"seattle": 0.95}}`)
	textual := write("textual.json", `{"accuracy": "high", "accuracy_by_location": {"seattle": 0.95}}`)
	noSlices := write("noslices.json", `{"accuracy": 0.95}`)
	accOnly := write("acc-only.yaml", "accuracy: 0.9\n")
	plainChampion := write("champion-metrics.yaml", "accuracy: 0.925\naccuracy_by_location:\n  seattle: 0.97\n")
	pointer := write("pointer.json", championPointer(t, "v2", 0.925, fingerprint.Bytes([]byte(testData))))
	otherData := write("other.json", championPointer(t, "v2", 0.925, fingerprint.Bytes([]byte("other"))))

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{
			name:     "exactly min_delta better promotes",
			args:     []string{"--candidate", good, "--champion", pointer},
			wantCode: ExitOK,
			wantOut:  "promote iris-classifier (champion v2 from " + pointer + ")\n  ✓ accuracy 0.93 ≥ min 0.9 and ≥ champion 0.925 + 0.005\n  ✓ accuracy_by_location.seattle 0.95 ≥ champion 0.93 - 0.01\n",
		},
		{
			name:     "reject exits 0 without --fail-on-reject",
			args:     []string{"--candidate", weak, "--champion", pointer},
			wantCode: ExitOK,
			wantOut:  "reject iris-classifier",
		},
		{
			name:     "reject exits 3 with --fail-on-reject",
			args:     []string{"--candidate", weak, "--champion", pointer, "--fail-on-reject"},
			wantCode: ExitRejected,
			wantOut:  "  ✗ accuracy 0.92 < champion 0.925 + 0.005\n",
		},
		{
			name:     "plain metrics champion",
			args:     []string{"--candidate", good, "--champion", plainChampion, "--json"},
			wantCode: ExitOK,
			wantOut:  `"decision": "reject"`,
		},
		{
			name:     "different evaluation data is not comparable",
			args:     []string{"--candidate", good, "--champion", otherData, "--json"},
			wantCode: ExitOK,
			wantOut:  `"comparable": false,` + "\n" + `  "warnings": [` + "\n" + `    "the evaluation data differs from the champion's (data/test.csv is sha256:` + fingerprint.Bytes([]byte(testData))[7:19] + `, was sha256:` + fingerprint.Bytes([]byte("other"))[7:19] + `): the metrics are not comparable"`,
		},
		{
			name:     "NaN candidate is invalid input",
			args:     []string{"--candidate", nan, "--champion", pointer},
			wantCode: ExitInvalid,
			wantErr:  "nan.json:1:14: accuracy: NaN: JSON has no NaN or Infinity",
		},
		{
			name:     "a metric the champion has and the candidate lacks fails its rule",
			args:     []string{"--candidate", lacking, "--champion", pointer, "--fail-on-reject"},
			wantCode: ExitRejected,
			wantOut:  "  ✗ accuracy missing: the champion has it (0.925) but the candidate does not (set missing: ignore on the rule to allow it)\n",
		},
		{
			name:     "missing candidate metric the champion lacks too names it",
			args:     []string{"--candidate", lacking, "--champion", write("no-accuracy.yaml", "f1: 0.5\naccuracy_by_location:\n  seattle: 0.9\n")},
			wantCode: ExitInvalid,
			wantErr:  specPath + `: gate.rules[0].metric: the candidate (` + lacking + `) has no metric "accuracy" [gate]`,
		},
		{
			name:     "non-numeric candidate metric names it",
			args:     []string{"--candidate", textual, "--champion", pointer},
			wantCode: ExitInvalid,
			wantErr:  `gate.rules[0].metric: the candidate (` + textual + `) metric "accuracy" is not a number [gate]`,
		},
		{
			name:     "a slice the champion has and the candidate lacks fails the glob's rule",
			args:     []string{"--candidate", noSlices, "--champion", pointer, "--json"},
			wantCode: ExitOK,
			wantOut:  `"metric": "accuracy_by_location.seattle",` + "\n" + `      "direction": "higher",` + "\n" + `      "champion": 0.93,` + "\n" + `      "candidate": null,`,
		},
		{
			name:     "glob matching nothing on either side",
			args:     []string{"--candidate", noSlices, "--champion", accOnly},
			wantCode: ExitInvalid,
			wantErr:  `gate.rules[1].metric: "accuracy_by_location.*" matches no metric of the candidate (` + noSlices + `) [gate]`,
		},
		{
			name:     "missing champion file",
			args:     []string{"--candidate", good, "--champion", filepath.Join(dir, "none.json")},
			wantCode: ExitInvalid,
			wantErr:  "--champion " + filepath.Join(dir, "none.json") + ": no such file",
		},
		{
			name:     "no candidate",
			args:     []string{"--champion", pointer},
			wantCode: ExitInvalid,
			wantErr:  "specify the candidate with --run-dir or --candidate\nRun 'podium compare --help' for usage.",
		},
		{
			name:     "two candidates",
			args:     []string{"--candidate", good, "--run-dir", dir},
			wantCode: ExitInvalid,
			wantErr:  "specify only one of --run-dir and --candidate",
		},
		{
			name:     "run dir without run.json",
			args:     []string{"--run-dir", filepath.Join(dir, "empty")},
			wantCode: ExitInvalid,
			wantErr:  "run.json: no such file (run podium train --run-dir",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io := platformFactory(t, &citest.Platform{})
			code := runCLI(t, f, append([]string{"compare", "--spec", specPath}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, io.Out, io.Err)
			}
			if !strings.Contains(io.Out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", io.Out, tt.wantOut)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", io.Err, tt.wantErr)
			}
			if strings.Contains(strings.Join(tt.args, " "), "--json") {
				var decoded any
				if err := json.Unmarshal(io.Out.Bytes(), &decoded); err != nil {
					t.Fatalf("--json output is not one JSON document: %v", err)
				}
				if err := schemas.Validate(rundir.CompareSchema, decoded); err != nil {
					t.Errorf("--json output does not match the schema: %v", err)
				}
			}
		})
	}
}

func TestCompareNoChampion(t *testing.T) {
	gittest.SetEnv(t)
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", compareSpec)
	gittest.WriteFile(t, dir, "data/test.csv", testData)
	gittest.Commit(t, dir, "init")
	gittest.Git(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	cand := filepath.Join(dir, "metrics.json")
	gittest.WriteFile(t, dir, "metrics.json", `{"accuracy": 0.89, "accuracy_by_location": {"seattle": 0.5}}`)
	reportPath := filepath.Join(dir, "out", "report.md")
	if err := os.Mkdir(filepath.Dir(reportPath), 0o755); err != nil {
		t.Fatal(err)
	}

	platform := &citest.Platform{}
	f, io := platformFactory(t, platform)
	code := runCLI(t, f, "compare", "--spec", filepath.Join(dir, "podium.yaml"), "--candidate", cand, "--json", "--report", reportPath)
	if code != ExitOK {
		t.Fatalf("exit code %d\n%s", code, io.Err)
	}
	var doc map[string]any
	if err := json.Unmarshal(io.Out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["champion"] != nil || doc["decision"] != "reject" {
		t.Errorf("champion = %v, decision = %v; want null and reject (0.89 < min 0.9)", doc["champion"], doc["decision"])
	}
	if got := platform.Outputs()["report"]; got != reportPath {
		t.Errorf("report output = %q", got)
	}
	md, err := os.ReadFile(reportPath)
	if err != nil || !strings.Contains(string(md), "accuracy 0.89 &lt; min 0.9") {
		t.Errorf("report = %s (%v)", md, err)
	}
}

// TestPathOfTheWrongKind: a directory where a file goes, a file where a
// directory goes, or an output in a directory that does not exist is
// invalid input naming the flag, before anything is read or written.
func TestPathOfTheWrongKind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nonexistent", "dir", "r.md")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"compare --run-dir file", []string{"compare", "--run-dir", file}, file + ": --run-dir is not a directory"},
		{"record --run-dir file", []string{"record", "--run-dir", file}, file + ": --run-dir is not a directory"},
		{"report --run-dir file", []string{"report", "--run-dir", file}, file + ": --run-dir is not a directory"},
		{"propose --run-dir file", []string{"propose", "--run-dir", file}, file + ": --run-dir is not a directory"},
		{"compare --candidate dir", []string{"compare", "--candidate", dir}, dir + ": --candidate is a directory, not a file"},
		{"compare --champion dir", []string{"compare", "--candidate", file, "--champion", dir}, dir + ": --champion is a directory, not a file"},
		{"compare --report dir", []string{"compare", "--candidate", file, "--report", dir}, dir + ": --report is a directory; name a file"},
		{"compare --report in a missing dir", []string{"compare", "--candidate", file, "--report", missing},
			missing + ": --report names a file in " + filepath.Dir(missing) + ", which does not exist"},
		{"compare --report under a file", []string{"compare", "--candidate", file, "--report", filepath.Join(file, "r.md")},
			filepath.Join(file, "r.md") + ": --report names a file in " + file + ", which is not a directory"},
		{"report --out dir", []string{"report", "--run-dir", dir, "--out", dir}, dir + ": --out is a directory; name a file"},
		{"report --out in a missing dir", []string{"report", "--run-dir", dir, "--out", missing},
			missing + ": --out names a file in " + filepath.Dir(missing) + ", which does not exist"},
		{"record --out dir", []string{"record", "--run-dir", dir, "--out", dir}, dir + ": --out is a directory; name a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io := platformFactory(t, &citest.Platform{})
			args := append(tt.args, "--spec", filepath.Join(dir, "podium.yaml"))
			if code := runCLI(t, f, args...); code != ExitInvalid {
				t.Errorf("exit %d, want %d\nstderr: %s", code, ExitInvalid, io.Err)
			}
			if got := strings.TrimSpace(io.Err.String()); got != tt.wantErr {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, tt.wantErr)
			}
			if io.Out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", io.Out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a directory was created for the output: %v", err)
	}
}
