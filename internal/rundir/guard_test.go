package rundir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/diag"
)

func TestLockTakesTurns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, err := Lock(t.Context(), dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A second holder (another open file description, as another process
	// would have) waits, says so, and gives up after the wait.
	var notes []string
	_, err = Lock(t.Context(), dir, 150*time.Millisecond, func(msg string) { notes = append(notes, msg) })
	var lerr *LockedError
	if !errors.As(err, &lerr) || lerr.Dir != dir {
		t.Fatalf("second Lock: %v, want a *LockedError for %s", err, dir)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "waiting up to") {
		t.Errorf("notes = %q, want one waiting message", notes)
	}
	if !strings.Contains(err.Error(), "pid ") {
		t.Errorf("error %q does not name the holder", err)
	}

	// Once released, a waiting run gets it.
	got := make(chan error, 1)
	go func() {
		rel, err := Lock(context.Background(), dir, 5*time.Second, nil)
		if rel != nil {
			rel()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	release()
	if err := <-got; err != nil {
		t.Errorf("Lock after release: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	release, _ = Lock(t.Context(), dir, time.Second, nil)
	defer release()
	cancel()
	if _, err := Lock(ctx, dir, time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context: %v", err)
	}
}

func TestCheckNoSymlinks(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(root, p)
		os.MkdirAll(p, 0o755)
		return p
	}
	link := func(p string) string {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(outside, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mk("real/run/logs")
	tests := []struct {
		name     string
		setup    func() (dir, root string)
		wantLink string // "" when accepted
	}{
		{"real directories", func() (string, string) { return filepath.Join(root, "real/run"), root }, ""},
		{"not created yet", func() (string, string) { return filepath.Join(root, "new/run"), root }, ""},
		{"the run directory", func() (string, string) { return filepath.Join(root, "a/run"), root }, "a/run"},
		{"a parent below root", func() (string, string) { return filepath.Join(root, "b/run"), root }, "b"},
		{"logs", func() (string, string) { return filepath.Join(root, "c/run"), root }, "c/run/logs"},
		{"a parent above root is the machine's", func() (string, string) {
			return filepath.Join(root, "d/work/run"), filepath.Join(root, "d/work")
		}, ""},
	}
	link("a/run")
	link("b")
	mk("c/run")
	link("c/run/logs")
	os.MkdirAll(filepath.Join(outside, "work"), 0o755)
	link("d")
	for _, tt := range tests {
		dir, r := tt.setup()
		err := CheckNoSymlinks(dir, r, LogsDir, "run directory")
		var serr *SymlinkError
		switch {
		case tt.wantLink == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantLink != "" && !errors.As(err, &serr):
			t.Errorf("%s: error %v, want a *SymlinkError", tt.name, err)
		case tt.wantLink != "" && serr.Path != filepath.Join(root, tt.wantLink):
			t.Errorf("%s: names %s, want %s", tt.name, serr.Path, tt.wantLink)
		case tt.wantLink != "" && !errors.Is(err, diag.ErrInvalidInput):
			t.Errorf("%s: not invalid input", tt.name)
		}
	}
}
