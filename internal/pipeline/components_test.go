package pipeline

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/podium-ml/podium/internal/spec"
)

func TestTestComponents(t *testing.T) {
	t.Parallel()
	comps := []spec.Component{
		{Name: "features", Path: "features", Build: "echo building in $(basename $(pwd))", Test: "true"},
		{Name: "train", Path: ".", Build: "true", Test: "echo test failed >&2; exit 4"},
		{Name: "broken", Path: ".", Build: "exit 2", Test: "true"},
		{Name: "docs", Path: ".", Test: "true"},
	}
	tests := []struct {
		name     string
		failFast bool
		want     []ComponentResult
	}{
		{
			name: "runs the rest after a failure",
			want: []ComponentResult{
				{Name: "features", Path: "features", Build: "ok", Test: "ok"},
				{Name: "train", Path: ".", Build: "ok", Test: "failed", ExitCode: 4},
				{Name: "broken", Path: ".", Build: "failed", Test: "skipped", ExitCode: 2},
				{Name: "docs", Path: ".", Build: "none", Test: "ok"},
			},
		},
		{
			name:     "fail fast",
			failFast: true,
			want: []ComponentResult{
				{Name: "features", Path: "features", Build: "ok", Test: "ok"},
				{Name: "train", Path: ".", Build: "ok", Test: "failed", ExitCode: 4},
				{Name: "broken", Path: ".", Build: "skipped", Test: "skipped"},
				{Name: "docs", Path: ".", Build: "none", Test: "skipped"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.Mkdir(dir+"/features", 0o755); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			var groups []string
			got := TestComponents(t.Context(), comps, TestOptions{
				Dir: dir, Environ: os.Environ(), Out: &out, FailFast: tt.failFast,
				Group: func(title string) func() {
					groups = append(groups, title)
					return func() {}
				},
			})
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(ComponentResult{}, "DurationS")); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if want := "building in features\ntest failed\n"; out.String() != want {
				t.Errorf("output = %q, want %q", out.String(), want)
			}
			if len(groups) == 0 || groups[0] != "component features" {
				t.Errorf("groups = %v", groups)
			}
		})
	}
}

func TestTestComponentsInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := TestComponents(ctx, []spec.Component{{Name: "a", Build: "true", Test: "true"}}, TestOptions{Dir: t.TempDir()})
	want := []ComponentResult{{Name: "a", Build: "skipped", Test: "skipped"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestLineWriterPrefixesWholeLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := &lineWriter{out: &out, prefix: "[s] "}
	for _, chunk := range []string{"par", "tial\nline two\n", "", "no newline"} {
		w.Write([]byte(chunk))
	}
	w.Flush()
	if want := "[s] partial\n[s] line two\n[s] no newline\n"; out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}
