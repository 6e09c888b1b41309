package record

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/git"
	"github.com/podium-ml/podium/internal/gittest"
)

// Tests in this file run git with gittest's fixed identity through the
// process environment, so they cannot be parallel.

// recordLine returns the canonical bytes of the fixture record for model
// on commit, with accuracy set so records can be told apart.
func recordLine(t *testing.T, model, commit string, accuracy float64) []byte {
	t.Helper()
	src := fixtureSource(t, true)
	src.Run.Model = model
	src.Compare.Model = model
	src.Run.Commit = commit
	src.Run.Metrics["accuracy"] = accuracy
	src.Run.FinishedAt = src.Run.FinishedAt.Add(time.Duration(accuracy*1000) * time.Second)
	data, err := build(t, src).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func openNotes(t *testing.T, dir string) *git.Notes {
	t.Helper()
	n, err := OpenNotes(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	n.Backoff = func(int) time.Duration { return 0 }
	return n
}

func repoWithCommits(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := gittest.Init(t)
	var shas []string
	for i := range n {
		gittest.WriteFile(t, dir, "f.txt", strings.Repeat("x", i+1))
		shas = append(shas, gittest.Commit(t, dir, "commit"))
	}
	return dir, shas
}

type summary struct {
	Commit   string
	Model    string
	Accuracy float64
	Digest   string
}

func summarize(entries []Entry) []summary {
	var out []summary
	for _, e := range entries {
		out = append(out, summary{Commit: e.Commit, Model: e.Record.Model, Accuracy: e.Record.Metrics["accuracy"], Digest: e.Digest})
	}
	return out
}

func TestNotesAddAndHistory(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 3)
	n := openNotes(t, dir)

	first := recordLine(t, "iris", shas[0], 0.90)
	old := recordLine(t, "iris", shas[2], 0.91)
	newer := recordLine(t, "iris", shas[2], 0.95)
	other := recordLine(t, "churn", shas[2], 0.80)
	for _, line := range [][]byte{first, old, other, newer} {
		if err := AddToNotes(t.Context(), n, line); err != nil {
			t.Fatal(err)
		}
	}

	// One note per commit, one line per model, sorted by model; recording
	// iris again on the same commit replaced its line.
	note, err := n.Show(t.Context(), shas[2])
	if err != nil {
		t.Fatal(err)
	}
	if want := string(other) + string(newer); string(note) != want {
		t.Errorf("note on HEAD\n got %s\nwant %s", note, want)
	}
	if note, _ := n.Show(t.Context(), shas[1]); note != nil {
		t.Errorf("note on a commit without records = %q", note)
	}

	got, err := History(t.Context(), n, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{Commit: shas[2], Model: "churn", Accuracy: 0.80, Digest: Digest(other)},
		{Commit: shas[2], Model: "iris", Accuracy: 0.95, Digest: Digest(newer)},
		{Commit: shas[0], Model: "iris", Accuracy: 0.90, Digest: Digest(first)},
	}
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	// The record read back is the record written.
	back, err := Decode(newer)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(back, got[1].Record); diff != "" {
		t.Errorf("record from the note (-want +got):\n%s", diff)
	}
	if got[0].Date.IsZero() {
		t.Error("entry has no date")
	}

	// Only what is reachable from the revision.
	got, err = History(t.Context(), n, shas[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Commit != shas[0] {
		t.Errorf("History(%s) = %v", shas[1], summarize(got))
	}
}

func TestNotesHistoryWithoutNotes(t *testing.T) {
	gittest.SetEnv(t)
	dir, _ := repoWithCommits(t, 1)
	got, err := History(t.Context(), openNotes(t, dir), "HEAD")
	if err != nil || len(got) != 0 {
		t.Errorf("History() = %v, %v; want nothing", got, err)
	}
}

func TestNotesHistorySkipsForeignLines(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 1)
	early := recordLine(t, "iris", shas[0], 0.5)
	late := recordLine(t, "iris", shas[0], 0.7) // finished later
	note := "written by hand\n" + `{"schema_version":2,"model":"iris","commit":{"sha":"` + shas[0] + `"}}` + "\n" +
		string(late) + string(early)
	cmd := []string{"notes", "--ref=" + NotesRef, "add", "-m", note, shas[0]}
	gittest.Git(t, dir, cmd...)

	got, err := History(t.Context(), openNotes(t, dir), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	// Two lines of one model (concurrent writers): the later run wins.
	want := []summary{{Commit: shas[0], Model: "iris", Accuracy: 0.7, Digest: Digest(late)}}
	if diff := cmp.Diff(want, summarize(got)); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
}

func TestNotesAddUnknownCommit(t *testing.T) {
	gittest.SetEnv(t)
	dir, _ := repoWithCommits(t, 1)
	missing := strings.Repeat("ab", 20)
	err := AddToNotes(t.Context(), openNotes(t, dir), recordLine(t, "iris", missing, 0.9))
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, diag.ErrInvalidInput) {
		t.Fatalf("Add() error = %v, want a NotFoundError", err)
	}
	if want := "commit " + missing + " is not in the repository at "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Add() error = %q, want prefix %q", err, want)
	}
}

func TestNotesAddRefusesNonRecords(t *testing.T) {
	gittest.SetEnv(t)
	dir, _ := repoWithCommits(t, 1)
	n := openNotes(t, dir)
	for _, data := range []string{"{}", "not json", "{\"model\":\"a\",\n\"commit\":{\"sha\":\"b\"}}"} {
		if err := AddToNotes(t.Context(), n, []byte(data)); err == nil {
			t.Errorf("Add(%q) accepted it", data)
		}
	}
}

func TestNotesIdentityFallback(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 1)
	// A CI runner: no identity in the environment or config, and git not
	// allowed to guess one.
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	gittest.Git(t, dir, "config", "user.useConfigOnly", "true")
	if err := AddToNotes(t.Context(), openNotes(t, dir), recordLine(t, "iris", shas[0], 0.9)); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Git(t, dir, "log", "-1", "--format=%an <%ae>", NotesRef); got != "podium <podium@localhost>" {
		t.Errorf("notes commit author = %q", got)
	}
}

