package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
)

func TestLoadValid(t *testing.T) {
	t.Parallel()
	s, err := Load("testdata/valid.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s.Model != "iris-classifier" || s.Dir != "testdata" {
		t.Errorf("model, dir = %q, %q", s.Model, s.Dir)
	}
	if got := s.Pipeline[0].Timeout; got != 30*time.Minute {
		t.Errorf("timeout = %v, want 30m", got)
	}
	if got := s.Pipeline[0].Env["GOFLAGS"]; got != "-mod=mod" {
		t.Errorf("env GOFLAGS = %q", got)
	}
	if !strings.HasPrefix(s.Digest, "sha256:") || len(s.Digest) != 71 {
		t.Errorf("digest = %q", s.Digest)
	}
	if r := s.Gate.Rules[0]; *r.MinValue != 0.90 || *r.MinDelta != 0.005 || r.Tolerance != nil {
		t.Errorf("rule 0 = %+v", r)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	src := `version: 1
model: m
components: [{name: c}]
pipeline:
  - {name: prep, run: x, outputs: [data/]}
  - {name: train, run: y, needs: [prep], outputs: [model/, metrics.json]}
metrics: metrics.json
deploy: {manifest: deploy.yaml, field: spec.uri, value: "s3://b/{{ .Version }}"}
`
	s, err := Parse("podium.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"registry": s.Registry, "cache": s.Cache.Path, "component path": s.Components[0].Path,
		"artifact": s.Artifact, "branch": s.Deploy.Branch, "psi": s.Drift.PSIThreshold, "ks": s.Drift.KSThreshold,
	}
	want := map[string]any{
		"registry": Registry{Type: "git", Path: ".podium/registry"}, "cache": ".podium/cache", "component path": ".",
		"artifact": "model/", "branch": "podium/deploy/{{ .Model }}", "psi": 0.2, "ks": 0.1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

const base = "version: 1\nmodel: m\n"

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "bad YAML",
			src:  base + "pipeline: [\n",
			want: []string{`podium.yaml:3: invalid YAML: did not find expected node content`},
		},
		{
			name: "bad indentation",
			src:  base + "pipeline:\n  - name: a\n   run: x\n",
			want: []string{`podium.yaml:3: invalid YAML: did not find expected '-' indicator`},
		},
		{
			// The parser names line 4 (where the mapping began); the tab is
			// on line 5.
			name: "tab in indentation",
			src:  base + "params:\n  lr: 1\n\tseed: 2\n",
			want: []string{`podium.yaml:5:1: invalid YAML: found a tab character that violates indentation (indent with spaces)`},
		},
		{
			name: "wrong type",
			src:  base + "pipeline:\n  - name: a\n    run: [x]\n",
			want: []string{`podium.yaml:5:10: pipeline[0].run: expected string, but got array`},
		},
		{
			name: "unknown top-level key",
			src:  base + "pipline: []\n",
			want: []string{`podium.yaml:3:1: pipline: unknown key "pipline" (did you mean "pipeline"?)`},
		},
		{
			name: "cache remote not oci",
			src:  base + "cache: {remote: https://ghcr.io/acme/cache}\n",
			want: []string{`podium.yaml:3:17: cache.remote: does not match pattern '^oci://'`},
		},
		{
			name: "cache remote with a tag",
			src:  base + "cache: {remote: \"oci://ghcr.io/acme/cache:latest\"}\n",
			want: []string{`podium.yaml:3:17: cache.remote: "oci://ghcr.io/acme/cache:latest": a cache remote is a repository, without a tag or digest`},
		},
		{
			name: "cache remote with credentials",
			src:  base + "cache: {remote: \"oci://u:hunter2@ghcr.io/acme/cache\"}\n",
			want: []string{`podium.yaml:3:17: cache.remote: oci://…: credentials do not belong in the URL; podium reads them from the CI's token variables or the docker config`},
		},
		{
			name: "empty runs_on",
			src:  base + "pipeline:\n  - {name: a, run: x, runs_on: []}\n",
			want: []string{`podium.yaml:4:32: pipeline[0].runs_on: minimum 1 items required, but found 0 items`},
		},
		{
			name: "unknown step key",
			src:  base + "pipeline:\n  - name: a\n    run: x\n    need: [b]\n",
			want: []string{`podium.yaml:6:5: pipeline[0].need: unknown key "need" (did you mean "needs"?)`},
		},
		{
			name: "missing required",
			src:  "version: 1\npipeline:\n  - name: a\n",
			want: []string{
				`podium.yaml:1:1: missing required key "model"`,
				`podium.yaml:3:5: pipeline[0]: missing required key "run"`,
			},
		},
		{
			name: "duplicate step",
			src:  base + "pipeline:\n  - {name: a, run: x}\n  - {name: a, run: y}\n",
			want: []string{`podium.yaml:5:12: pipeline[1].name: duplicate step name "a" (also pipeline[0])`},
		},
		{
			name: "unknown need with suggestion",
			src:  base + "pipeline:\n  - name: train\n    run: x\n  - name: evaluate\n    run: y\n    needs: [trian]\n",
			want: []string{`podium.yaml:8:13: pipeline[1].needs[0]: unknown step "trian" (did you mean "train"?)`},
		},
		{
			name: "cycle",
			src:  base + "pipeline:\n  - {name: a, run: x, needs: [c]}\n  - {name: b, run: x, needs: [a]}\n  - {name: c, run: x, needs: [b]}\n",
			want: []string{`podium.yaml:4:30: pipeline[0].needs: dependency cycle: a -> c -> b -> a`},
		},
		{
			name: "reads what a step it does not need writes",
			src:  base + "pipeline:\n  - {name: a, run: x, outputs: [model/]}\n  - {name: b, run: y, inputs: [model/w.bin]}\n",
			want: []string{`podium.yaml:5:32: pipeline[1].inputs[0]: step "b" reads "model/w.bin", which step "a" writes, but does not need "a" (add it to needs)`},
		},
		{
			name: "two steps write the same output",
			src:  base + "pipeline:\n  - {name: a, run: x, outputs: [model/]}\n  - {name: b, run: y, outputs: [model/w.bin]}\n",
			want: []string{`podium.yaml:5:33: pipeline[1].outputs[0]: step "b" writes "model/w.bin", which step "a" writes too, and neither needs the other (they would race: add one to the other's needs)`},
		},
		{
			name: "self need",
			src:  base + "pipeline:\n  - {name: a, run: x, needs: [a]}\n",
			want: []string{`podium.yaml:4:31: pipeline[0].needs[0]: step "a" cannot need itself`},
		},
		{
			name: "bad glob",
			src:  base + "gate:\n  rules:\n    - {metric: 'acc\\', direction: higher}\n",
			want: []string{`podium.yaml:5:16: gate.rules[0].metric: bad glob "acc\\": trailing backslash: write \\ for a backslash`},
		},
		{
			name: "bad missing",
			src:  base + "gate:\n  rules:\n    - {metric: acc, direction: higher, missing: skip}\n",
			want: []string{`podium.yaml:5:49: gate.rules[0].missing: value must be one of "fail", "ignore"`},
		},
		{
			name: "bad direction",
			src:  base + "gate:\n  rules:\n    - {metric: accuracy, direction: up}\n",
			want: []string{`podium.yaml:5:37: gate.rules[0].direction: value must be one of "higher", "lower"`},
		},
		{
			name: "non-numeric bound",
			src:  base + "gate:\n  rules:\n    - {metric: accuracy, direction: higher, min_value: \"0.9\"}\n",
			want: []string{`podium.yaml:5:56: gate.rules[0].min_value: expected number, but got string`},
		},
		{
			name: "tolerance with min_delta",
			src:  base + "gate:\n  rules:\n    - {metric: a, direction: higher, min_delta: 0.1, tolerance: 0.1}\n",
			want: []string{`podium.yaml:5:65: gate.rules[0].tolerance: tolerance (how much worse is allowed) cannot be combined with min_delta or min_relative (how much better is required)`},
		},
		{
			name: "negative timeout",
			src:  base + "pipeline:\n  - {name: a, run: x, timeout: -5m}\n",
			want: []string{`podium.yaml:4:32: pipeline[0].timeout: timeout must be positive, got "-5m"`},
		},
		{
			name: "unparsable timeout",
			src:  base + "pipeline:\n  - {name: a, run: x, timeout: soon}\n",
			want: []string{`podium.yaml:4:32: pipeline[0].timeout: timeout "soon" is not a duration (write it as 90s, 30m or 2h)`},
		},
		{
			name: "template syntax error",
			src:  base + "deploy: {manifest: d.yaml, field: spec.uri, value: \"s3://{{ .Version \"}\n",
			want: []string{`podium.yaml:3:52: deploy.value: template: 1: unclosed action`},
		},
		{
			name: "template unknown field",
			src:  base + "deploy: {manifest: d.yaml, field: spec.uri, value: \"s3://{{ .Modle }}\"}\n",
			want: []string{`podium.yaml:3:52: deploy.value: template: <.Modle>: can't evaluate field Modle in type spec.TemplateData`},
		},
		{
			name: "path traversal",
			src:  base + "pipeline:\n  - {name: a, run: x, inputs: [../../etc/passwd, /abs, 'C:\\x']}\n",
			want: []string{
				`podium.yaml:4:32: pipeline[0].inputs[0]: path "../../etc/passwd" leaves the spec's directory`,
				`podium.yaml:4:50: pipeline[0].inputs[1]: path "/abs" is absolute; paths are relative to the spec's directory`,
				`podium.yaml:4:56: pipeline[0].inputs[2]: path "C:\\x" uses backslashes; write paths with /`,
			},
		},
		{
			name: "metrics not an output",
			src:  base + "pipeline:\n  - {name: a, run: x, outputs: [model/]}\nmetrics: metrics.json\n",
			want: []string{`podium.yaml:5:10: metrics: "metrics.json" is not an output of any step; add it to the outputs of the step that writes it`},
		},
		{
			name: "NaN param",
			src:  base + "params: {lr: .nan}\n",
			want: []string{`podium.yaml:3:14: params.lr: .nan is not a finite number`},
		},
		{
			name: "duplicate key",
			src:  base + "model: other\n",
			want: []string{`podium.yaml:3:1: model: duplicate key "model" (first defined at line 2)`},
		},
		{
			name: "unsupported version",
			src:  "version: 2\nmodel: m\n",
			want: []string{`podium.yaml:1:10: version: unsupported spec version; this podium reads version: 1`},
		},
		{
			name: "version as a string",
			src:  "version: \"1\"\nmodel: m\n",
			want: []string{`podium.yaml:1:10: version: expected integer 1, got string "1" (write version: 1, without quotes)`},
		},
		{
			name: "version as a list",
			src:  "version: [1]\nmodel: m\n",
			want: []string{`podium.yaml:1:10: version: expected integer 1, got a list`},
		},
		{
			name: "bad model name",
			src:  "version: 1\nmodel: \"a b/../c\"\n",
			want: []string{`podium.yaml:2:8: model: a name is 1-100 characters of letters, digits, '.', '_' and '-', starting with a letter or digit`},
		},
		{
			name: "not a mapping",
			src:  "- just\n- a list\n",
			want: []string{`podium.yaml:1:1: a spec is a mapping (version: 1, model: ..., pipeline: ...)`},
		},
		{
			name: "two documents",
			src:  base + "---\nversion: 1\n",
			want: []string{`podium.yaml:3:1: a spec is a single YAML document; remove the second one (after ---)`},
		},
		{
			name: "empty file",
			src:  "  \n\n",
			want: []string{`podium.yaml: the file is empty; a spec needs at least version: 1 and model: <name>`},
		},
		{
			name: "binary file",
			src:  "\x7fELF\x02\x01\x01\x00\x00",
			want: []string{`podium.yaml: the file is binary (it contains NUL bytes), not YAML`},
		},
		{
			name: "not UTF-8",
			src:  base + "params: {a: \"\xff\xfe\"}\n",
			want: []string{`podium.yaml:3: the file is not valid UTF-8`},
		},
		{
			name: "alias bomb",
			src:  base + "params: &a {x: 1}\ncache: *a\n",
			want: []string{`podium.yaml:4:8: cache: YAML aliases (*name) are not supported in podium.yaml`},
		},
		{
			name: "several problems at once",
			src:  base + "pipeline:\n  - {name: a, run: x, timeout: 0s}\n  - {name: b, run: y, needs: [z]}\ngate: {rules: [{metric: x, direction: sideways}]}\n",
			want: []string{
				`podium.yaml:4:32: pipeline[0].timeout: timeout must be positive, got "0s"`,
				`podium.yaml:5:31: pipeline[1].needs[0]: unknown step "z"`,
				`podium.yaml:6:39: gate.rules[0].direction: value must be one of "higher", "lower"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("podium.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var got []string
			for _, d := range diag.All(err) {
				got = append(got, d.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if !isInvalid(err) {
				t.Errorf("error %T is not marked as invalid input", err)
			}
		})
	}
}

func isInvalid(err error) bool {
	return errors.Is(err, diag.ErrInvalidInput)
}

func TestLoadFileProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	// 50 MB: refused by size before it is read.
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), "nope.yaml: no such file (pass --spec to name the spec file)"},
		{"directory", dir, filepath.Base(dir) + ": is a directory, not a spec file"},
		{"50 MB file", big, "big.yaml: file is 52428800 bytes; a spec may be at most 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.path)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("error = %q, want suffix %q", err, tt.want)
			}
			if !isInvalid(err) {
				t.Errorf("error is not invalid input")
			}
		})
	}
}

func TestRenderTemplate(t *testing.T) {
	t.Parallel()
	got, err := RenderTemplate("gs://b/{{ .Model }}/{{ .Version }}@{{ .Artifact.Digest }}", TemplateData{
		Model: "iris", Version: "abc123", Artifact: TemplateArtifact{Digest: "sha256:ff"},
	})
	if err != nil || got != "gs://b/iris/abc123@sha256:ff" {
		t.Errorf("RenderTemplate = %q, %v", got, err)
	}
}

func FuzzParse(f *testing.F) {
	seed, _ := os.ReadFile("testdata/valid.yaml")
	f.Add(seed)
	f.Add([]byte(base + "pipeline:\n  - {name: a, run: x, needs: [a]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		s, err := Parse("fuzz.yaml", data)
		if err == nil && s == nil {
			t.Fatal("nil spec without error")
		}
		if err != nil && !isInvalid(err) {
			t.Fatalf("error not marked invalid input: %v", err)
		}
	})
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"5GB", 5e9, false}, {"2GiB", 2 << 30, false}, {"500 MB", 500e6, false},
		{"1048576", 1 << 20, false}, {"1.5KiB", 1536, false}, {"10B", 10, false},
		{"", 0, true}, {"0GB", 0, true}, {"-1MB", 0, true}, {"lots", 0, true},
		{"1e9", 0, true}, {"NaNGB", 0, true}, {"InfGB", 0, true}, {"5 GB B", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"5GB", "2GiB", "1", "0.5TB", "-3", "1e3", " 7 MiB "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n <= 0 {
			t.Errorf("ParseSize(%q) = %d with no error; sizes are positive", s, n)
		}
		if err != nil && n != 0 {
			t.Errorf("ParseSize(%q) = %d with an error", s, n)
		}
	})
}

func TestStepParams(t *testing.T) {
	t.Parallel()
	base := "version: 1\nmodel: m\nparams: {seed: 1, learning_rate: 0.1}\n"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "a param the spec does not declare",
			src:  base + "pipeline:\n  - {name: train, run: x, params: [seed, learning_rat]}\n",
			want: []string{`podium.yaml:5:42: pipeline[0].params[1]: step "train" uses param "learning_rat", which params does not declare (did you mean "learning_rate"?)`},
		},
		{
			name: "a bad cache size",
			src:  base + "cache: {max_size: lots}\n",
			want: []string{`podium.yaml:4:19: cache.max_size: size "lots" is not a size (write it as 500MB, 5GB or 2GiB)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "podium.yaml")
			if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(fmt.Sprint(err)), "\n") {
				got = append(got, strings.TrimPrefix(line, dir+string(filepath.Separator)))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load() errors (-want +got):\n%s", diff)
			}
		})
	}
	// Declared params load, nil vs empty kept apart.
	dir := t.TempDir()
	path := filepath.Join(dir, "podium.yaml")
	os.WriteFile(path, []byte(base+"pipeline:\n  - {name: a, run: x, params: []}\n  - {name: b, run: y, params: [seed]}\n  - {name: c, run: z}\n"), 0o644)
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Pipeline; p[0].Params == nil || len(p[0].Params) != 0 || !cmp.Equal(p[1].Params, []string{"seed"}) || p[2].Params != nil {
		t.Errorf("params = %#v, %#v, %#v; want [], [seed], nil", p[0].Params, p[1].Params, p[2].Params)
	}
	if s.Cache.MaxBytes != 5e9 {
		t.Errorf("cache.max_size default = %d bytes, want 5GB", s.Cache.MaxBytes)
	}
}
