package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"good.yaml":    "version: 1\nmodel: m\npipeline:\n  - {name: a, run: 'true'}\n",
		"nosteps.yaml": "version: 1\nmodel: m\n",
		"bad.yaml":     "version: 1\nmodel: m\npipeline:\n  - {name: a, run: 'true', needs: [b]}\n",
		"strver.yaml":  "version: \"1\"\nmodel: m\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	gh := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "out")}

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantOut  string // exact stdout, or "" to skip (JSON is checked below)
		wantErr  string // exact stderr
	}{
		{
			name: "valid", args: []string{"--spec", p("good.yaml")}, wantCode: ExitOK,
			wantOut: p("good.yaml") + ": valid (model m, 1 steps, 0 components, 0 gate rules)\n",
		},
		{
			name: "no pipeline is valid with a note", args: []string{"--spec", p("nosteps.yaml")}, wantCode: ExitOK,
			wantOut: p("nosteps.yaml") + ": valid (model m, 0 steps, 0 components, 0 gate rules)\n",
			wantErr: p("nosteps.yaml") + ": notice: " + noPipelineNote + "\n",
		},
		{
			name: "no pipeline note is a CI notice", env: gh, args: []string{"--spec", p("nosteps.yaml")}, wantCode: ExitOK,
			wantOut: p("nosteps.yaml") + ": valid (model m, 0 steps, 0 components, 0 gate rules)\n",
			wantErr: "::notice file=" + p("nosteps.yaml") + "::" + noPipelineNote + "\n",
		},
		{
			name: "version as a string", args: []string{"--spec", p("strver.yaml")}, wantCode: ExitInvalid,
			wantErr: p("strver.yaml") + `:1:10: version: expected integer 1, got string "1" (write version: 1, without quotes)` + "\n",
		},
		{
			name: "empty --spec names the flag", args: []string{"--spec", ""}, wantCode: ExitInvalid,
			wantErr: `invalid argument "" for "--spec" flag: the spec file name is empty (leave --spec out to read podium.yaml)` + "\nRun 'podium validate --help' for usage.\n",
		},
		{
			name: "json in CI also annotates each problem", env: gh, args: []string{"--spec", p("bad.yaml"), "--json"}, wantCode: ExitInvalid,
			wantErr: p("bad.yaml") + `:4:36: pipeline[0].needs[0]: unknown step "b"` + "\n" +
				"::error col=36,file=" + p("bad.yaml") + ",line=4,title=podium::unknown step \"b\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io := newTestFactory(t, tt.env)
			code := runCLI(t, f, append([]string{"validate"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d\nstderr: %s", code, tt.wantCode, io.Err)
			}
			if tt.wantOut != "" {
				if diff := cmp.Diff(tt.wantOut, io.Out.String()); diff != "" {
					t.Errorf("stdout (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.wantErr, io.Err.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateJSONNotes(t *testing.T) {
	t.Parallel()
	spec := filepath.Join(t.TempDir(), "podium.yaml")
	if err := os.WriteFile(spec, []byte("version: 1\nmodel: m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, io := newTestFactory(t, nil)
	if code := runCLI(t, f, "validate", "--spec", spec, "--json"); code != ExitOK {
		t.Fatalf("exit = %d\nstderr: %s", code, io.Err)
	}
	var res validateResult
	if err := json.Unmarshal(io.Out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, io.Out)
	}
	if diff := cmp.Diff([]string{noPipelineNote}, res.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if !res.Valid || len(res.Errors) != 0 {
		t.Errorf("valid = %v, errors = %v; want valid with no errors", res.Valid, res.Errors)
	}
}

// TestBooleanFlagsShowNoValueName guards the help of every command: a
// backticked word in a BoolVar usage becomes a value name (--json JSON),
// which reads as if the flag took an argument.
func TestBooleanFlagsShowNoValueName(t *testing.T) {
	t.Parallel()
	f, _ := newTestFactory(t, nil)
	cmds := []*cobra.Command{NewCmdRoot(f)}
	for len(cmds) > 0 {
		c := cmds[0]
		cmds = append(cmds[1:], c.Commands()...)
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if fl.Value.Type() != "bool" {
				return
			}
			if name, _ := pflag.UnquoteUsage(fl); name != "" {
				t.Errorf("%s --%s: boolean flag shows the value name %q in its help", c.CommandPath(), fl.Name, name)
			}
		})
	}
}