// bareRemote makes a bare repository holding dir's history, as dir's
// origin, and returns its path.
func bareRemote(t *testing.T, dir string) string {
	t.Helper()
	remote := filepath.Join(t.TempDir(), "remote.git")
	gittest.Git(t, dir, "init", "-q", "--bare", "-b", "main", remote)
	gittest.Git(t, dir, "remote", "add", "origin", remote)
	gittest.Git(t, dir, "push", "-q", "origin", "main")
	return remote
}

func clone(t *testing.T, remote string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	gittest.Git(t, filepath.Dir(dir), "clone", "-q", remote, dir)
	return dir
}

func remoteNote(t *testing.T, remote, sha string) string {
	t.Helper()
	return gittest.Git(t, remote, "notes", "--ref="+NotesRef, "show", sha) + "\n"
}

func TestNotesPush(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 2)
	remote := bareRemote(t, dir)
	n := openNotes(t, dir)
	line := recordLine(t, "iris", shas[1], 0.9)
	if err := AddToNotes(t.Context(), n, line); err != nil {
		t.Fatal(err)
	}
	if err := n.Push(t.Context(), "origin"); err != nil {
		t.Fatal(err)
	}
	if got := remoteNote(t, remote, shas[1]); got != string(line) {
		t.Errorf("remote note\n got %s\nwant %s", got, line)
	}
	// Pushing again is a no-op that succeeds.
	if err := n.Push(t.Context(), "origin"); err != nil {
		t.Errorf("second push: %v", err)
	}
}

func TestNotesPushMergesWhatOthersPushed(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 2)
	remote := bareRemote(t, dir)
	a, b := clone(t, remote), clone(t, remote)

	// Job A records iris and churn on the first commit and pushes first.
	na := openNotes(t, a)
	irisA := recordLine(t, "iris", shas[0], 0.90)
	churnA := recordLine(t, "churn", shas[0], 0.70)
	for _, line := range [][]byte{irisA, churnA} {
		if err := AddToNotes(t.Context(), na, line); err != nil {
			t.Fatal(err)
		}
	}
	if err := na.Push(t.Context(), "origin"); err != nil {
		t.Fatal(err)
	}

	// Job B, from a clone without A's notes, records iris again on the
	// same commit (a rerun), fraud on it too, and iris on the second.
	nb := openNotes(t, b)
	irisB := recordLine(t, "iris", shas[0], 0.93)
	fraudB := recordLine(t, "fraud", shas[0], 0.60)
	secondB := recordLine(t, "iris", shas[1], 0.94)
	for _, line := range [][]byte{irisB, fraudB, secondB} {
		if err := AddToNotes(t.Context(), nb, line); err != nil {
			t.Fatal(err)
		}
	}
	if err := nb.Push(t.Context(), "origin"); err != nil {
		t.Fatal(err)
	}

	// Nothing is lost, and B's rerun replaced A's iris line.
	if got, want := remoteNote(t, remote, shas[0]), string(churnA)+string(fraudB)+string(irisB); got != want {
		t.Errorf("remote note on the first commit\n got %s\nwant %s", got, want)
	}
	if got := remoteNote(t, remote, shas[1]); got != string(secondB) {
		t.Errorf("remote note on the second commit\n got %s\nwant %s", got, secondB)
	}
	if out := gittest.Git(t, b, "for-each-ref", "refs/notes/"); strings.Contains(out, NotesRef+"-fetched") {
		t.Errorf("temporary ref left behind: %s", out)
	}
}

