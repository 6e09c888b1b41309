package scmtest

// What the tests of both backends (scm/github, scm/gitlab) share.

import (
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
