package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/fingerprint"
)

func TestFingerprintCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"model/w": "w", "data.csv": "x\n"})
	file, model := filepath.Join(dir, "data.csv"), filepath.Join(dir, "model")

	platform := &citest.Platform{}
	f, io := newTestFactory(t, nil)
	f.Platform = func() ci.Platform { return platform }
	if code := runCLI(t, f, "fingerprint", file, model, "--json"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, io.Err)
	}
	var got []fingerprint.Result
	if err := json.Unmarshal(io.Out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON array: %v\n%s", err, io.Out)
	}
	want := []fingerprint.Result{
		// sha256sum of "x\n", and of the listing of model/ (one file, w).
		{Path: file, Digest: "sha256:73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac", Files: 1, Bytes: 2},
		{Path: model, Digest: "sha256:06866b00730f1f8afc533604d7667a0edec9dcc41ce1abe3782b52de8cbadfb0", Files: 1, Bytes: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if _, ok := platform.Outputs()["digest"]; ok {
		t.Errorf("digest output set for two paths")
	}
	var outDigests []fingerprint.Result
	if err := json.Unmarshal([]byte(platform.Outputs()["digests"]), &outDigests); err != nil || len(outDigests) != 2 {
		t.Errorf("digests output = %q", platform.Outputs()["digests"])
	}

	f, io = newTestFactory(t, nil)
	f.Platform = func() ci.Platform { return platform }
	if code := runCLI(t, f, "fingerprint", file); code != ExitOK {
		t.Fatalf("exit %d: %s", code, io.Err)
	}
	if got, want := io.Out.String(), want[0].Digest+"  "+file+"\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if platform.Outputs()["digest"] != want[0].Digest {
		t.Errorf("digest output = %q", platform.Outputs()["digest"])
	}
}

func TestFingerprintErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"model/w": "w"})
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "model", "env")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no path", nil, ExitInvalid, "requires at least 1 arg(s)"},
		{"missing", []string{filepath.Join(dir, "nope")}, ExitInvalid, filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{"escaping link", []string{filepath.Join(dir, "model")}, ExitInvalid, fmt.Sprintf("%q -> \"/proc/self/environ\": resolves outside the boundary %q\n", filepath.Join(dir, "model", "env"), filepath.Join(dir, "model"))},
		{"device", []string{"/dev/null"}, ExitInvalid, "/dev/null: not a regular file or directory\n"},
		{"NUL", []string{"a\x00b"}, ExitInvalid, `invalid path "a\x00b": empty or contains a NUL byte`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, io := newTestFactory(t, nil)
			code := runCLI(t, f, append([]string{"fingerprint"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d\nstderr: %s", code, tt.wantCode, io.Err)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", io.Err, tt.wantErr)
			}
		})
	}
}

func TestFingerprintProgressLine(t *testing.T) {
	t.Parallel()
	f, io := newTestFactory(t, nil)
	p := &progressLine{io: f.IO, path: "data/"}
	p.update(10, 100) // small trees show nothing
	p.finish()
	if io.Err.Len() != 0 {
		t.Errorf("progress for a small tree: %q", io.Err)
	}
	p.update(3<<29, 2<<30)
	p.update(2<<30, 2<<30)
	p.finish()
	want := "\rhashing data/: 1.5 GiB of 2.0 GiB (75%)\033[K\rhashing data/: 2.0 GiB of 2.0 GiB (100%)\033[K\n"
	if got := io.Err.String(); got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}
