package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataInferAndCheck runs `podium data` through the binary: infer a
// schema from the weather data, check the data (exit 0, ok), check a
// broken copy (exit 0 with ok false; 3 with --fail-on-reject), a broken
// schema (exit 2, positioned), a missing file (exit 2).
func TestDataInferAndCheck(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := t.TempDir()
	env := baseEnv(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "weather", "data", "weather.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weather.csv"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	for i, l := range lines {
		f := strings.Split(l, ",")
		if i == 5 {
			f[6] = "hail"
		}
		lines[i] = strings.Join(append(f[:5:5], f[6]), ",") // no wind column
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustPodium(t, dir, env, "data", "infer", "--reference", "weather.csv", "--out", "data.schema.yaml")

	ok := mustPodium(t, dir, env, "data", "check", "--schema", "data.schema.yaml", "weather.csv", "--json")
	var doc struct {
		OK         bool `json:"ok"`
		Checks     int  `json:"checks"`
		Passed     int  `json:"passed"`
		Violations []struct {
			Column, Check, Severity string
			Examples                []struct{ Line int64 }
		} `json:"violations"`
	}
	if err := json.Unmarshal([]byte(ok.stdout), &doc); err != nil || !doc.OK || doc.Passed != doc.Checks || doc.Checks == 0 {
		t.Fatalf("check of the reference: %v %+v\n%s", err, doc, ok.stdout)
	}

	bad := podium(t, dir, env, "data", "check", "--schema", "data.schema.yaml", "broken.csv", "--json")
	doc.Violations = nil
	if err := json.Unmarshal([]byte(bad.stdout), &doc); err != nil || bad.code != 0 || doc.OK {
		t.Fatalf("broken data: exit %d, %v, ok %v; want exit 0 with ok false\n%s", bad.code, err, doc.OK, bad.stderr)
	}
	var got []string
	for _, v := range doc.Violations {
		got = append(got, v.Column+"/"+v.Check+"/"+v.Severity)
	}
	if want := "wind/present/error weather/domain/error"; strings.Join(got, " ") != want {
		t.Errorf("violations %q, want %q", got, want)
	}

	if res := podium(t, dir, env, "data", "check", "--schema", "data.schema.yaml", "broken.csv", "--fail-on-reject"); res.code != 3 ||
		!strings.Contains(res.stdout, "hail") || !strings.Contains(res.stdout, "6: hail") {
		t.Errorf("--fail-on-reject: exit %d, want 3 and the table\n%s", res.code, res.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("version: 1\ncolumns:\n  - name: a\n    type: float\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := podium(t, dir, env, "data", "check", "--schema", "bad.yaml", "weather.csv"); res.code != 2 || !strings.Contains(res.stderr, "bad.yaml:4:11: columns[0].type") {
		t.Errorf("bad schema: exit %d, want 2 with a positioned error\n%s", res.code, res.stderr)
	}
	if res := podium(t, dir, env, "data", "check", "--schema", "data.schema.yaml", "nope.csv"); res.code != 2 || !strings.Contains(res.stderr, "nope.csv") {
		t.Errorf("missing file: exit %d, want 2 naming it\n%s", res.code, res.stderr)
	}
}
