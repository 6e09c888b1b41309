package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/record"
)

// runLogIn runs `podium log` with args in the repository dir.
func runLogIn(t *testing.T, dir string, args ...string) (int, testIO) {
	t.Helper()
	f, io := newTestFactory(t, nil)
	cmd := newCmdLog(f, func(opts *logOptions) error {
		opts.Dir = dir
		return runLog(context.Background(), opts)
	})
	cmd.SetArgs(args)
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	err := cmd.Execute()
	if err != nil {
		f.IO.ErrOut.Write([]byte(err.Error() + "\n"))
	}
	return exitCode(err), io
}

func TestRecordGitNoteThenLog(t *testing.T) {
	gittest.SetEnv(t)
	r := newRecordRepo(t, "")
	r.writeCompare(t, gate.Promote)
	code, io, _ := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--git-note", "--json")
	if code != ExitOK {
		t.Fatalf("record: exit %d\n%s", code, io.Err)
	}
	res := decodeRecordJSON(t, io.Out)
	if res.NoteRef != "refs/notes/podium" || res.Pushed {
		t.Errorf("result = %+v", res)
	}
	data, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	// The note holds the file's bytes: its digest is the record's.
	note := gittest.Git(t, r.dir, "notes", "--ref=refs/notes/podium", "show", r.sha) + "\n"
	if note != string(data) {
		t.Errorf("note != record file\nnote %s\nfile %s", note, data)
	}

	// A later commit with another model's record, written by hand.
	gittest.WriteFile(t, r.dir, "README", "more")
	later := gittest.Commit(t, r.dir, "later")
	rec, err := record.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	rec.Model = "churn"
	rec.Commit.SHA = later
	rec.Decision = nil
	rec.Gate = nil
	churn, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	gittest.Git(t, r.dir, "notes", "--ref=refs/notes/podium", "add", "-m", strings.TrimSpace(string(churn)), later)

	code, io = runLogIn(t, r.dir, "--json")
	if code != ExitOK {
		t.Fatalf("log: exit %d\n%s", code, io.Err)
	}
	var got logResult
	if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
		t.Fatalf("log --json: %v\n%s", err, io.Out)
	}
	type row struct {
		Commit, Model, Decision, Metric, Data, RecordDigest string
	}
	var rows []row
	for _, e := range got.Entries {
		d := ""
		if e.Decision != nil {
			d = *e.Decision
		}
		rows = append(rows, row{e.Commit, e.Model, d, e.PrimaryMetric.Name, *e.DataDigest, e.RecordDigest})
	}
	raw, _ := os.ReadFile(filepath.Join(r.dir, "data", "raw.csv"))
	dataDigest := "sha256:" + sha256Hex(raw)
	want := []row{
		{later, "churn", "", "accuracy", dataDigest, record.Digest(churn)},
		{r.sha, "demo", "promote", "accuracy", dataDigest, res.Digest},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("log entries (-want +got):\n%s", diff)
	}

	code, io = runLogIn(t, r.dir, "--model", "demo")
	if code != ExitOK {
		t.Fatalf("log: exit %d\n%s", code, io.Err)
	}
	wantText := "COMMIT        DATE        MODEL  DECISION  PRIMARY METRIC  DATA\n" +
		r.sha[:12] + "  2026-01-02  demo   promote   accuracy=0.91   " + dataDigest[:19] + "\n"
	if got := io.Out.String(); got != wantText {
		t.Errorf("log --model demo\n got %q\nwant %q", got, wantText)
	}
}

func TestLogWithoutNotes(t *testing.T) {
	gittest.SetEnv(t)
	dir := gittest.Init(t)
	gittest.Commit(t, dir, "first")
	code, io := runLogIn(t, dir)
	if code != ExitOK || io.Out.Len() != 0 || !strings.Contains(io.Err.String(), "no records on the commits reachable from HEAD") {
		t.Errorf("exit %d stdout %q stderr %q", code, io.Out, io.Err)
	}
	code, io = runLogIn(t, dir, "--json")
	if code != ExitOK || io.Out.String() != "{\n  \"schema_version\": 1,\n  \"entries\": []\n}\n" {
		t.Errorf("exit %d stdout %q", code, io.Out)
	}
}

