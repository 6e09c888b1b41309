package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
)

const (
	exampleReference = "../../examples/drift/reference.csv"
	exampleCurrent   = "../../examples/drift/current.csv"
	exampleStable    = "../../examples/drift/stable.csv"
)

// driftFactory is a test Factory whose platform records outputs and the
// summary, working in dir (where a default podium.yaml would be).
func driftFactory(t *testing.T) (*Factory, testIO, *citest.Platform) {
	t.Helper()
	f, io := newTestFactory(t, nil)
	p := &citest.Platform{}
	f.Platform = func() ci.Platform { return p }
	return f, io, p
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// driftJSON is the part of `drift --json` the tests look at.
type driftJSON struct {
	SchemaVersion int      `json:"schema_version"`
	Retrain       bool     `json:"retrain"`
	Reasons       []string `json:"reasons"`
	Thresholds    *struct {
		PSI float64 `json:"psi"`
		KS  float64 `json:"ks"`
	} `json:"thresholds"`
	Columns []struct {
		Column  string   `json:"column"`
		Kind    string   `json:"kind"`
		KS      *float64 `json:"ks"`
		PSI     *float64 `json:"psi"`
		Drifted bool     `json:"drifted"`
	} `json:"columns"`
	Decay *struct {
		Champion *string `json:"champion"`
		Checks   []struct {
			Metric  string `json:"metric"`
			Decayed bool   `json:"decayed"`
			Reason  string `json:"reason"`
		} `json:"checks"`
	} `json:"decay"`
	Warnings []string `json:"warnings"`
}

func TestDriftExample(t *testing.T) {
	t.Parallel()
	f, io, platform := driftFactory(t)
	code := runCLI(t, f, "drift", "--reference", exampleReference, "--current", exampleCurrent, "--json")
	if code != ExitOK {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
	}
	var got driftJSON
	if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, io.Out)
	}
	wantReasons := []string{
		"temp_min: KS 0.2264 > 0.1", "temp_min: PSI 0.309 > 0.2",
		"temp_max: KS 0.2104 > 0.1", "temp_max: PSI 0.2941 > 0.2",
		"weather: PSI 0.2527 > 0.2",
	}
	if !got.Retrain || got.SchemaVersion != 1 {
		t.Errorf("retrain = %v, schema_version = %d; want true, 1", got.Retrain, got.SchemaVersion)
	}
	if diff := cmp.Diff(wantReasons, got.Reasons); diff != "" {
		t.Errorf("reasons mismatch (-want +got):\n%s", diff)
	}
	var order []string
	for _, c := range got.Columns {
		order = append(order, c.Column+":"+c.Kind)
	}
	wantOrder := []string{"precipitation:numeric", "temp_max:numeric", "temp_min:numeric", "wind:numeric", "weather:categorical"}
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("JSON columns keep the header order (-want +got):\n%s", diff)
	}
	// The reasons output is JSON as written: `>`, not \u003e.
	reasons, _ := marshalJSON(wantReasons)
	if strings.Contains(string(reasons), `\u003e`) {
		t.Errorf("reasons output %s escapes HTML", reasons)
	}
	wantOutputs := map[string]string{"retrain": "true", "reasons": string(reasons), "decision": "retrain"}
	if diff := cmp.Diff(wantOutputs, platform.Outputs()); diff != "" {
		t.Errorf("outputs mismatch (-want +got):\n%s", diff)
	}
	summary := platform.Summary()
	wantRows := []string{
		"### podium drift: retrain",
		"| `temp_min` | numeric | 0.2264 | 1.044e-13 | - | - | 0.07921 | 0.309 |  | **yes** |",
		"| `temp_max` | numeric | 0.2104 | 6.776e-12 | - | - | 0.07921 | 0.2941 |  | **yes** |",
		"| `weather` | categorical | - | - | 0.06937 | 0.1942 | 0.07921 | 0.2527 | 0 | **yes** |",
		"| `wind` | numeric | 0.05691 | 0.2887 | - | - | 0.07921 | 0.04393 |  | no |",
		"| `precipitation` | numeric | 0.04656 | 0.5373 | - | - | 0.07921 | 0.0272 |  | no |",
	}
	last := -1
	for _, row := range wantRows {
		i := strings.Index(summary, row)
		if i < 0 || i < last {
			t.Errorf("summary lacks %q after the previous row (worst first):\n%s", row, summary)
		}
		last = i
	}
}

