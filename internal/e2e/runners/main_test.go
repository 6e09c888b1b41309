//go:build runners

// Package runners runs podium's shipped workflows and GitLab CI example in
// two real runner implementations that the project did not write: nektos/act
// (GitHub Actions, jobs on this machine, no Docker) and gitlab-ci-local (a
// shell executor). The code host is scmtest's fake GitHub or GitLab, served
// in this process on 127.0.0.1 with a real git repository; nothing else is
// reached. The tests assert on outcomes: the pull request comment, the
// deployment pull request, outputs, files and exit codes.
//
// `make e2e-runners` (scripts/e2e-runners.sh) installs the runners into
// .tools/ and runs these tests with the build tag `runners`:
//
//	PODIUM_ACT           the act binary
//	PODIUM_GCL           the gitlab-ci-local script (run with PODIUM_NODE)
//	PODIUM_NODE          Node 22
//	PODIUM_ACTIONS_DIR   the pinned upstream actions (actions/<name>@<sha>)
package runners

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	// repoRoot is the podium repository these tests run from.
	repoRoot string
	// dist holds podium_<os>_<arch> and checksums.txt, laid out as a
	// release's assets, for actions/setup (PODIUM_DIST).
	dist string
	// binDir holds a `podium` for the GitLab jobs that run in podium's image.
	binDir string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runners:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", "..", ".."))
	tmp, err := os.MkdirTemp("", "podium-runners-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	dist = filepath.Join(tmp, "dist")
	binDir = filepath.Join(tmp, "bin")
	asset := fmt.Sprintf("podium_%s_%s", runtime.GOOS, runtime.GOARCH)
	// The binary a release would publish: static, version-stamped.
	build := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/podium-ml/podium/internal/version.Version=v0.1.0",
		"-o", filepath.Join(dist, asset), "./cmd/podium")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("failed to build podium: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(dist, asset))
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256(data)
	if err := os.WriteFile(filepath.Join(dist, "checksums.txt"), []byte(hex.EncodeToString(sum[:])+"  "+asset+"\n"), 0o644); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(binDir, "podium"), data, 0o755); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// tool returns the value of the environment variable naming a tool, or
// skips the test when it is unset.
func tool(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: run make e2e-runners", name)
	}
	return v
}

// exampleFiles returns the files of examples/<name> a user would commit
// (no outputs of an earlier run), plus extra, keyed by slash path.
func exampleFiles(t *testing.T, name string, extra map[string]string) map[string]string {
	t.Helper()
	dir := filepath.Join(repoRoot, "examples", name)
	out := map[string]string{}
	ignored := map[string]bool{".podium/run": true, ".podium/cache": true, "bin": true, "model": true, "reports": true,
		"data/train.csv": true, "data/test.csv": true, "metrics.json": true, "__pycache__": true}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if ignored[rel] || d.Name() == "__pycache__" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// shipped returns the file at rel in the repository, as shipped.
func shipped(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// gitEnv is a fixed identity for the test's own git commands.
var gitEnv = []string{
	"GIT_AUTHOR_NAME=podium e2e", "GIT_AUTHOR_EMAIL=e2e@podium.invalid",
	"GIT_COMMITTER_NAME=podium e2e", "GIT_COMMITTER_EMAIL=e2e@podium.invalid",
	"GIT_CONFIG_NOSYSTEM=1",
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// run is one runner process's outcome.
type run struct {
	code int
	log  string
}

// runTool runs name with args in dir, its output kept in a log file that
// is printed when the test fails; it is killed after limit.
func runTool(t *testing.T, dir string, env []string, limit time.Duration, name string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args[:min(len(args), 4)], " "), time.Since(start).Round(time.Second))
	r := run{log: out.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, r.log)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: killed after %v\n%s", name, limit, tail(r.log, 200))
	}
	return r
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// goEnv returns `go env name`: the machine's Go caches keep the example's
// builds quick.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// apiJSON sends body as JSON to url with the header and decodes the 2xx
// answer into out.
func apiJSON(t *testing.T, method, url, header, value string, body, out any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, value)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s", method, url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
}

// makeShims returns a directory for the front of the jobs' PATH: kubectl,
// which stands in for the cluster and logs its arguments to kubectl.log
// there, and python3 as Debian's /usr/bin/python3 where it exists.
func makeShims(t *testing.T, tmp string) string {
	t.Helper()
	shims := filepath.Join(tmp, "shims")
	log := filepath.Join(shims, "kubectl.log")
	writeFile(t, filepath.Join(shims, "kubectl"), "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '"+log+"'\n", 0o755)
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		if err := os.Symlink("/usr/bin/python3", filepath.Join(shims, "python3")); err != nil {
			t.Fatal(err)
		}
	}
	return shims
}

// drifted returns the churn data with newer customers who pay more and
// stay less: the drift a retrain should follow.
func drifted(t *testing.T, data string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(data), "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		tenure, err1 := strconv.Atoi(f[1])
		charges, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad row %q", l)
		}
		f[1] = strconv.Itoa(max(1, tenure/3))
		f[2] = strconv.FormatFloat(charges*1.4, 'f', 2, 64)
		out = append(out, strings.Join(f, ","))
	}
	return strings.Join(out, "\n") + "\n"
}

// assertRestored fails unless train, in the log, found every step cached
// (restored, not run again): the model's own train step among them.
func assertRestored(t *testing.T, log string) {
	t.Helper()
	if ran := grepLines(log, `podium: [a-z]+: running`); ran != "" {
		t.Errorf("the default branch's train ran steps again instead of restoring them:\n%s", ran)
	}
	if grepLines(log, `podium: train: cached`) == "" {
		t.Errorf("the default branch's train did not restore the train step:\n%s", grepLines(log, "podium: "))
	}
}
