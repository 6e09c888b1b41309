package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/ci"
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