func TestDriftText(t *testing.T) {
	t.Parallel()
	f, io, platform := driftFactory(t)
	if code := runCLI(t, f, "drift", "--reference", exampleReference, "--current", exampleStable); code != ExitOK {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
	}
	want := heredoc(`
		drift: no retrain needed
		data: ../../examples/drift/stable.csv (730 rows) against ../../examples/drift/reference.csv (1462 rows), PSI above 0.2, or KS above 0.1 (L∞ above 0.1) and its critical value at α 0.05, drifts
		  column         kind               KS         p        L∞  critical       PSI  drifted
		  weather        categorical         -         -   0.08985   0.06155    0.1354  no
		  temp_max       numeric        0.0795  0.003964         -   0.06155   0.07006  no
		  temp_min       numeric       0.07537  0.007434         -   0.06155   0.03973  no
		  precipitation  numeric       0.04475    0.2775         -   0.06155   0.01008  no
		  wind           numeric       0.03381    0.6269         -   0.06155   0.01702  no`) + "\n"
	if diff := cmp.Diff(want, io.Out.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"retrain": "false", "reasons": "[]", "decision": "keep"}, platform.Outputs()); diff != "" {
		t.Errorf("outputs mismatch (-want +got):\n%s", diff)
	}
}

func TestDriftThresholds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	specPath := writeFile(t, dir, "podium.yaml", heredoc(`
		version: 1
		model: weather
		pipeline:
		  - {name: a, run: "true"}
		drift:
		  psi_threshold: 0.5
		  ks_threshold: 0.25
		  columns: [temp_max, weather]
	`))
	tests := []struct {
		name        string
		args        []string
		wantReasons []string
		wantColumns int
	}{
		{"from the spec", nil, []string{}, 2},
		{"flags override the spec", []string{"--psi-threshold", "0.25", "--ks-threshold", "0.2"},
			[]string{"temp_max: KS 0.2104 > 0.2", "temp_max: PSI 0.2941 > 0.25", "weather: PSI 0.2527 > 0.25"}, 2},
		{"--columns overrides drift.columns", []string{"--columns", "wind"}, []string{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io, _ := driftFactory(t)
			args := append([]string{"drift", "--spec", specPath, "--reference", exampleReference, "--current", exampleCurrent, "--json"}, tt.args...)
			if code := runCLI(t, f, args...); code != ExitOK {
				t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
			}
			var got driftJSON
			if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantReasons, got.Reasons); diff != "" {
				t.Errorf("reasons mismatch (-want +got):\n%s", diff)
			}
			if len(got.Columns) != tt.wantColumns {
				t.Errorf("got %d columns, want %d", len(got.Columns), tt.wantColumns)
			}
		})
	}
}

func TestDriftInvalidInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other := writeFile(t, dir, "other.csv", "temp_max,wind\n1,2\n")
	headerOnly := writeFile(t, dir, "header.csv", "precipitation,temp_max,temp_min,wind,weather\n")
	badRows := writeFile(t, dir, "bad.csv", "precipitation,temp_max,temp_min,wind,weather\n1,2,3,4,sun\n1,2\nx,2,3,4,sun\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"reference without current", []string{"--reference", exampleReference}, "--reference and --current go together\nRun 'podium drift --help' for usage.\n"},
		{"nothing to check", nil, "nothing to check: give --reference and --current, or --metrics\nRun 'podium drift --help' for usage.\n"},
		{"champion without metrics", []string{"--reference", exampleReference, "--current", exampleCurrent, "--champion", "x.json"}, "--champion needs --metrics\n"},
		{"bad threshold", []string{"--reference", exampleReference, "--current", exampleCurrent, "--psi-threshold", "0"}, "invalid --psi-threshold 0: use a positive number\n"},
		{"bad max-bad-rows", []string{"--reference", exampleReference, "--current", exampleCurrent, "--max-bad-rows", "-2"}, "invalid --max-bad-rows -2: use a count, or -1 for no limit\n"},
		{"missing file", []string{"--reference", exampleReference, "--current", filepath.Join(dir, "nope.csv")}, "failed to open the current data: open " + filepath.Join(dir, "nope.csv") + ": no such file or directory\n"},
		{"mismatched headers", []string{"--reference", exampleReference, "--current", other},
			other + `:1: header: missing reference columns "precipitation", "temp_min", "weather" (compare a subset with --columns) [drift]` + "\n"},
		{"header only", []string{"--reference", exampleReference, "--current", headerOnly}, headerOnly + ": no data rows after the header [drift]\n"},
		{"too many bad rows", []string{"--reference", exampleReference, "--current", badRows, "--max-bad-rows", "1"},
			badRows + `: 2 bad rows, more than --max-bad-rows 1; the first: line 3: expected 5 fields, found 2; line 4: column "precipitation": "x" is not a number [drift]` + "\n"},
		{"explicit spec missing", []string{"--spec", filepath.Join(dir, "none.yaml"), "--reference", exampleReference, "--current", exampleCurrent}, filepath.Join(dir, "none.yaml")},
		{"metrics without a spec", []string{"--metrics", exampleReference, "--spec", filepath.Join(dir, "none.yaml")}, filepath.Join(dir, "none.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io, platform := driftFactory(t)
			code := runCLI(t, f, append([]string{"drift"}, tt.args...)...)
			if code != ExitInvalid {
				t.Errorf("exit code = %d, want 2\nstderr: %s", code, io.Err)
			}
			if !strings.HasPrefix(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr:\n got %q\nwant prefix %q", io.Err, tt.wantErr)
			}
			if io.Out.Len() != 0 || len(platform.Outputs()) != 0 {
				t.Errorf("failed run wrote stdout %q, outputs %v", io.Out, platform.Outputs())
			}
		})
	}
}

