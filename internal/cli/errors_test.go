package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/ci/inputs"
	"github.com/podium-ml/podium/internal/deploy"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/table"
)

// TestInvalidInputExitCode pins exit code 2 to every error type that
// reports diag.ErrInvalidInput, bare and wrapped by a caller, and exit 1
// to errors that do not: a wrong file is the user's to fix, a failing disk
// or API is not. Each message is pinned too: reporting the sentinel must
// not change what the user reads.
func TestInvalidInputExitCode(t *testing.T) {
	t.Parallel()
	_, expandErr := inputs.Expand(&cobra.Command{Use: "podium"}, &citest.Platform{}, []string{inputs.Word})
	notRepo := t.TempDir()
	_, openErr := registry.OpenGit(context.Background(), notRepo, "", "main")

	tests := []struct {
		name    string
		err     error
		want    int
		wantMsg string
	}{
		{"diag.Error", &diag.Error{File: "podium.yaml", Line: 3, Col: 5, Field: "model", Msg: "required", Kind: "spec"}, ExitInvalid, "podium.yaml:3:5: model: required [spec]"},
		{"diag.List", diag.List{{File: "a.yaml", Msg: "one"}, {File: "a.yaml", Msg: "two"}}, ExitInvalid, "a.yaml: one\na.yaml: two"},
		{"cli.InputError", inputErrorf("run.json: %w", fs.ErrNotExist), ExitInvalid, "run.json: file does not exist"},
		{"atomicfile.PathError", &atomicfile.PathError{Path: "/dev/null", Msg: "not a regular file"}, ExitInvalid, "/dev/null: not a regular file"},
		{"inputs.Error", expandErr, ExitInvalid, `action: no command: give one (podium action compare) or set the "command" input`},
		{"deploy.TemplateError", &deploy.TemplateError{Field: "deploy.value", Err: errors.New("bad")}, ExitInvalid, "deploy.value: bad"},
		{"deploy.BranchError", &deploy.BranchError{Branch: "a..b", Reason: "has .."}, ExitInvalid, `deploy.branch: invalid branch name "a..b": has ..`},
		{"deploy.PathError", &deploy.PathError{Path: "a[", Msg: "unclosed"}, ExitInvalid, `invalid field path "a[": unclosed`},
		{"fingerprint.LinkError", &fingerprint.LinkError{Link: "m/l", Reason: "dangles"}, ExitInvalid, `"m/l": dangles`},
		{"fingerprint.KindError", &fingerprint.KindError{Path: "fifo", Want: "a directory"}, ExitInvalid, "fifo: not a directory"},
		{"fingerprint.NotFoundError", &fingerprint.NotFoundError{Path: "model"}, ExitInvalid, "model: no such file or directory"},
		{"record.NotFoundError", &record.NotFoundError{Commit: "abc", Dir: "/r"}, ExitInvalid, "commit abc is not in the repository at /r (fetch it, or record in the checkout that trained)"},
		{"record.MissingError", &record.MissingError{Path: "model.pkl"}, ExitInvalid, "model.pkl: no such file or directory"},
		{"record.ChangedError", &record.ChangedError{Path: "m", Want: "sha256:a", Actual: "sha256:b"}, ExitInvalid, "m: digest is sha256:b but run.json records sha256:a"},
		{"registry open error", openErr, ExitInvalid, ""},
		{"rundir.SymlinkError", &rundir.SymlinkError{Path: "run", Target: "/tmp", What: "run directory"}, ExitInvalid, ""},
		{"rundir.UnusableError", &rundir.UnusableError{Dir: "run", Reason: "a step failed"}, ExitInvalid, "run/run.json: the run is unusable: a step failed (fix it and run podium train again)"},
		{"rundir.IncompleteError", &rundir.IncompleteError{Dir: "run", File: "run.json", Err: fs.ErrNotExist}, ExitInvalid, "run/run.json: file does not exist"},
		{"scm.InvalidChangeError", &scm.InvalidChangeError{Field: "Branch", Value: "", Msg: "empty"}, ExitInvalid, `invalid change request: Branch "": empty`},
		{"table.InvalidError", &table.InvalidError{File: "d.csv", Line: 2, Msg: "3 fields, want 2"}, ExitInvalid, "d.csv:2: 3 fields, want 2"},

		{"plain error", errors.New("connection refused"), ExitFailure, "connection refused"},
		{"missing file from the OS", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}, ExitFailure, "open x: file does not exist"},
		{"permission", os.ErrPermission, ExitFailure, "permission denied"},
		{"joined runtime errors", errors.Join(os.ErrClosed, errors.New("later")), ExitFailure, "file already closed\nlater"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.err == nil {
				t.Fatal("the case built no error")
			}
			if tt.wantMsg != "" && tt.err.Error() != tt.wantMsg {
				t.Errorf("message:\n got %q\nwant %q", tt.err.Error(), tt.wantMsg)
			}
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%T) = %d, want %d", tt.err, got, tt.want)
			}
			wrapped := fmt.Errorf("failed to record: %w", tt.err)
			if got := exitCode(wrapped); got != tt.want {
				t.Errorf("exitCode(wrapped %T) = %d, want %d", tt.err, got, tt.want)
			}
			joined := errors.Join(errors.New("first"), tt.err)
			if got := exitCode(joined); got != tt.want {
				t.Errorf("exitCode(joined %T) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
