package record

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/fingerprint"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInspectArtifact(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// A work tree: links may point anywhere inside it.
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, root, map[string]string{
		"model/weights.bin":        "0123456789",
		"model/nested/config.json": "{}",
		"model/odd\nname":          "x",
		"shared/tokenizer.json":    "tok",
	})
	// A link inside the boundary is hashed as its content, under its own name.
	if err := os.Symlink(filepath.Join("..", "shared"), filepath.Join(root, "model", "linked")); err != nil {
		t.Fatal(err)
	}
	fp, err := fingerprint.Compute(t.Context(), filepath.Join(root, "model"), &fingerprint.Options{Boundary: root})
	if err != nil {
		t.Fatal(err)
	}

	got, err := InspectArtifact(t.Context(), root, "model", fp.Digest)
	if err != nil {
		t.Fatal(err)
	}
	want := Artifact{Path: "model", Digest: fp.Digest, Size: 16, Files: []File{
		{Path: "model/linked/tokenizer.json", Digest: fingerprint.Bytes([]byte("tok")), Size: 3},
		{Path: "model/nested/config.json", Digest: fingerprint.Bytes([]byte("{}")), Size: 2},
		{Path: "model/odd\nname", Digest: fingerprint.Bytes([]byte("x")), Size: 1},
		{Path: "model/weights.bin", Digest: fingerprint.Bytes([]byte("0123456789")), Size: 10},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InspectArtifact (-want +got):\n%s", diff)
	}

	file, err := InspectArtifact(t.Context(), root, "model/weights.bin", "")
	if err != nil {
		t.Fatal(err)
	}
	wantFile := Artifact{Path: "model/weights.bin", Digest: fingerprint.Bytes([]byte("0123456789")), Size: 10,
		Files: []File{{Path: "model/weights.bin", Digest: fingerprint.Bytes([]byte("0123456789")), Size: 10}}}
	if diff := cmp.Diff(wantFile, file); diff != "" {
		t.Errorf("InspectArtifact(file) (-want +got):\n%s", diff)
	}
}

func TestInspectArtifactErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"model/weights.bin": "new weights"})
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := fingerprint.Bytes([]byte("old weights"))
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr string
	}{
		{name: "changed since train", path: "model/weights.bin", want: old,
			wantErr: "model/weights.bin: digest is " + fingerprint.Bytes([]byte("new weights")) + " but run.json records " + old},
		{name: "gone", path: "model/other.bin",
			wantErr: "model/other.bin: no such file or directory (the spec's artifact)"},
		{name: "empty directory", path: "empty",
			wantErr: "empty: no such file or directory (the artifact directory holds no files)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := InspectArtifact(t.Context(), root, tt.path, tt.want)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("InspectArtifact() error\n got %v\nwant %s", err, tt.wantErr)
			}
			if !errors.Is(err, diag.ErrInvalidInput) {
				t.Errorf("error %T is not invalid input", err)
			}
		})
	}
}

func TestInspectArtifactRefusesEscapingLink(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.txt": "do not hash me"})
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil { // the boundary
		t.Fatal(err)
	}
	writeFiles(t, root, map[string]string{"model/a.bin": "a"})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "model", "leak")); err != nil {
		t.Fatal(err)
	}
	_, err := InspectArtifact(t.Context(), root, "model", "")
	if err == nil || !strings.Contains(err.Error(), "resolves outside the boundary") {
		t.Errorf("InspectArtifact() error = %v, want the link refused", err)
	}
}

func TestSizes(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"data/train.csv":   "12345",
		"data/parts/a.csv": "123",
		"data/parts/b.csv": "1",
		"cache/blob":       "1234567",
	})
	if err := os.Symlink("../cache/blob", filepath.Join(root, "data", "linked.csv")); err != nil {
		t.Fatal(err)
	}
	got, err := Sizes(root, []string{"data/", "data/train.csv", "data/train.csv", "data/parts"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"data/": 16, "data/train.csv": 5, "data/parts": 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sizes (-want +got):\n%s", diff)
	}

	_, err = Sizes(root, []string{"data/missing.csv"})
	var missing *MissingError
	if !errors.As(err, &missing) || missing.Path != "data/missing.csv" {
		t.Errorf("Sizes(missing) error = %v, want a MissingError", err)
	}
}

func TestWalkFilesRefusesLoops(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"d/a": "a"})
	if err := os.Symlink("..", filepath.Join(root, "d", "up")); err != nil {
		t.Fatal(err)
	}
	_, err := walkFiles(filepath.Join(root, "d"))
	if err == nil || !strings.Contains(err.Error(), "a symbolic link loop") {
		t.Errorf("walkFiles() error = %v, want a loop error", err)
	}
}