func TestDriftBadRowsWarn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cur := writeFile(t, dir, "cur.csv", "precipitation,temp_max,temp_min,wind,weather\n0,10,5,3,sun\n1,2\n0,11,6,3,rain\n")
	f, io, _ := driftFactory(t)
	if code := runCLI(t, f, "drift", "--reference", exampleReference, "--current", cur, "--json"); code != ExitOK {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
	}
	want := "warning: " + cur + ": 1 bad rows left out (lines 3; first: expected 5 fields, found 2)\n"
	if !strings.Contains(io.Err.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", io.Err, want)
	}
}

func TestDriftUntrustedNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ref := writeFile(t, dir, "ref.csv", "\"::error::pwned\",\"a|b <!-- @team\"\n1,x\n2,y\n")
	cur := writeFile(t, dir, "cur.csv", "\"::error::pwned\",\"a|b <!-- @team\"\n5,\"::warning::new\"\n6,z\n")
	f, io, platform := driftFactory(t)
	if code := runCLI(t, f, "drift", "--reference", ref, "--current", cur); code != ExitOK {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
	}
	for _, out := range []string{io.Out.String(), io.Err.String(), platform.Summary()} {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "::") {
				t.Errorf("a line starts with \"::\": %q", line)
			}
		}
	}
	summary := platform.Summary()
	if strings.Contains(summary, "<!--") || strings.Contains(summary, "a|b") {
		t.Errorf("summary holds an unescaped name:\n%s", summary)
	}
}

func TestDriftDecay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	specPath := writeFile(t, dir, "podium.yaml", heredoc(`
		version: 1
		model: weather
		pipeline:
		  - {name: a, run: "true"}
		gate:
		  rules:
		    - {metric: accuracy, direction: higher, min_value: 0.8, tolerance: 0.02}
		    - {metric: "accuracy_by_location.*", direction: higher, tolerance: 0.05}
		    - {metric: latency_ms.p95, direction: lower, max_value: 50}
		    - {metric: f1, direction: higher, min_delta: 0.01}
	`))
	writeFile(t, dir, ".podium/registry/weather.json", `{"schema_version": 1, "model": "weather", "version": "abc",
		"metrics": {"accuracy": 0.9, "accuracy_by_location.seattle": 0.93, "accuracy_by_location.new_york": 0.88},
		"commit": "0123456789abcdef0123456789abcdef01234567", "promoted_at": "2026-01-01T00:00:00Z"}`)
	healthy := writeFile(t, dir, "healthy.json", `{"accuracy": 0.88, "accuracy_by_location": {"seattle": 0.88, "new_york": 0.85}, "latency_ms": {"p95": 50}}`)
	decayed := writeFile(t, dir, "decayed.yaml", "accuracy: 0.87\naccuracy_by_location:\n  seattle: 0.8\n  new_york: 0.9\nlatency_ms: {p95: 51}\n")
	plain := writeFile(t, dir, "champion.csv", "accuracy,0.95\n")

	tests := []struct {
		name         string
		args         []string
		wantRetrain  bool
		wantReasons  []string
		wantChampion string
		wantWarnings []string
	}{
		{
			name:         "healthy, against the registry pointer",
			args:         []string{"--metrics", healthy},
			wantReasons:  []string{},
			wantChampion: filepath.Join(dir, ".podium/registry/weather.json"),
			wantWarnings: []string{`gate rule "f1" matches no live metric: not checked for decay`},
		},
		{
			name:        "decayed",
			args:        []string{"--metrics", decayed},
			wantRetrain: true,
			wantReasons: []string{
				"decay: accuracy 0.87 is below champion 0.9 by more than tolerance 0.02",
				"decay: accuracy_by_location.seattle 0.8 is below champion 0.93 by more than tolerance 0.05",
				"decay: latency_ms.p95 51 > max_value 50",
			},
			wantChampion: filepath.Join(dir, ".podium/registry/weather.json"),
			wantWarnings: []string{`gate rule "f1" matches no live metric: not checked for decay`},
		},
		{
			name:         "a plain metrics file as champion",
			args:         []string{"--metrics", healthy, "--champion", plain},
			wantRetrain:  true,
			wantReasons:  []string{"decay: accuracy 0.88 is below champion 0.95 by more than tolerance 0.02"},
			wantChampion: plain,
			wantWarnings: []string{`gate rule "f1" matches no live metric: not checked for decay`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io, platform := driftFactory(t)
			args := append([]string{"drift", "--spec", specPath, "--json"}, tt.args...)
			if code := runCLI(t, f, args...); code != ExitOK {
				t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
			}
			var got driftJSON
			if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Retrain != tt.wantRetrain {
				t.Errorf("retrain = %v, want %v", got.Retrain, tt.wantRetrain)
			}
			if diff := cmp.Diff(tt.wantReasons, got.Reasons); diff != "" {
				t.Errorf("reasons mismatch (-want +got):\n%s", diff)
			}
			if got.Decay == nil || got.Decay.Champion == nil || *got.Decay.Champion != tt.wantChampion {
				t.Errorf("decay.champion = %+v, want %s", got.Decay, tt.wantChampion)
			}
			if diff := cmp.Diff(tt.wantWarnings, got.Warnings); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
			if got.Columns == nil || got.Thresholds != nil {
				t.Errorf("metrics-only run: columns = %v (want []), thresholds = %v (want none)", got.Columns, got.Thresholds)
			}
			if want := map[bool]string{true: "true", false: "false"}[tt.wantRetrain]; platform.Outputs()["retrain"] != want {
				t.Errorf("retrain output = %q, want %q", platform.Outputs()["retrain"], want)
			}
		})
	}
}