func TestNotesPushRefusedByRemoteIsNotRetried(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 1)
	remote := bareRemote(t, dir)
	hook := filepath.Join(remote, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho protected >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := openNotes(t, dir)
	calls := 0
	n.Backoff = func(int) time.Duration { calls++; return 0 }
	if err := AddToNotes(t.Context(), n, recordLine(t, "iris", shas[0], 0.9)); err != nil {
		t.Fatal(err)
	}
	err := n.Push(t.Context(), "origin")
	if err == nil || !strings.HasPrefix(err.Error(), "failed to push refs/notes/podium to origin: ") {
		t.Fatalf("Push() error = %v", err)
	}
	if calls != 0 {
		t.Errorf("retried %d times after the remote refused", calls)
	}
}

func TestNotesPushGivesUp(t *testing.T) {
	gittest.SetEnv(t)
	dir, shas := repoWithCommits(t, 1)
	remote := bareRemote(t, dir)
	// The push URL names a remote whose notes history is unrelated to the
	// one the fetch URL brings: every push is rejected however often
	// podium fetches and merges.
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.git")
	gittest.Git(t, dir, "init", "-q", "--bare", "-b", "main", elsewhere)
	for i, r := range []string{remote, elsewhere} {
		other := clone(t, remote)
		gittest.Git(t, other, "remote", "set-url", "origin", r)
		no := openNotes(t, other)
		if err := AddToNotes(t.Context(), no, recordLine(t, "churn", shas[0], float64(i)/10)); err != nil {
			t.Fatal(err)
		}
		if err := no.Push(t.Context(), "origin"); err != nil {
			t.Fatal(err)
		}
	}
	gittest.Git(t, dir, "remote", "set-url", "--push", "origin", elsewhere)

	n := openNotes(t, dir)
	waits := 0
	n.Backoff = func(int) time.Duration { waits++; return 0 }
	if err := AddToNotes(t.Context(), n, recordLine(t, "iris", shas[0], 0.9)); err != nil {
		t.Fatal(err)
	}
	err := n.Push(t.Context(), "origin")
	want := "failed to push refs/notes/podium to origin: still rejected after 5 attempts: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Push() error = %v, want prefix %q", err, want)
	}
	if waits != git.MaxPushAttempts-1 {
		t.Errorf("waited %d times, want %d", waits, git.MaxPushAttempts-1)
	}
}

func TestSetLine(t *testing.T) {
	t.Parallel()
	a1 := `{"model":"a","v":1}`
	a2 := `{"model":"a","v":2}`
	b := `{"model":"b"}`
	c := `{"model":"c"}`
	tests := []struct {
		name string
		note string
		line string
		want string
	}{
		{name: "empty note", note: "", line: a1, want: a1 + "\n"},
		{name: "replace a model", note: a1 + "\n" + b + "\n", line: a2, want: a2 + "\n" + b + "\n"},
		{name: "insert sorted", note: a1 + "\n" + c + "\n", line: b, want: a1 + "\n" + b + "\n" + c + "\n"},
		{name: "duplicates of the model collapse", note: a1 + "\n" + a2 + "\n" + b, line: a2, want: a2 + "\n" + b + "\n"},
		{name: "foreign lines kept last", note: "hand-written\n" + b + "\n\n  \n", line: a1, want: a1 + "\n" + b + "\nhand-written\n"},
		{name: "CRLF note", note: b + "\r\n", line: a1, want: a1 + "\n" + b + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(SetLine([]byte(tt.note), []byte(tt.line))); got != tt.want {
				t.Errorf("SetLine()\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
