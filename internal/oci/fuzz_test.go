package oci

import (
	"archive/tar"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseEntry: a manifest from the network is parsed into an entry or
// refused; an accepted one names only local, distinct output paths.
func FuzzParseEntry(f *testing.F) {
	const key = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	f.Add([]byte(`{"schemaVersion":2,"artifactType":"application/vnd.podium.step.v1","annotations":{"dev.podium.cache.key":"` + key + `"},"layers":[{"mediaType":"application/vnd.podium.output.tree.v1.tar","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":3,"annotations":{"org.opencontainers.image.title":"model","dev.podium.output.digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333"}}]}`))
	f.Add([]byte(`{"layers":[{"annotations":{"org.opencontainers.image.title":"../x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseEntry(data, key)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range e.Outputs {
			if !filepath.IsLocal(l.Path) || path.Clean(l.Path) != l.Path || strings.Contains(l.Path, "\\") || seen[l.Path] {
				t.Fatalf("accepted output path %q", l.Path)
			}
			seen[l.Path] = true
		}
	})
}

// FuzzReadTree: whatever a layer holds, extraction writes only inside its
// directory.
func FuzzReadTree(f *testing.F) {
	var good bytes.Buffer
	tw := tar.NewWriter(&good)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "a/", Mode: 0o755})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "a/b", Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	f.Add(good.Bytes())
	var evil bytes.Buffer
	tw = tar.NewWriter(&evil)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "/etc"})
	tw.Close()
	f.Add(evil.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "out")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		readTree(bytes.NewReader(data), dir)
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "out" {
			t.Fatalf("extraction wrote outside its directory: %v", entries)
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type()&os.ModeSymlink != 0 {
				t.Fatalf("extraction made a link: %s", p)
			}
			return nil
		})
	})
}
