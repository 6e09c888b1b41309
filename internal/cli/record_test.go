package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/schemas"
)

// Canary secrets: shaped like real tokens, valid for nothing.
const (
	recordCanaryParam = "ghp_CANARYrecord0123456789abcdefghijklmnop"
	recordCanaryEnv   = "CANARY-env-secret-5f1c2e9a7b3d"
)

const recordSpec = `version: 1
model: demo
params: {seed: 42}
pipeline:
  - name: prepare
    run: tr a-z A-Z < data/raw.csv > data/clean.csv
    inputs: [data/raw.csv]
    outputs: [data/clean.csv]
  - name: train
    run: mkdir -p model && cat data/clean.csv > model/w && echo "$PODIUM_PARAM_SEED" > model/seed
    needs: [prepare]
    inputs: [data/clean.csv]
    outputs: [model/]
  - name: evaluate
    run: |
      echo '{"accuracy": 0.91, "latency_ms": {"p95": 12}}' > metrics.json
    needs: [train]
    inputs: [model/]
    outputs: [metrics.json]
metrics: metrics.json
artifact: model/
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5}
`

// recordRepo is a git repository whose pipeline `podium train` has run.
type recordRepo struct {
	dir, spec, runDir, sha string
}

// newRecordRepo commits spec (recordSpec when "") and data, then trains.
func newRecordRepo(t *testing.T, spec string) recordRepo {
	t.Helper()
	if spec == "" {
		spec = recordSpec
	}
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", spec)
	gittest.WriteFile(t, dir, "data/raw.csv", "a,b\n1,2\n")
	gittest.WriteFile(t, dir, ".gitignore", ".podium/\nmodel/\nmetrics.json\ndata/clean.csv\n")
	sha := gittest.Commit(t, dir, "pipeline")
	r := recordRepo{dir: dir, spec: filepath.Join(dir, "podium.yaml"), runDir: filepath.Join(dir, ".podium", "run"), sha: sha}
	f, io := newTestFactory(t, nil)
	if code := runCLI(t, f, "train", "--spec", r.spec); code != ExitOK {
		t.Fatalf("train: exit %d\n%s", code, io.Err)
	}
	return r
}

func (r recordRepo) defaultRecord() string {
	return filepath.Join(r.runDir, "podium-record-demo-"+r.sha[:12]+".json")
}

