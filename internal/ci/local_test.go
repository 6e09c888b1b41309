package ci

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocalOutputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  env
		want string
	}{
		{name: "quiet by default", env: env{}, want: ""},
		{
			name: "printed with PODIUM_DEBUG",
			env:  env{"PODIUM_DEBUG": "1"},
			want: "output: decision=promote\noutput: report=\"a b\\n::add-mask::x\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			l := NewLocal(WithGetenv(tt.env.get), WithWriter(&log))
			for _, kv := range [][2]string{{"decision", "promote"}, {"report", "a b\n::add-mask::x"}} {
				if err := l.SetOutput(kv[0], kv[1]); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, log.String()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocalSummary(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "summary.md")
	l := NewLocal(WithGetenv(env{"PODIUM_SUMMARY_FILE": path}.get), WithWriter(&bytes.Buffer{}))
	if err := l.AppendSummary("# podium"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "# podium\n" {
		t.Errorf("summary = %q", got)
	}
	// Without a file the summary is dropped, not an error.
	if err := NewLocal(WithGetenv(env{}.get)).AppendSummary("x"); err != nil {
		t.Fatal(err)
	}
}

func TestLocalLog(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	l := NewLocal(WithGetenv(env{"PODIUM_SPEC": "p.yaml"}.get), WithWriter(&log))
	l.Group("train\x1b[2J")()
	l.Annotate(Annotation{Level: LevelWarning, File: "metrics.json", Line: 1, Message: "duplicate key"})
	l.Mask("secret")
	want := "==> train[2J\nmetrics.json:1: warning: duplicate key\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if got := l.Input("spec"); got != "p.yaml" {
		t.Errorf("Input(spec) = %q", got)
	}
	if diff := cmp.Diff(Run{Provider: "local"}, l.Run()); diff != "" {
		t.Errorf("Run() (-want +got):\n%s", diff)
	}
}

func TestAnnotationLinesNeverStartWithCommand(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	writeAnnotation(&buf, Annotation{Level: LevelError, File: "::stop-commands::x", Message: "a\n::add-mask::b"})
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::") {
			t.Errorf("line %q starts with ::", line)
		}
	}
	if !strings.Contains(buf.String(), "stop-commands") {
		t.Errorf("output %q lost the file name", buf.String())
	}
}
