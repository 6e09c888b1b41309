package scmtest

// What the tests of both backends (scm/github, scm/gitlab) share.

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/podium-ml/podium/internal/scm"
)

// ConcurrentUpserts is the convergence test both backends pass: in each of
// five rounds, eight podium processes (newHost returns a Host that shares
// nothing with the others) upsert one marked comment on a new pull request
// (open opens it from branch) at once, and exactly one comment must remain
// (comments lists them).
func ConcurrentUpserts(t *testing.T, open func(branch string) int, comments func(pr int) []Comment, newHost func() scm.Host) {
	t.Helper()
	const marker = "<!-- podium:report model=iris -->"
	for round := range 5 {
		pr := open(fmt.Sprintf("candidate-%d", round))
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = newHost().UpsertComment(t.Context(), pr, marker, fmt.Sprintf("run %d", i))
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := comments(pr); len(got) != 1 {
			t.Fatalf("round %d: %d comments, want 1: %+v", round, len(got), got)
		}
	}
}

// DeployFiles are the files of a typical deploy proposal.
var DeployFiles = map[string]string{
	"deploy/production/inference.yaml": "spec:\n  storageUri: gs://acme/iris/0123456789ab\n",
	".podium/registry/iris.json":       `{"version":"0123456789ab"}` + "\n",
}

// Change is a deploy proposal of files on branch podium/deploy/iris.
func Change(files map[string]string) scm.ChangeRequest {
	ch := scm.ChangeRequest{
		Branch:        "podium/deploy/iris",
		CommitMessage: "Deploy iris 0123456789ab",
		Title:         "Deploy iris 0123456789ab",
		Body:          "Promote iris to 0123456789ab.",
		Labels:        []string{"model-deploy"},
	}
	for path, content := range files {
		ch.Files = append(ch.Files, scm.File{Path: path, Content: []byte(content)})
	}
	return ch
}

// Log collects a backend's warnings (Config.Logf) from concurrent calls.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Logf appends one line.
func (l *Log) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", args...)
}

// String returns every line so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Repo is what ReadFileTest needs of a fake: both GitHub and GitLab are one.
type Repo interface {
	Head(branch string) string
	Commit(t testing.TB, branch string, files map[string]string, message string) string
}

// ReadFileTest checks host.ReadFile on a fake whose default branch, main,
// was created holding .podium/registry/iris.json = {"version":"a"}.
func ReadFileTest(t *testing.T, host scm.Host, fake Repo) {
	t.Helper()
	const file = ".podium/registry/iris.json"
	old := fake.Head("main")
	fake.Commit(t, "main", map[string]string{file: `{"version":"b"}`}, "promote b")
	tests := []struct {
		name, ref, path, want string
		wantErr               error
	}{
		{name: "default branch", path: file, want: `{"version":"b"}`},
		{name: "at a commit", ref: old, path: file, want: `{"version":"a"}`},
		{name: "missing file", ref: "main", path: "nope.json", wantErr: scm.ErrNotFound},
		{name: "missing ref", ref: "nope", path: file, wantErr: scm.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := host.ReadFile(t.Context(), tt.ref, tt.path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("content = %q, want %q", got, tt.want)
			}
		})
	}
}

// ConcurrentProposals has four runs propose the same change at once:
// exactly one pull request must exist afterwards (pulls lists them), each
// run must return it, and exactly one may say it created it.
func ConcurrentProposals(t *testing.T, host scm.Host, pulls func() []PullRequest) {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]*scm.PullRequest, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = host.ProposeChange(t.Context(), Change(DeployFiles))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	all := pulls()
	if len(all) != 1 {
		t.Fatalf("%d pull requests, want exactly 1", len(all))
	}
	created := 0
	for _, pr := range results {
		if pr.Number != all[0].Number {
			t.Errorf("a run returned #%d, want #%d", pr.Number, all[0].Number)
		}
		if pr.Created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d runs say they created the pull request, want 1", created)
	}
}
