// Package e2e runs the podium binary end to end: a repository with a
// champion on a fake GitHub or GitLab (scmtest, backed by real bare git
// repositories), a pull request whose training beats it, and every command
// of the delivery loop from train to the merged deployment.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
)

// podiumBin is the binary under test, built once by TestMain.
var podiumBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The tests skip themselves; nothing to build.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "podium-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	podiumBin = filepath.Join(dir, "podium")
	build := exec.Command("go", "build", "-o", podiumBin, "github.com/podium-ml/podium/cmd/podium")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: failed to build podium:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the binary")
	}
}

// result is one podium process's outcome.
type result struct {
	code           int
	stdout, stderr string
}

// baseEnv is what every podium process gets: a PATH for git and sh, a
// private HOME, the fixed git identity, and nothing from the test's own
// environment (no stray GITHUB_* or CI_* variable, no real token).
func baseEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + t.TempDir(),
	}
	return append(env, gittest.Env...)
}

// podium runs the binary in dir with env and returns what it did. A
// process that runs past a minute is killed: the fakes answer at once,
// so that is a hang.
func podium(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, podiumBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("podium %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("podium %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("podium %s: killed after a minute\nstderr: %s", strings.Join(args, " "), res.stderr)
	}
	return res
}

// mustPodium runs podium and fails the test unless it exits 0.
func mustPodium(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	res := podium(t, dir, env, args...)
	if res.code != 0 {
		t.Fatalf("podium %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}
