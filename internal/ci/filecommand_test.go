package ci

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFileCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "simple", in: "a=1\nb=x=y\n", want: map[string]string{"a": "1", "b": "x=y"}},
		{name: "blank lines skipped", in: "\n\na=1\n\n", want: map[string]string{"a": "1"}},
		{name: "no final newline", in: "a=1", want: map[string]string{"a": "1"}},
		{
			name: "heredoc",
			in:   "a<<EOF\none\ntwo\nEOF\nb=2\n",
			want: map[string]string{"a": "one\ntwo", "b": "2"},
		},
		{name: "empty heredoc", in: "a<<EOF\nEOF\n", want: map[string]string{"a": ""}},
		{name: "heredoc of one empty line", in: "a<<EOF\n\nEOF\n", want: map[string]string{"a": ""}},
		{name: "equals before heredoc", in: "a=b<<c\n", want: map[string]string{"a": "b<<c"}},
		{name: "heredoc before equals", in: "a<<c=d\nx\nc=d\n", want: map[string]string{"a": "x"}},
		{name: "fixed delimiter injection parses as the runner would",
			in: "a<<D\nx\nD\ninjected=1\nD\n",
			// the runner reads "injected" as an output, and then fails on "D"
			wantErr: `invalid format "D"`},
		{name: "unterminated heredoc", in: "a<<EOF\nx\n", wantErr: `invalid value: matching delimiter not found "EOF"`},
		{name: "missing newline before EOF marker", in: "a<<EOF\nx", wantErr: "invalid value: EOF marker missing new line"},
		{name: "empty name", in: "=1\n", wantErr: `invalid format "=1": name must not be empty`},
		{name: "empty delimiter", in: "a<<\n", wantErr: `invalid format "a<<": name and delimiter must not be empty`},
		{name: "no separator", in: "abc\n", wantErr: `invalid format "abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFileCommands(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseFileCommands() error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFileCommands() (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzWriteOutputs writes two outputs through SetOutput and parses the
// GITHUB_OUTPUT file back as the runner does: the parsed map equals what
// was written, or SetOutput refused the value. The delimiter is taken from
// the fuzz input too, so the fuzzer can aim values at it.
func FuzzWriteOutputs(f *testing.F) {
	f.Add("decision", "promote", "report", "line\nline", "ghadelimiter_x")
	f.Add("a", "_GitHubActionsFileCommandDelimeter_", "b", "x\n_GitHubActionsFileCommandDelimeter_\nc<<d", "ghadelimiter_x")
	f.Add("a", "v\nghadelimiter_x\nz=1", "b", "", "ghadelimiter_x")
	f.Add("a", "::add-mask::x\n::stop-commands::y", "a", "%0A\r\n", "ghadelimiter_x")
	f.Add("a=b", "c", "d<<e", "f", "ghadelimiter_x")
	f.Add("x", "\n", "y", "\n\n", "\n")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2, delim string) {
		if delim == "" || strings.Contains(delim, "\n") {
			// Real delimiters are one non-empty line.
			delim = randomDelimiter()
		}
		var log bytes.Buffer
		path := filepath.Join(t.TempDir(), "output")
		e := env{"GITHUB_OUTPUT": path}
		g := NewGitHub(WithGetenv(e.get), WithWriter(&log), withDelimiter(func() string { return delim }))
		want := map[string]string{}
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}} {
			err := g.SetOutput(kv[0], kv[1])
			if err != nil {
				if checkOutputName(kv[0]) == nil && !strings.Contains(kv[0], delim) && !strings.Contains(kv[1], delim) {
					t.Fatalf("SetOutput(%q, %q) refused a writable value: %v", kv[0], kv[1], err)
				}
				continue
			}
			want[kv[0]] = kv[1]
		}
		data := ""
		if len(want) > 0 {
			data = readFile(t, path)
		}
		got, err := ParseFileCommands(data)
		if err != nil {
			t.Fatalf("the runner could not parse what was written: %v\n%q", err, data)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parsed outputs (-want +got):\n%s\nfile: %q", diff, data)
		}
		if log.Len() != 0 {
			t.Errorf("SetOutput wrote to the log: %q", log.String())
		}
	})
}

// FuzzParseFileCommands checks that the parser never panics and that what
// it accepts is stable: re-encoding the map and parsing it again is exact.
func FuzzParseFileCommands(f *testing.F) {
	f.Add("a=1\nb<<EOF\nx\nEOF\n")
	f.Add("a<<EOF\n")
	f.Add("\n\n=\n<<\n")
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1<<16 {
			return
		}
		got, err := ParseFileCommands(in)
		if err != nil {
			return
		}
		delim := randomDelimiter()
		var b strings.Builder
		for k, v := range got {
			if checkOutputName(k) != nil || strings.Contains(v, delim) {
				return
			}
			entry, err := formatFileCommand(k, v, delim)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(entry)
		}
		again, err := ParseFileCommands(b.String())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
	})
}
