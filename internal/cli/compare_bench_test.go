package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/gittest"
)

// BenchmarkCompareGit is compare's own work, without the process start-up
// bench/compare.sh also pays: a candidate with 10 slices judged against
// the champion on origin/main of a clone, as a pull request's CI runs it.
// Most of it is git's: the processes compare starts and waits for.
func BenchmarkCompareGit(b *testing.B) {
	gittest.SetEnv(b)
	const slices = 10
	metrics := func(v string) string {
		var s strings.Builder
		fmt.Fprintf(&s, `"accuracy": %s`, v)
		for i := 1; i <= slices; i++ {
			fmt.Fprintf(&s, `, "acc_by_region.r%02d": %s`, i, v)
		}
		return s.String()
	}
	up := gittest.Init(b)
	gittest.WriteFile(b, up, "podium.yaml", `version: 1
model: bench
gate:
  rules:
    - {metric: accuracy, direction: higher, min_delta: 0.01}
    - {metric: "acc_by_region.*", direction: higher, tolerance: 0.05}
`)
	gittest.WriteFile(b, up, ".podium/registry/bench.json", `{"schema_version": 1, "model": "bench", "version": "v1", "metrics": {`+metrics("0.8")+`},
 "commit": "`+strings.Repeat("a", 40)+`", "promoted_at": "2026-01-02T03:04:05Z"}`)
	gittest.Commit(b, up, "promote bench v1")
	gittest.Git(b, up, "checkout", "-q", "-b", "pr")
	gittest.Commit(b, up, "the pull request")
	gittest.Git(b, up, "checkout", "-q", "main")
	clone := b.TempDir()
	gittest.Git(b, clone, "clone", "-q", "--branch", "pr", up, ".")
	gittest.WriteFile(b, clone, "cand.json", "{"+metrics("0.85")+"}")
	args := []string{"compare", "--spec", filepath.Join(clone, "podium.yaml"), "--candidate", filepath.Join(clone, "cand.json"), "--json"}
	for b.Loop() {
		var out, errOut bytes.Buffer
		f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
		f.Platform = func() ci.Platform { return &citest.Platform{} }
		if code := Main(b.Context(), args, f); code != ExitOK || !strings.Contains(out.String(), `"decision": "promote"`) {
			b.Fatalf("exit code %d\n%s%s", code, &out, &errOut)
		}
	}
}
