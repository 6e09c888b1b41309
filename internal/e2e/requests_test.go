package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// TestRequestCounts pins how many requests the commands that talk to the
// host make: a review's comment (first run, and a rerun that finds it)
// and a propose (opening the PR/MR, and a rerun that finds it), on each
// host. A change in these numbers is a change in API use (and rate-limit
// budget): update them on purpose.
func TestRequestCounts(t *testing.T) {
	skipShort(t)
	want := map[string][4]int{
		// report first, report rerun, propose first, propose rerun
		"github": {4, 2, 13, 10},
		"gitlab": {5, 3, 11, 9},
	}
	for _, name := range []string{"github", "gitlab"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var h fakeHost
			if name == "github" {
				h = newGitHubWith(t, scmtest.GitHubOptions{})
			} else {
				h = newGitLab(t, gitlabCanary, seedFiles(t))
			}
			work, pr, sha, runDir := reviewRun(t, h)
			env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...)
			var got [4]int
			var log []string
			for i, args := range [][]string{
				{"report", "--run-dir", runDir, "--comment"},
				{"report", "--run-dir", runDir, "--comment"},
				{"propose", "--run-dir", runDir},
				{"propose", "--run-dir", runDir},
			} {
				before := h.count("*", "*")
				mustPodium(t, work, env, args...)
				got[i] = h.count("*", "*") - before
				for _, r := range h.requests()[before:] {
					log = append(log, fmt.Sprintf("%s %d: %s %s", args[0], i, r.Method, r.Path))
				}
			}
			t.Logf("%s: report %d (rerun %d), propose %d (rerun %d)\n%s", name, got[0], got[1], got[2], got[3], strings.Join(log, "\n"))
			if diff := cmp.Diff(want[name], got); diff != "" {
				t.Errorf("requests [report, report rerun, propose, propose rerun] (-want +got):\n%s", diff)
			}
		})
	}
}
