package git

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/gittest"
)

func TestBatchGet(t *testing.T) {
	t.Parallel()
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "a.json", "{}\n")
	gittest.WriteFile(t, dir, "sub/empty", "")
	gittest.Commit(t, dir, "one")
	repo := &Repo{Dir: dir, Env: gittest.Env}
	b, err := repo.StartBatch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// Many names at once: more than a pipe holds, answered in order.
	var names []string
	var want [][]byte
	for range 800 {
		names = append(names, "HEAD:a.json", "HEAD:nope", "HEAD:sub/empty")
		want = append(want, []byte("{}\n"), nil, []byte{})
	}
	got, err := b.Get(names...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	commit, err := b.Get("HEAD^{commit}")
	if err != nil || !strings.HasPrefix(string(commit[0]), "tree ") {
		t.Errorf("HEAD^{commit} = %q, %v", commit, err)
	}
	if _, err := b.Get("HEAD:a\nHEAD:b"); err == nil || !strings.Contains(err.Error(), "newline") {
		t.Errorf("a name with a newline: error = %v", err)
	}
}

// TestBatchFails: a cat-file that died says why (its stderr), and Get
// returns rather than waits.
func TestBatchFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  string
		ctx  func() context.Context
		want string
	}{
		{name: "not a repository", dir: t.TempDir(), ctx: t.Context,
			want: "git cat-file --batch: truncated cat-file output: fatal: not a git repository"},
		{name: "context cancelled", dir: gittest.Init(t), ctx: func() context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, want: "git cat-file --batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := (&Repo{Dir: tt.dir, Env: gittest.Env}).StartBatch(tt.ctx())
			if err != nil {
				if !strings.Contains(err.Error(), "context canceled") {
					t.Fatal(err)
				}
				return
			}
			defer b.Close()
			_, err = b.Get("HEAD:a.json")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want %s...", err, tt.want)
			}
		})
	}
}

// TestBatchObjectOverLimit: an object over the limit fails the read at
// once, even though git is still writing it to a pipe nobody will drain
// (a default branch can hold any file under the registry's directory).
func TestBatchObjectOverLimit(t *testing.T) {
	t.Parallel()
	dir := gittest.Init(t)
	// Larger than a pipe holds, so git blocks writing it.
	gittest.WriteFile(t, dir, "big.json", strings.Repeat("x", 1<<20))
	gittest.WriteFile(t, dir, "small.json", "{}\n")
	gittest.Commit(t, dir, "one")
	b, err := (&Repo{Dir: dir, Env: gittest.Env}).StartBatch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.limit = 1 << 10

	done := make(chan error, 1)
	go func() {
		_, err := b.Get("HEAD:big.json", "HEAD:small.json")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unexpected cat-file header") {
			t.Errorf("error = %v, want the header refused", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Get still blocked after 30s: git was left writing an object nobody reads")
	}
}
