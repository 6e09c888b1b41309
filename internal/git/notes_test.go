package git

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
)

const testRef = "refs/notes/test"

// setKey returns an edit that puts key=value in a note of sorted
// key=value lines, replacing the key's line.
func setKey(key, value string) func([]byte) []byte {
	return func(old []byte) []byte {
		lines := []string{key + "=" + value}
		for l := range strings.SplitSeq(strings.TrimSpace(string(old)), "\n") {
			if l != "" && !strings.HasPrefix(l, key+"=") {
				lines = append(lines, l)
			}
		}
		slices.Sort(lines)
		return []byte(strings.Join(lines, "\n") + "\n")
	}
}

func openTestNotes(t *testing.T, dir string) *Notes {
	t.Helper()
	repo, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	n := NewNotes(repo, testRef)
	n.Backoff = func(int) time.Duration { return 0 }
	return n
}

// Tests in this file set gittest's environment, so they are not parallel.

func TestNotesEditShowLog(t *testing.T) {
	gittest.SetEnv(t)
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "f", "1")
	first := gittest.Commit(t, dir, "first")
	gittest.WriteFile(t, dir, "f", "2")
	second := gittest.Commit(t, dir, "second")
	n := openTestNotes(t, dir)

	if log, err := n.Log(t.Context(), "HEAD"); err != nil || log != nil {
		t.Fatalf("Log() before any note = %v, %v; want nil", log, err)
	}
	for _, e := range []struct{ commit, key, value string }{{first, "a", "1"}, {second, "b", "1"}, {second, "a", "2"}, {second, "b", "3"}} {
		if err := n.Edit(t.Context(), e.commit, setKey(e.key, e.value)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := n.Show(t.Context(), second); string(got) != "a=2\nb=3\n" {
		t.Errorf("Show(second) = %q", got)
	}
	log, err := n.Log(t.Context(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, note := range log {
		got = append(got, note.Commit+" "+strings.TrimSpace(string(note.Text)))
	}
	if want := []string{second + " a=2\nb=3", first + " a=1"}; !slices.Equal(got, want) {
		t.Errorf("Log() = %q, want %q", got, want)
	}
	err = n.Edit(t.Context(), strings.Repeat("ab", 20), setKey("a", "1"))
	if !errors.Is(err, ErrNoCommit) {
		t.Errorf("Edit() on a missing commit = %v, want ErrNoCommit", err)
	}
}

func TestNotesPushReplaysEditsOnTheRemotesNotes(t *testing.T) {
	gittest.SetEnv(t)
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "f", "1")
	sha := gittest.Commit(t, dir, "first")
	remote := filepath.Join(t.TempDir(), "remote.git")
	gittest.Git(t, dir, "init", "-q", "--bare", "-b", "main", remote)
	gittest.Git(t, dir, "remote", "add", "origin", remote)
	gittest.Git(t, dir, "push", "-q", "origin", "main")
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	gittest.Git(t, filepath.Dir(a), "clone", "-q", remote, a)
	gittest.Git(t, filepath.Dir(b), "clone", "-q", remote, b)

	na, nb := openTestNotes(t, a), openTestNotes(t, b)
	waits := 0
	nb.Backoff = func(int) time.Duration { waits++; return 0 }
	ctx := context.Background()
	for _, e := range []struct {
		n          *Notes
		key, value string
	}{{na, "x", "a"}, {na, "y", "a"}, {nb, "x", "b"}, {nb, "z", "b"}} {
		if err := e.n.Edit(ctx, sha, setKey(e.key, e.value)); err != nil {
			t.Fatal(err)
		}
	}
	if err := na.Push(ctx, "origin"); err != nil {
		t.Fatal(err)
	}
	if err := nb.Push(ctx, "origin"); err != nil {
		t.Fatal(err)
	}
	// b was rejected once, merged a's note and replayed its own edits:
	// nothing a wrote is lost, and b's x wins.
	if got := gittest.Git(t, remote, "notes", "--ref="+testRef, "show", sha); got != "x=b\ny=a\nz=b" {
		t.Errorf("remote note = %q", got)
	}
	if waits != 1 {
		t.Errorf("b waited %d times, want 1", waits)
	}
	if refs := gittest.Git(t, b, "for-each-ref", "refs/notes/"); strings.Contains(refs, "-fetched") {
		t.Errorf("temporary ref left behind: %s", refs)
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		out  string
		want bool
	}{
		{out: "To /r.git\n!\trefs/notes/podium:refs/notes/podium\t[rejected] (fetch first)\nDone\n", want: true},
		{out: "To /r.git\n!\trefs/notes/podium:refs/notes/podium\t[rejected] (non-fast-forward)\nDone\n", want: true},
		{out: "To /r.git\n!\trefs/notes/podium:refs/notes/podium\t[remote rejected] (pre-receive hook declined)\nDone\n", want: false},
		{out: "!\trefs/notes/podium:refs/notes/podium\t[remote rejected] (cannot lock ref 'refs/notes/podium': is at 1 but expected 2)\n", want: true},
		{out: "!\trefs/notes/podium:refs/notes/podium\t[remote rejected] (protected branch hook declined)\n", want: false},
		{out: "", want: false},
	}
	for _, tt := range tests {
		if got := rejected([]byte(tt.out)); got != tt.want {
			t.Errorf("rejected(%q) = %v, want %v", tt.out, got, tt.want)
		}
	}
}
