package scmtest

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
