package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podium-ml/podium/internal/diag"
)

const goodEvent = `{"workflow_run":{"id":7,"event":"pull_request","head_sha":"0123456789abcdef0123456789abcdef01234567",
"head_branch":"improve","html_url":"https://github.com/octo/models/actions/runs/7",
"head_repository":{"full_name":"eve/models"},"repository":{"full_name":"octo/models"},"pull_requests":[]}}`

func TestParseWorkflowRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		event   string
		wantErr string
	}{
		{"fork pull request", goodEvent, ""},
		{"push run", strings.Replace(goodEvent, `"event":"pull_request"`, `"event":"push"`, 1), `triggered by "push"`},
		{"short sha", strings.Replace(goodEvent, "0123456789abcdef0123456789abcdef01234567", "0123456", 1), "is not a commit SHA"},
		{"no head repository", strings.Replace(goodEvent, `"eve/models"`, `""`, 1), "no head repository"},
		{"repository with a path", strings.Replace(goodEvent, `"eve/models"`, `"eve/../models/x"`, 1), "no head repository"},
		{"no branch", strings.Replace(goodEvent, `"improve"`, `""`, 1), "no head branch"},
		{"not json", "{", "not a workflow_run event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := parseWorkflowRun([]byte(tt.event))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff("eve/models", ev.WorkflowRun.HeadRepository.FullName); diff != "" {
					t.Error(diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseWorkflowRun: whatever the event holds, an accepted one names
// a pull_request run, a full commit SHA and owner/name repositories.
func FuzzParseWorkflowRun(f *testing.F) {
	f.Add([]byte(goodEvent))
	f.Add([]byte(`{"workflow_run":{"event":"pull_request","pull_requests":[{"number":-1}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseWorkflowRun(data)
		if err != nil {
			return
		}
		wr := ev.WorkflowRun
		if wr.Event != "pull_request" || !fullSHA().MatchString(wr.HeadSHA) || wr.HeadBranch == "" ||
			!repoName().MatchString(wr.HeadRepository.FullName) || !repoName().MatchString(wr.Repository.FullName) {
			t.Fatalf("accepted %+v", wr)
		}
	})
}

// An artifact holding anything but files and directories is refused
// before a byte of it is read.
func TestCheckArtifact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compare.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkArtifact(dir); err != nil {
		t.Fatalf("plain files: %v", err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "run.json")); err != nil {
		t.Fatal(err)
	}
	err := checkArtifact(dir)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !errors.Is(err, diag.ErrInvalidInput) {
		t.Errorf("error = %v, want invalid input naming the symbolic link", err)
	}
}

func TestTimeoutFlagIsValidated(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"report", "--run-dir", "x", "--comment", "--timeout", "0s"},
		{"propose", "--run-dir", "x", "--timeout", "-1m"},
		{"trigger", "--workflow", "w.yml", "--timeout", "0"},
	} {
		f, io := newTestFactory(t, nil)
		if code := runCLI(t, f, args...); code != ExitInvalid || !strings.Contains(io.Err.String(), "invalid --timeout") {
			t.Errorf("podium %s: exit %d, want %d naming --timeout\n%s", strings.Join(args, " "), code, ExitInvalid, io.Err)
		}
	}
}
