package fingerprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr string
	}{
		{name: "file", path: "data/train.csv", want: "data/train.csv"},
		{name: "directory with slash", path: "model/", want: "model"},
		{name: "dot segments", path: "./a/./b/../c", want: "a/c"},
		{name: "the directory itself", path: ".", want: "."},
		{name: "non-ASCII", path: "données/été.csv", want: "données/été.csv"},
		{name: "empty", path: "", wantErr: "empty path"},
		{name: "parent", path: "../../x", wantErr: `"../../x": path leaves the spec's directory`},
		{name: "climbs after descending", path: "a/../../b", wantErr: `"a/../../b": path leaves the spec's directory`},
		{name: "absolute", path: "/etc/passwd", wantErr: `"/etc/passwd": path is absolute (write it relative to the spec's directory)`},
		{name: "drive letter", path: `C:\x`, wantErr: `"C:\\x": path contains a backslash (write paths with /)`},
		{name: "drive letter with slash", path: "c:/x", wantErr: `"c:/x": path is absolute (write it relative to the spec's directory)`},
		{name: "UNC", path: `\\server\share`, wantErr: `"\\\\server\\share": path contains a backslash (write paths with /)`},
		{name: "NUL", path: "model\x00.bin", wantErr: `"model\x00.bin": path contains a NUL byte`},
		{name: "long name", path: "a/" + strings.Repeat("n", 256), wantErr: `"a/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"...: a path element is longer than 255 bytes`},
		{name: "long path", path: strings.Repeat("d/", 2049), wantErr: `"d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/"...: path longer than 4096 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Local(tt.path)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Fatalf("error = %q, want %q", gotErr, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Local(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// FuzzArtifactPath checks that no spec path, however written, reaches
// outside the spec's directory: Local refuses it, or Compute under that
// boundary errors, or what Compute hashed is not the secret next door.
func FuzzArtifactPath(f *testing.F) {
	for _, seed := range []string{
		"model", "model/", "model/ok", "model/leak", "model/rel", "model/up/model/ok",
		"up", "up/secret", "../outside/secret", "/abs", `C:\x`, "a/../../b", "a\x00b",
		".", "..", "model/../..", "./model/./ok", strings.Repeat("a/", 300) + "b",
	} {
		f.Add(seed)
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	secret := "OUTSIDE-SECRET-" + strings.Repeat("x", 1000)
	layout{
		"outside/secret":  secret,
		"root/model/ok":   "ok",
		"root/model/rel":  "-> ../../outside/secret",
		"root/model/up":   "-> ..",
		"root/up":         "-> ../outside",
		"root/data/a.csv": "1\n",
	}.write(f, base)
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "model", "leak")); err != nil {
		f.Fatal(err)
	}
	forbidden := map[string]bool{
		Bytes([]byte(secret)): true,
		Bytes([]byte(Bytes([]byte(secret))[len(Prefix):] + "  secret\n")): true,
	}

	f.Fuzz(func(t *testing.T, p string) {
		clean, err := Local(p)
		if err != nil {
			return
		}
		joined := filepath.Join(root, filepath.FromSlash(clean))
		if rel, err := filepath.Rel(root, joined); err != nil || !(rel == "." || filepath.IsLocal(rel)) {
			t.Fatalf("Local(%q) = %q, which leaves the root", p, clean)
		}
		res, err := Compute(t.Context(), joined, &Options{Boundary: root, Workers: 2})
		if err != nil {
			return
		}
		if forbidden[res.Digest] || res.Bytes >= int64(len(secret)) {
			t.Fatalf("Compute(%q) read outside the root: %+v", clean, res)
		}
	})
}
