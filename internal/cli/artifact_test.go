package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/oci"
	"github.com/podium-ml/podium/internal/oci/ociref"
	"github.com/podium-ml/podium/internal/oci/registrytest"
	"github.com/podium-ml/podium/internal/spec"
)

func TestPushArtifactAttachesStatement(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "model"), 0o755)
	os.WriteFile(filepath.Join(dir, "model", "w.bin"), []byte("weights"), 0o644)
	statement := filepath.Join(dir, "statement.json")
	os.WriteFile(statement, []byte(`{"_type": "https://in-toto.io/Statement/v1"}`), 0o644)
	fp, err := fingerprint.Compute(ctx, filepath.Join(dir, "model"), &fingerprint.Options{Boundary: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := &spec.Spec{File: "podium.yaml", Dir: dir, Model: "tiny", Artifact: "model/"}
	remote := "oci://" + reg.Host + "/acme/tiny"
	opts := artifactOptions{Getenv: func(string) string { return "" }, Push: remote, Statement: statement}

	ref, err := pushArtifact(ctx, opts, s, &citest.Platform{}, io.Discard, fp.Digest, "0123456789ab", false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, remote+"@sha256:") {
		t.Fatalf("reference %q", ref)
	}
	r, _ := ociref.ParseRemote(remote)
	store, err := oci.Open(r, oci.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, desc, err := store.FetchManifest(ctx, "0123456789ab")
	if err != nil || remote+"@"+desc.Digest.String() != ref {
		t.Fatalf("the version tag names %v (%v), want %s", desc.Digest, err, ref)
	}
	refs, err := store.Referrers(ctx, oci.Ref{Remote: r, Desc: desc}, oci.ArtifactTypeInToto)
	if err != nil || len(refs) != 1 {
		t.Errorf("in-toto referrers = %v, %v; want the attached statement", refs, err)
	}
}
