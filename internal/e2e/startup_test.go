package e2e

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// initBudget is what one of podium's own packages may allocate while the
// process starts. Every command pays for every package's init, so work
// that only some commands need (a regexp, a table) belongs behind
// sync.OnceValue. A compiled regexp with a bounded repetition such as
// {0,99} is 50–150 kB: one of those in a var block goes over. The JSON
// Schema validator's copy in internal/third_party counts as podium's: its
// upstream compiles five meta-schemas in init, 1 MB.
const initBudget = 16 << 10

// TestStartupWorkIsLazy reads the runtime's init trace of `podium version`
// and fails on any podium package whose init allocates more than
// initBudget. It counts bytes, not time: bytes do not depend on the
// machine's load.
func TestStartupWorkIsLazy(t *testing.T) {
	t.Parallel()
	env := append(baseEnv(t), "GODEBUG=inittrace=1")
	res := mustPodium(t, t.TempDir(), env, "version")

	const prefix = "github.com/podium-ml/podium/"
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(res.stderr))
	for sc.Scan() {
		// init github.com/x/y @12 ms, 0.5 ms clock, 1024 bytes, 12 allocs
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[0] != "init" || fields[8] != "bytes," {
			continue
		}
		if !strings.HasPrefix(fields[1], prefix) {
			continue
		}
		seen++
		bytes, err := strconv.Atoi(fields[7])
		if err != nil {
			t.Fatalf("init trace line %q: %v", sc.Text(), err)
		}
		if bytes > initBudget {
			t.Errorf("%s allocates %d bytes at start-up (budget %d): make it lazy", strings.TrimPrefix(fields[1], prefix), bytes, initBudget)
		}
	}
	// The trace names a package only when its init does something; podium
	// has several (cli's command texts among them). None seen means the
	// trace format changed and this test checks nothing.
	if seen == 0 {
		t.Fatalf("no podium package in the init trace; stderr:\n%s", res.stderr)
	}
}