func TestLogOutsideARepository(t *testing.T) {
	t.Parallel()
	code, io := runLogIn(t, t.TempDir())
	if code != ExitInvalid || !strings.Contains(io.Err.String(), "failed to open the git repository at") {
		t.Errorf("exit %d stderr %q", code, io.Err)
	}
}

// TestLogEscapesUntrustedText: a note is anyone's text. A metric name
// with a newline must not start a line a CI runner reads as a command.
func TestLogEscapesUntrustedText(t *testing.T) {
	gittest.SetEnv(t)
	r := newRecordRepo(t, "")
	code, io, _ := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir)
	if code != ExitOK {
		t.Fatalf("record: exit %d\n%s", code, io.Err)
	}
	data, err := os.ReadFile(r.defaultRecord())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	evil := "x\n::error file=a::owned\t|"
	rec.Metrics[evil] = 1
	rec.PrimaryMetric = &evil
	line, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	gittest.Git(t, r.dir, "notes", "--ref=refs/notes/podium", "add", "-m", strings.TrimSpace(string(line)), r.sha)

	code, io = runLogIn(t, r.dir)
	if code != ExitOK {
		t.Fatalf("log: exit %d\n%s", code, io.Err)
	}
	for _, l := range strings.Split(io.Out.String(), "\n") {
		if strings.HasPrefix(l, "::") {
			t.Errorf("a line starts with '::': %q", l)
		}
	}
	if !bytes.Contains(io.Out.Bytes(), []byte(`x\n::error file=a::owned\t|=1`)) {
		t.Errorf("metric not shown escaped:\n%s", io.Out)
	}
}

func TestRecordPushesNotes(t *testing.T) {
	gittest.SetEnv(t)
	r := newRecordRepo(t, "")
	remote := filepath.Join(t.TempDir(), "remote.git")
	gittest.Git(t, r.dir, "init", "-q", "--bare", "-b", "main", remote)
	gittest.Git(t, r.dir, "remote", "add", "origin", remote)
	gittest.Git(t, r.dir, "push", "-q", "origin", "main")

	// Another job already pushed a record of another model on the commit.
	other := filepath.Join(t.TempDir(), "other")
	gittest.Git(t, r.dir, "clone", "-q", remote, other)
	gittest.Git(t, other, "notes", "--ref=refs/notes/podium", "add", "-m", `{"model":"churn"}`, r.sha)
	gittest.Git(t, other, "push", "-q", "origin", "refs/notes/podium")

	code, io, _ := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--git-note", "--push", "--json")
	if code != ExitOK {
		t.Fatalf("record: exit %d\n%s", code, io.Err)
	}
	if res := decodeRecordJSON(t, io.Out); !res.Pushed {
		t.Errorf("result = %+v, want pushed", res)
	}
	data, err := os.ReadFile(r.defaultRecord())
	if err != nil {
		t.Fatal(err)
	}
	got := gittest.Git(t, remote, "notes", "--ref=refs/notes/podium", "show", r.sha) + "\n"
	if want := `{"model":"churn"}` + "\n" + string(data); got != want {
		t.Errorf("remote note\n got %s\nwant %s", got, want)
	}
}

func TestRecordPushFailsWithoutRemote(t *testing.T) {
	gittest.SetEnv(t)
	r := newRecordRepo(t, "")
	code, io, _ := recordCmd(t, "--spec", r.spec, "--run-dir", r.runDir, "--git-note", "--push")
	if code != ExitFailure || !strings.Contains(io.Err.String(), "failed to push refs/notes/podium to origin: ") {
		t.Errorf("exit %d stderr %q", code, io.Err)
	}
}