func (r recordRepo) writeCompare(t *testing.T, decision string) {
	t.Helper()
	err := rundir.WriteCompare(r.runDir, &rundir.Compare{
		Model: "demo", Decision: decision, Candidate: rundir.Candidate{Metrics: map[string]float64{"accuracy": 0.91}},
		Checks:     []rundir.Check{{Metric: "accuracy", Direction: "higher", Candidate: new(0.91), Passed: decision == gate.Promote, Reason: "at least 0.5"}},
		Comparable: true, Warnings: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recordCmd runs `podium record` with a fake CI platform and returns the
// exit code, the streams and the platform.
func recordCmd(t *testing.T, args ...string) (int, testIO, *citest.Platform) {
	t.Helper()
	p := &citest.Platform{RunInfo: ci.Run{
		Provider: "github-actions", Repository: "acme/demo", Ref: "refs/pull/3/merge", PullRequest: 3,
		RunID: "42", RunURL: "https://github.com/acme/demo/actions/runs/42", Workflow: "ml", Job: "train", Attempt: 1,
	}}
	f, io := platformFactory(t, p)
	code := runCLI(t, f, append([]string{"record"}, args...)...)
	return code, io, p
}

type recordJSON struct {
	Path     string `json:"path"`
	Digest   string `json:"digest"`
	Format   string `json:"format"`
	Model    string `json:"model"`
	Commit   string `json:"commit"`
	Decision any    `json:"decision"`
	NoteRef  string `json:"note_ref"`
	Pushed   bool   `json:"pushed"`
	Masked   int    `json:"masked"`
}

func decodeRecordJSON(t *testing.T, out *bytes.Buffer) recordJSON {
	t.Helper()
	var res recordJSON
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not the result document: %v\n%s", err, out)
	}
	return res
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestRecordIsDeterministicAndLinked(t *testing.T) {
	t.Parallel()
	r := newRecordRepo(t, "")

	var first []byte
	for i := range 2 {
		code, io, p := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--json")
		if code != ExitOK {
			t.Fatalf("record %d: exit %d\n%s", i, code, io.Err)
		}
		res := decodeRecordJSON(t, io.Out)
		data, err := os.ReadFile(r.defaultRecord())
		if err != nil {
			t.Fatal(err)
		}
		want := recordJSON{
			Path: r.defaultRecord(), Digest: "sha256:" + sha256Hex(data), Format: "podium",
			Model: "demo", Commit: r.sha, Decision: nil,
		}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("record %d --json (-want +got):\n%s", i, diff)
		}
		wantOutputs := map[string]string{"record": r.defaultRecord(), "record-digest": want.Digest}
		if diff := cmp.Diff(wantOutputs, p.Outputs()); diff != "" {
			t.Errorf("CI outputs (-want +got):\n%s", diff)
		}
		if i == 0 {
			first = data
		} else if !bytes.Equal(first, data) {
			t.Errorf("the same run gave different records:\n%s\n%s", first, data)
		}
	}

	var doc any
	if err := json.Unmarshal(first, &doc); err != nil {
		t.Fatal(err)
	}
	if err := schemas.Validate(record.SchemaName, doc); err != nil {
		t.Errorf("record does not match its schema: %v", err)
	}
	rec, err := record.Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Commit.SHA != r.sha || rec.Commit.PullRequest != 3 || rec.CI.RunURL != "https://github.com/acme/demo/actions/runs/42" {
		t.Errorf("commit %+v ci %+v", rec.Commit, rec.CI)
	}
	wantFiles := []string{"model/seed", "model/w"}
	var gotFiles []string
	for _, f := range rec.Artifact.Files {
		gotFiles = append(gotFiles, f.Path)
		content, _ := os.ReadFile(filepath.Join(r.dir, f.Path))
		if f.Digest != "sha256:"+sha256Hex(content) || f.Size != int64(len(content)) {
			t.Errorf("%s: digest %s size %d do not match its bytes", f.Path, f.Digest, f.Size)
		}
	}
	if diff := cmp.Diff(wantFiles, gotFiles); diff != "" {
		t.Errorf("artifact files (-want +got):\n%s", diff)
	}
	raw, _ := os.ReadFile(filepath.Join(r.dir, "data", "raw.csv"))
	if rec.DataDigest == nil || *rec.DataDigest != "sha256:"+sha256Hex(raw) {
		t.Errorf("data digest = %v, want the digest of data/raw.csv", rec.DataDigest)
	}

	// Once compare has run, the record carries its decision.
	r.writeCompare(t, gate.Reject)
	code, io, _ := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--json")
	if code != ExitOK {
		t.Fatalf("record: exit %d\n%s", code, io.Err)
	}
	if res := decodeRecordJSON(t, io.Out); res.Decision != "reject" {
		t.Errorf("decision = %v, want reject", res.Decision)
	}
}

func TestRecordPrintsPathWithoutJSON(t *testing.T) {
	t.Parallel()
	r := newRecordRepo(t, "")
	out := filepath.Join(t.TempDir(), "rec.json")
	code, io, _ := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, io.Err)
	}
	if got := io.Out.String(); got != out+"\n" {
		t.Errorf("stdout = %q, want the path alone", got)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(r.defaultRecord()); err == nil {
		t.Error("--out also wrote the default file")
	}
}

func TestRecordInToto(t *testing.T) {
	t.Parallel()
	r := newRecordRepo(t, "")
	r.writeCompare(t, gate.Promote)
	code, io, p := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--format", "in-toto", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, io.Err)
	}
	res := decodeRecordJSON(t, io.Out)
	wantPath := filepath.Join(r.runDir, "podium-record-demo-"+r.sha[:12]+".intoto.json")
	if res.Path != wantPath || res.Format != "in-toto" || res.Decision != "promote" {
		t.Errorf("result = %+v", res)
	}
	data, err := os.ReadFile(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Outputs()["record-digest"]; got != "sha256:"+sha256Hex(data) {
		t.Errorf("record-digest = %s, want the digest of the statement's bytes", got)
	}
	st, err := record.DecodeStatement(data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://podium-ml.dev/record/v1" {
		t.Errorf("_type %q predicateType %q", st.Type, st.PredicateType)
	}
	for _, s := range st.Subject {
		content, err := os.ReadFile(filepath.Join(r.dir, s.Name))
		if err != nil {
			t.Fatal(err)
		}
		if s.Digest["sha256"] != sha256Hex(content) {
			t.Errorf("subject %s: sha256 %s, want %s", s.Name, s.Digest["sha256"], sha256Hex(content))
		}
	}
	if len(st.Subject) != 2 {
		t.Errorf("subjects = %v, want model/seed and model/w", st.Subject)
	}
}

func TestRecordRefusesIncompleteRunDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breakIt func(t *testing.T, r recordRepo) (runDir string)
		wantErr string // substring of stderr
	}{
		{
			name:    "no run directory",
			breakIt: func(t *testing.T, r recordRepo) string { return filepath.Join(r.dir, "nope") },
			wantErr: "nope: no such run directory (run podium train --run-dir",
		},
		{
			name: "no run.json",
			breakIt: func(t *testing.T, r recordRepo) string {
				os.Remove(filepath.Join(r.runDir, "run.json"))
				return r.runDir
			},
			wantErr: "run.json: no such file (run podium train --run-dir",
		},
		{
			name: "run.json without commit and times",
			breakIt: func(t *testing.T, r recordRepo) string {
				editRunJSON(t, r.runDir, func(m map[string]any) { delete(m, "commit"); delete(m, "finished_at") })
				return r.runDir
			},
			wantErr: "run.json: /: missing properties: 'commit', 'finished_at' [schema]",
		},
		{
			name: "run.json is not JSON",
			breakIt: func(t *testing.T, r recordRepo) string {
				os.WriteFile(filepath.Join(r.runDir, "run.json"), []byte("{"), 0o644)
				return r.runDir
			},
			wantErr: "run.json:1:2: unexpected end of file: the JSON is truncated [json]",
		},
		{
			name: "compare.json is not JSON",
			breakIt: func(t *testing.T, r recordRepo) string {
				os.WriteFile(filepath.Join(r.runDir, "compare.json"), []byte("nope"), 0o644)
				return r.runDir
			},
			wantErr: "compare.json:1:2: invalid character 'o' in literal null (expecting 'u') [json]",
		},
		{
			name: "compare.json of another model",
			breakIt: func(t *testing.T, r recordRepo) string {
				rundir.WriteCompare(r.runDir, &rundir.Compare{Model: "other", Decision: gate.Promote,
					Candidate: rundir.Candidate{Metrics: map[string]float64{}}, Checks: []rundir.Check{}, Warnings: []string{}})
				return r.runDir
			},
			wantErr: `compare.json is for model "other" but run.json is for "demo"`,
		},
		{
			name: "spec changed since the run",
			breakIt: func(t *testing.T, r recordRepo) string {
				os.WriteFile(r.spec, []byte(strings.Replace(recordSpec, "seed: 42", "seed: 43", 1)), 0o644)
				return r.runDir
			},
			wantErr: "podium.yaml changed since the run (run.json spec_digest sha256:",
		},
		{
			name: "artifact changed since the run",
			breakIt: func(t *testing.T, r recordRepo) string {
				os.WriteFile(filepath.Join(r.dir, "model", "w"), []byte("tampered"), 0o644)
				return r.runDir
			},
			wantErr: "but run.json records sha256:",
		},
		{
			name: "an input is gone",
			breakIt: func(t *testing.T, r recordRepo) string {
				os.Remove(filepath.Join(r.dir, "data", "clean.csv"))
				return r.runDir
			},
			wantErr: "data/clean.csv: no such file or directory (run.json lists it;",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRecordRepo(t, "")
			runDir := tt.breakIt(t, r)
			code, io, p := recordCmd(t, "--spec", r.spec, "--run-dir", runDir, "--git-note")
			if code != ExitInvalid {
				t.Errorf("exit = %d, want %d\nstderr: %s", code, ExitInvalid, io.Err)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", io.Err, tt.wantErr)
			}
			if io.Out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", io.Out)
			}
			written, _ := filepath.Glob(filepath.Join(r.runDir, "podium-record-*"))
			if len(written) != 0 || len(p.Outputs()) != 0 {
				t.Errorf("wrote %v, outputs %v; want nothing", written, p.Outputs())
			}
			if notes := gittest.Git(t, r.dir, "for-each-ref", "refs/notes/"); notes != "" {
				t.Errorf("wrote notes: %s", notes)
			}
		})
	}
}

