package shipping

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// runSetup runs actions/setup/setup.sh with dist as PODIUM_DIST and cache as
// the tool cache, and returns its exit code, stdout and stderr.
func runSetup(t *testing.T, dist, cache string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "actions", "setup", "setup.sh"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PODIUM_DIST=" + dist, "RUNNER_TOOL_CACHE=" + cache, "HOME=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, strings.TrimSpace(stdout.String()), stderr.String()
}

// copyDist copies the test's release assets so a case can spoil them.
func copyDist(t *testing.T) string {
	t.Helper()
	src := podiumDist(t)
	dst := t.TempDir()
	for _, name := range []string{"checksums.txt", "podium_" + runtime.GOOS + "_" + runtime.GOARCH} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// setup installs only a binary that matches checksums.txt, keeps it in
// the tool cache, and checks the cached copy again on every use.
func TestSetupVerifiesChecksums(t *testing.T) {
	t.Parallel()
	asset := "podium_" + runtime.GOOS + "_" + runtime.GOARCH
	tests := []struct {
		name    string
		spoil   func(t *testing.T, dist string)
		wantErr string
	}{
		{name: "a good release installs"},
		{
			name: "a binary that differs from its checksum",
			spoil: func(t *testing.T, dist string) {
				f, err := os.OpenFile(filepath.Join(dist, asset), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Write([]byte("tampered"))
				f.Close()
			},
			wantErr: "does not match checksums.txt",
		},
		{
			name: "no checksum for this platform",
			spoil: func(t *testing.T, dist string) {
				os.WriteFile(filepath.Join(dist, "checksums.txt"), []byte(strings.Repeat("0", 64)+"  podium_plan9_mips\n"), 0o644)
			},
			wantErr: "checksums.txt has no SHA-256 for " + asset,
		},
		{
			name:    "no checksums.txt",
			spoil:   func(t *testing.T, dist string) { os.Remove(filepath.Join(dist, "checksums.txt")) },
			wantErr: "no checksums.txt in PODIUM_DIST",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dist := copyDist(t)
			if tt.spoil != nil {
				tt.spoil(t, dist)
			}
			cache := t.TempDir()
			code, bin, stderr := runSetup(t, dist, cache)
			if tt.wantErr != "" {
				if code == 0 || !strings.Contains(stderr, tt.wantErr) {
					t.Fatalf("exit %d, stderr %q; want a failure saying %q", code, stderr, tt.wantErr)
				}
				if entries, _ := filepath.Glob(filepath.Join(cache, "podium", "*", "*", "podium")); len(entries) != 0 {
					t.Errorf("a binary that failed the check was installed: %v", entries)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.HasPrefix(bin, cache) {
				t.Fatalf("installed %q, not in the tool cache %s", bin, cache)
			}
			out, err := exec.Command(bin, "version").CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "podium ") {
				t.Fatalf("%s version: %v %s", bin, err, out)
			}
			// The cached copy is checked on the next use: a changed one is
			// replaced with the release's.
			if err := os.WriteFile(bin, []byte("#!/bin/sh\necho pwned\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if code, again, stderr := runSetup(t, dist, cache); code != 0 || again != bin {
				t.Fatalf("second setup: exit %d, %q: %s", code, again, stderr)
			}
			if out, _ := exec.Command(bin, "version").CombinedOutput(); !strings.HasPrefix(string(out), "podium ") {
				t.Errorf("the tampered cached binary was kept: %s", out)
			}
		})
	}
}