func TestDriftDecayNoChampion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	specPath := writeFile(t, dir, "podium.yaml", heredoc(`
		version: 1
		model: weather
		pipeline:
		  - {name: a, run: "true"}
		gate:
		  rules:
		    - {metric: accuracy, direction: higher, min_value: 0.9, tolerance: 0.02}
	`))
	live := writeFile(t, dir, "live.csv", "accuracy,0.85\n")
	f, io, _ := driftFactory(t)
	if code := runCLI(t, f, "drift", "--spec", specPath, "--metrics", live); code != ExitOK {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", code, io.Err)
	}
	wantOut := heredoc(`
		drift: retrain (1 reasons)
		decay: `+live+` against champion none
		  decayed  accuracy 0.85 < min_value 0.9
		reason: decay: accuracy 0.85 < min_value 0.9`) + "\n"
	if diff := cmp.Diff(wantOut, io.Out.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
	wantErr := "warning: no champion at " + filepath.Join(dir, ".podium/registry/weather.json") + ": only min_value and max_value are checked\n"
	if io.Err.String() != wantErr {
		t.Errorf("stderr = %q, want %q", io.Err, wantErr)
	}

	// A champion named explicitly must exist and be a valid pointer or
	// metrics file; a broken live file is invalid input.
	badPointer := writeFile(t, dir, "bad-pointer.json", `{"schema_version": 1, "model": "weather", "version": "v1",
		"metrics": {"accuracy": "high"}, "commit": "abc", "promoted_at": "2026-01-01T00:00:00Z"}`)
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--metrics", live, "--champion", filepath.Join(dir, "gone.json")}, "gone.json: no such file or directory"},
		{[]string{"--metrics", writeFile(t, dir, "nan.json", `{"accuracy": NaN}`)}, "nan.json:1:14: accuracy: NaN"},
		{[]string{"--metrics", live, "--champion", badPointer}, badPointer + ": /commit: does not match pattern"},
		{[]string{"--metrics", live, "--champion", badPointer}, badPointer + ": /metrics/accuracy: expected number, but got string [registry]"},
		{[]string{"--metrics", live, "--champion", dir}, dir + ": is a directory: name a champion pointer or a metrics file [registry]"},
	} {
		f, io, _ := driftFactory(t)
		if code := runCLI(t, f, append([]string{"drift", "--spec", specPath}, tt.args...)...); code != ExitInvalid {
			t.Errorf("drift %v: exit code = %d, want 2\nstderr: %s", tt.args, code, io.Err)
		}
		if !strings.Contains(io.Err.String(), tt.wantErr) {
			t.Errorf("drift %v: stderr = %q, want it to contain %q", tt.args, io.Err, tt.wantErr)
		}
	}
}
