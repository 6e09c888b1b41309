package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/oci/registrytest"
)

func openStore(t *testing.T, host, repo string) *Store {
	t.Helper()
	r, err := ParseRemote("oci://" + host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(r, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func modelDir(t *testing.T) (dir, digest string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range map[string]string{"model/weights.bin": "w1w2w3", "model/config.json": `{"classes": 5}`} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := fingerprint.Compute(context.Background(), filepath.Join(dir, "model"), &fingerprint.Options{Boundary: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res.Digest
}

func TestPushArtifactAndAttach(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	s := openStore(t, reg.Host, "acme/weather")
	dir, fp := modelDir(t)

	ann := map[string]string{"dev.podium.model": "weather"}
	dry, err := s.PushArtifact(ctx, dir, "model", fp, "v1", ann, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FetchManifest(ctx, "v1"); err == nil {
		t.Fatal("a dry run pushed")
	}
	ref, err := s.PushArtifact(ctx, dir, "model", fp, "v1", ann, false)
	if err != nil {
		t.Fatal(err)
	}
	if dry.String() != ref.String() {
		t.Errorf("dry run reference %s, push gave %s", dry, ref)
	}
	if want := "oci://" + reg.Host + "/acme/weather@sha256:"; !strings.HasPrefix(ref.String(), want) {
		t.Errorf("reference %s, want %s…", ref, want)
	}
	m, desc, err := s.FetchManifest(ctx, ref.Desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != ref.Desc.Digest || m.ArtifactType != ArtifactTypeModel || len(m.Layers) != 1 ||
		m.Layers[0].Annotations[AnnotationDigest] != fp || m.Layers[0].Annotations[AnnotationPath] != "model" {
		t.Errorf("manifest = %+v", m)
	}
	// The tag names the same manifest: the digest reference is what deploys.
	if _, byTag, err := s.FetchManifest(ctx, "v1"); err != nil || byTag.Digest != ref.Desc.Digest {
		t.Errorf("v1 = %v, %v; want %s", byTag.Digest, err, ref.Desc.Digest)
	}

	statement := []byte(`{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "model"}]}`)
	att, err := s.Attach(ctx, ref, ArtifactTypeInToto, statement, nil)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := s.Referrers(ctx, ref, ArtifactTypeInToto)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Digest != att.Desc.Digest {
		t.Fatalf("referrers = %+v, want the statement's manifest %s", refs, att.Desc.Digest)
	}
	am, _, err := s.FetchManifest(ctx, att.Desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.FetchBlob(ctx, am.Layers[0])
	if err != nil || !bytes.Equal(got, statement) {
		t.Errorf("attached statement = %q, %v", got, err)
	}
}

// baseImage pushes a runnable base image built here: FROM scratch plus
// Debian's busybox-static as /bin/busybox, with /bin/sh linking to it.
func baseImage(t *testing.T, s *Store) ocispec.Manifest {
	t.Helper()
	bin := "/bin/busybox"
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: scripts/registry.sh install installs busybox-static", bin)
		}
		t.Skipf("%s is missing (apt-get install busybox-static)", bin)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data))})
	tw.Write(data)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "busybox"})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ld := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer.Bytes()), Size: int64(layer.Len())}
	if err := s.pushBlob(ctx, ld, func() (io.ReadSeekCloser, error) { return nopSeekCloser{bytes.NewReader(layer.Bytes())}, nil }, nil); err != nil {
		t.Fatal(err)
	}
	cfg := ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config:   ocispec.ImageConfig{Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"ls /models"}, User: "65534"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{ld.Digest}},
	}
	cd, _ := json.Marshal(cfg)
	cdesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cd), Size: int64(len(cd))}
	if err := s.pushBlob(ctx, cdesc, func() (io.ReadSeekCloser, error) { return nopSeekCloser{bytes.NewReader(cd)}, nil }, nil); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cdesc, Layers: []ocispec.Descriptor{ld}}
	if _, err := s.putManifest(ctx, m, "1"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestModelcar(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	baseStore := openStore(t, reg.Host, "base/busybox")
	base := baseImage(t, baseStore)
	s := openStore(t, reg.Host, "acme/weather-modelcar")
	dir, _ := modelDir(t)

	dry, err := s.Modelcar(ctx, baseStore, "1", dir, "model", "v1", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FetchManifest(ctx, "v1"); err == nil {
		t.Fatal("a dry run pushed")
	}
	ref, err := s.Modelcar(ctx, baseStore, "1", dir, "model", "v1", false)
	if err != nil {
		t.Fatal(err)
	}
	if dry.String() != ref.String() {
		t.Errorf("dry run reference %s, push gave %s", dry, ref)
	}
	m, _, err := s.FetchManifest(ctx, ref.Desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 2 || m.Layers[0].Digest != base.Layers[0].Digest {
		t.Fatalf("layers = %+v, want the base's busybox layer then the model's", m.Layers)
	}
	cd, err := s.FetchBlob(ctx, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(cd, &cfg); err != nil {
		t.Fatal(err)
	}
	// An uncompressed layer's diff ID is its digest: the image is runnable
	// only when rootfs lists every layer.
	if diff := cmp.Diff([]digest.Digest{m.Layers[0].Digest, m.Layers[1].Digest}, cfg.RootFS.DiffIDs); diff != "" {
		t.Errorf("diff IDs (-layers +config):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/sh", "-c"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("the base's entrypoint was not kept (-want +got):\n%s", diff)
	}
	// The base's layer was copied into the modelcar's repository.
	if ok, err := s.repo.Exists(ctx, m.Layers[0]); err != nil || !ok {
		t.Errorf("base layer in the modelcar's repository: %t, %v", ok, err)
	}
	rc, err := s.repo.Fetch(ctx, m.Layers[1])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"models/", "models/config.json", "models/weights.bin"}, names); diff != "" {
		t.Errorf("model layer (-want +got):\n%s", diff)
	}
}
