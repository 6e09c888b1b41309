package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/rundir"
)

// TestConcurrentTrainsAgreeWithDisk runs four `podium train --force` at
// once in one workspace. Each step writes a random model; without a lock
// the runs interleave and run.json ends up recording a digest another
// run's model overwrote. The runs take turns (the waiting ones say so)
// and the final run.json's digest is the model on disk.
func TestConcurrentTrainsAgreeWithDisk(t *testing.T) {
	skipShort(t)
	t.Parallel()
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "podium.yaml"), []byte(`version: 1
model: m
pipeline:
  - name: train
    run: head -c 4096 /dev/urandom > model.tmp && sleep 0.2 && mv model.tmp model.bin
    outputs: [model.bin]
  - name: eval
    run: sleep 0.1 && cat model.bin > /dev/null
    inputs: [model.bin]
    needs: [train]
`), 0o644)
	env := baseEnv(t)
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Go(func() { results[i] = podium(t, work, env, "train", "--force", "--jobs", "1") })
	}
	wg.Wait()
	waited := 0
	for i, res := range results {
		if res.code != 0 {
			t.Fatalf("run %d: exit %d\nstderr: %s", i, res.code, res.stderr)
		}
		if strings.Contains(res.stderr, "is in use by another podium run (pid ") {
			waited++
		}
	}
	if waited == 0 {
		t.Error("no run said it waited for another")
	}
	run, err := rundir.ReadRun(filepath.Join(work, ".podium", "run"))
	if err != nil {
		t.Fatal(err)
	}
	disk, err := fingerprint.Compute(t.Context(), filepath.Join(work, "model.bin"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range run.Steps {
		if st.Name == "train" && st.Outputs["model.bin"] != disk.Digest {
			t.Errorf("run.json records model.bin %s; on disk it is %s", st.Outputs["model.bin"], disk.Digest)
		}
		if st.Name == "eval" && st.Inputs["model.bin"] != disk.Digest {
			t.Errorf("run.json records eval's input %s; on disk it is %s", st.Inputs["model.bin"], disk.Digest)
		}
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitFile(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err == nil {
				return pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s was not written", path)
	return 0
}

// TestKillNineTakesTheStepAlong SIGKILLs podium while a step (and a
// process the step started in the background) runs: both die with it,
// the previous run.json is still there and whole, and the next run
// removes the temporary files the killed one left.
func TestKillNineTakesTheStepAlong(t *testing.T) {
	skipShort(t)
	t.Parallel()
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "podium.yaml"), []byte(`version: 1
model: m
pipeline:
  - name: train
    run: |
      echo one line of log
      if [ -n "$HANG" ]; then
        sleep 300 &
        echo $! > grandchild.pid
        echo $$ > step.pid
        wait
      fi
`), 0o644)
	env := baseEnv(t)
	runDir := filepath.Join(work, ".podium", "run")
	mustPodium(t, work, env, "train")
	before, err := os.ReadFile(filepath.Join(runDir, rundir.RunFile))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, podiumBin, "train", "--force")
	cmd.Dir, cmd.Env = work, append(env, "HANG=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	step := waitFile(t, filepath.Join(work, "step.pid"))
	grandchild := waitFile(t, filepath.Join(work, "grandchild.pid"))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	defer syscall.Kill(grandchild, syscall.SIGKILL)
	defer syscall.Kill(step, syscall.SIGKILL)

	deadline := time.Now().Add(10 * time.Second)
	for (alive(step) || alive(grandchild)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(step) {
		t.Errorf("the step's shell (pid %d) outlived podium", step)
	}
	if alive(grandchild) {
		t.Errorf("the step's background process (pid %d) outlived podium", grandchild)
	}

	after, err := os.ReadFile(filepath.Join(runDir, rundir.RunFile))
	if err != nil {
		t.Fatalf("the previous run.json is gone: %v", err)
	}
	if !bytes.Equal(before, after) || !json.Valid(after) {
		t.Errorf("run.json changed under a killed run:\nbefore: %s\nafter: %s", before, after)
	}
	stale := temps(t, runDir)
	if len(stale) == 0 {
		t.Fatal("the killed run left no temporary file (the step's log should be one)")
	}

	res := mustPodium(t, work, env, "train", "--force")
	if left := temps(t, runDir); len(left) > 0 {
		t.Errorf("the next run left stale temporary files: %v", left)
	}
	if !strings.Contains(res.stderr, "temporary files an interrupted run left behind") {
		t.Errorf("the next run did not say it cleaned up:\n%s", res.stderr)
	}
}

func temps(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestSymlinkedRunDirIsRefused commits links where podium writes: the run
// directory, its logs/ and the step cache, each pointing outside the work
// tree. train refuses with exit 2 naming the link, runs nothing, and
// writes nothing through it.
func TestSymlinkedRunDirIsRefused(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for _, link := range []string{".podium/run", ".podium/run/logs", ".podium", ".podium/cache", ".podium/cache/steps"} {
		t.Run(link, func(t *testing.T) {
			t.Parallel()
			work, outside := t.TempDir(), t.TempDir()
			os.WriteFile(filepath.Join(work, "podium.yaml"), []byte("version: 1\nmodel: m\npipeline:\n  - {name: train, run: 'touch ran'}\n"), 0o644)
			os.MkdirAll(filepath.Join(work, filepath.Dir(link)), 0o755)
			if err := os.Symlink(outside, filepath.Join(work, link)); err != nil {
				t.Fatal(err)
			}
			res := podium(t, work, baseEnv(t), "train")
			if res.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, filepath.Join(work, link)+": ") || !strings.Contains(res.stderr, "symbolic link") {
				t.Errorf("stderr does not name the link %s:\n%s", link, res.stderr)
			}
			if _, err := os.Stat(filepath.Join(work, "ran")); err == nil {
				t.Error("the step ran")
			}
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Errorf("podium wrote through the link: %v", entries)
			}
		})
	}
}
