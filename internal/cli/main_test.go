package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/redact"
)

// testIO is the captured output of a command run in a test.
type testIO struct {
	Out, Err *bytes.Buffer
}

// newTestFactory returns a Factory with captured streams, the given
// environment only (nothing from the real process), a fixed clock and the
// local platform.
func newTestFactory(t *testing.T, env map[string]string) (*Factory, testIO) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	secrets := &redact.Redactor{}
	getenv := func(k string) string { return env[k] }
	f := &Factory{
		IO:      &IOStreams{In: strings.NewReader(""), Out: secrets.Writer(out), ErrOut: secrets.Writer(errOut)},
		Getenv:  getenv,
		Now:     func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		Secrets: secrets,
	}
	f.Platform = func() ci.Platform { return ci.Detect(getenv, f.IO.Out, f.IO.ErrOut) }
	f.Host = defaultHost(f)
	return f, testIO{Out: out, Err: errOut}
}

// runCLI runs podium with args and returns the exit code and output.
func runCLI(t *testing.T, f *Factory, args ...string) int {
	t.Helper()
	return Main(context.Background(), args, f)
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "podium.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("version: 1\nmodel: m\npipeline:\n  - {name: a, run: 'true'}\n"), 0o644)
	os.WriteFile(bad, []byte("version: 1\nmodel: m\npipeline:\n  - {name: a, run: 'true', needs: [b]}\n"), 0o644)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{"no args shows help", nil, ExitOK, "Exit codes:", ""},
		{"unknown command", []string{"bogus"}, ExitInvalid, "", `unknown command "bogus" for "podium"` + "\nRun 'podium --help' for usage."},
		{"unknown flag names the command", []string{"version", "--nope"}, ExitInvalid, "", "unknown flag: --nope\nRun 'podium version --help' for usage."},
		{"extra argument", []string{"validate", "x"}, ExitInvalid, "", `unknown command "x" for "podium validate"`},
		{"valid spec", []string{"validate", "--spec", good}, ExitOK, "valid (model m, 1 steps", ""},
		{"invalid spec", []string{"validate", "--spec", bad}, ExitInvalid, "", `bad.yaml:4:36: pipeline[0].needs[0]: unknown step "b"`},
		{"invalid spec json", []string{"validate", "--spec", bad, "--json"}, ExitInvalid, `"valid": false`, `unknown step "b"`},
		{"missing spec", []string{"validate", "--spec", filepath.Join(dir, "none.yaml")}, ExitInvalid, "", "none.yaml: no such file"},
		{"version", []string{"version"}, ExitOK, "podium dev", ""},
		{"group without a command is a usage error", []string{"registry"}, ExitInvalid, "", "podium registry needs a command: history, show\nRun 'podium registry --help' for usage."},
		{"action step naming a group fails", []string{"action", "registry"}, ExitInvalid, "", "podium registry needs a command: history, show"},
		{"action without a command", []string{"action"}, ExitInvalid, "", `action: no command: give one (podium action compare) or set the "command" input`},
		{"flag error found while running names the command", []string{"trigger", "--input", "a"}, ExitInvalid, "", "--input \"a\": want key=value\nRun 'podium trigger --help' for usage."},
		{"fingerprint --jobs names the command", []string{"fingerprint", "--jobs", "-1", "x"}, ExitInvalid, "", "Run 'podium fingerprint --help' for usage."},
		{"subcommand flag error names the subcommand", []string{"registry", "history", "--limit", "-1"}, ExitInvalid, "", "Run 'podium registry history --help' for usage."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io := newTestFactory(t, nil)
			code := runCLI(t, f, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, io.Out, io.Err)
			}
			if !strings.Contains(io.Out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", io.Out, tt.wantOut)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", io.Err, tt.wantErr)
			}
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain error", os.ErrPermission, ExitFailure},
		{"flag error", flagErrorf("bad flag"), ExitInvalid},
		{"input error", inputErrorf("no run.json"), ExitInvalid},
		{"rejected", &RejectedError{Model: "m"}, ExitRejected},
		{"wrapped rejected", errors.Join(os.ErrClosed, &RejectedError{}), ExitRejected},
		{"explicit exit", &ExitError{Code: 2}, ExitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorsAreRedacted(t *testing.T) {
	t.Parallel()
	f, io := newTestFactory(t, nil)
	f.Secrets.Add("ghp_CANARY0123456789")
	printError(f, NewCmdRoot(f), inputErrorf("server said: bad token ghp_CANARY0123456789"))
	if strings.Contains(io.Err.String(), "CANARY") || !strings.Contains(io.Err.String(), "bad token ***") {
		t.Errorf("stderr = %q, want the token masked", io.Err)
	}
}

func TestPrintErrorEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	problems := diag.List{
		{File: "a.yaml", Line: 1, Col: 2, Field: "model", Msg: "bad\n::error::x", Kind: "spec"},
		{File: "a.yaml", Line: 3, Msg: "second"},
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"newline starts no command", inputErrorf("x\n::stop-commands::abc: no such file"),
			`x\n::stop-commands::abc: no such file` + "\n"},
		{"carriage return", inputErrorf("run\r::add-mask::reject/run.json: not found"),
			`run\r::add-mask::reject/run.json: not found` + "\n"},
		{"percent-encoded newline stays literal", errors.New("x%0A::error::y"), "x%0A::error::y\n"},
		{"message that begins with ::", inputErrorf("::stop-commands::abc: no such file"),
			"podium: ::stop-commands::abc: no such file\n"},
		{"blanks before ::", inputErrorf("  ::add-mask::x"), "podium:   ::add-mask::x\n"},
		{"legacy ##[ command", inputErrorf("x ##[add-mask]y"), `x #\x23[add-mask]y` + "\n"},
		{"other C0 and C1", inputErrorf("a\x1b[31mb\u0085c\x00d"), `a\x1b[31mb\u0085c\x00d` + "\n"},
		{"bidi override", inputErrorf("a\u202egnp.exe"), `a\u202egnp.exe` + "\n"},
		{"invalid UTF-8", inputErrorf("a\xffb"), `a\xffb` + "\n"},
		{"ordinary text stays readable", inputErrorf(`unknown step "b" in modèle	x`), `unknown step "b" in modèle\tx` + "\n"},
		{"diag list: one problem a line, each escaped", problems,
			`a.yaml:1:2: model: bad\n::error::x [spec]` + "\n" + "a.yaml:3: second\n"},
		{"wrapped list keeps one problem a line", fmt.Errorf("failed to load: %w", problems),
			`failed to load: a.yaml:1:2: model: bad\n::error::x [spec]` + "\n" + "a.yaml:3: second\n"},
		{"joined errors", errors.Join(errors.New("one\n::x"), errors.New("::two")),
			`one\n::x` + "\npodium: ::two\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io := newTestFactory(t, nil)
			printError(f, NewCmdRoot(f), tt.err)
			if diff := cmp.Diff(tt.want, io.Err.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzErrorLines checks the rule that no printed error line can be read as
// a workflow command, whatever the message holds.
func FuzzErrorLines(f *testing.F) {
	for _, s := range []string{"x\n::stop-commands::abc", "\r::add-mask::a", "%0A::error::x", " ::x", "##[add-mask]x", "#", "a\u2028::b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		for _, err := range []error{errors.New(msg), errors.Join(errors.New(msg), errors.New(msg)), diag.List{{File: msg, Msg: msg}}} {
			for _, line := range errorLines(err, func(s string) string { return s }) {
				if strings.ContainsAny(line, "\r\n") {
					t.Fatalf("line %q holds a line break", line)
				}
				if strings.HasPrefix(strings.TrimSpace(line), "::") || strings.Contains(line, "##[") {
					t.Fatalf("line %q reads as a workflow command", line)
				}
			}
		}
	})
}

func TestActionInputsCannotInjectCommands(t *testing.T) {
	t.Parallel()
	outFile := filepath.Join(t.TempDir(), "out")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": outFile,
		"INPUT_SPEC": "x\n::stop-commands::abc",
	}
	f, io := newTestFactory(t, env)
	code := runCLI(t, f, "action", "validate")
	if code != ExitInvalid {
		t.Errorf("exit = %d, want %d\nstderr: %s", code, ExitInvalid, io.Err)
	}
	for _, stream := range []string{io.Out.String(), io.Err.String()} {
		for _, line := range strings.Split(stream, "\n") {
			if strings.HasPrefix(line, "::stop-commands") {
				t.Errorf("a line starts a workflow command: %q\nin: %q", line, stream)
			}
		}
	}
	if !strings.Contains(io.Err.String(), `x\n::stop-commands::abc`) {
		t.Errorf("stderr = %q, want the path shown escaped", io.Err)
	}
}