func editRunJSON(t *testing.T, runDir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(runDir, "run.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, _ = json.Marshal(m)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecordFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no run dir", args: nil, wantErr: "--run-dir is required: the directory `podium train --run-dir` wrote\nRun 'podium record --help' for usage.\n"},
		{name: "unknown format", args: []string{"--run-dir", "d", "--format", "slsa"}, wantErr: "invalid --format \"slsa\": valid formats are podium, in-toto\nRun 'podium record --help' for usage.\n"},
		{name: "push without note", args: []string{"--run-dir", "d", "--push"}, wantErr: "--push needs --git-note: it pushes the notes --git-note writes\nRun 'podium record --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, io, _ := recordCmd(t, tt.args...)
			if code != ExitInvalid || io.Err.String() != tt.wantErr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, io.Err, ExitInvalid, tt.wantErr)
			}
		})
	}
}

// TestRecordKeepsSecretsOut puts canary tokens in the environment and in
// the params; neither may reach the record, its note, or the output.
func TestRecordKeepsSecretsOut(t *testing.T) {
	t.Setenv("PODIUM_TEST_API_KEY", recordCanaryEnv)
	t.Setenv("GITHUB_TOKEN", "ghp_CANARYenv0123456789abcdefghijklmnopq")
	spec := strings.Replace(recordSpec, "params: {seed: 42}",
		"params: {seed: 42, hub_token: "+recordCanaryParam+", tracking: "+recordCanaryEnv+"}", 1)
	r := newRecordRepo(t, spec)
	// train already masks a token-shaped param in run.json; the record
	// masks it again for a run.json written some other way.
	data, err := os.ReadFile(filepath.Join(r.runDir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), recordCanaryParam) {
		t.Errorf("run.json holds the token-shaped param:\n%s", data)
	}
	editRunJSON(t, r.runDir, func(m map[string]any) { m["params"].(map[string]any)["hub_token"] = recordCanaryParam })
	code, io, p := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--git-note", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, io.Err)
	}
	data, err = os.ReadFile(r.defaultRecord())
	if err != nil {
		t.Fatal(err)
	}
	note := gittest.Git(t, r.dir, "notes", "--ref=refs/notes/podium", "show", r.sha)
	for name, text := range map[string]string{"record": string(data), "note": note, "stdout": io.Out.String(), "stderr": io.Err.String()} {
		if strings.Contains(text, "CANARY") {
			t.Errorf("%s holds a canary secret:\n%s", name, text)
		}
	}
	for _, env := range os.Environ() {
		k, v, _ := strings.Cut(env, "=")
		if len(v) >= 16 && (strings.Contains(k, "TOKEN") || strings.Contains(k, "KEY") || strings.Contains(k, "SECRET")) && strings.Contains(string(data), v) {
			t.Errorf("record holds the value of $%s", k)
		}
	}
	if res := decodeRecordJSON(t, io.Out); res.Masked != 2 {
		t.Errorf("masked = %d, want 2", res.Masked)
	}
	wantWarnings := []string{
		"warning: record /params/hub_token: masked a value that looks like a GitHub token",
		"warning: record /params/tracking: masked a value that holds the value of a secret environment variable",
	}
	for _, w := range wantWarnings {
		if !strings.Contains(io.Err.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, io.Err)
		}
	}
	if got := len(p.Annotations()); got != 2 {
		t.Errorf("%d annotations, want one warning per masked value", got)
	}
}
