package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
)

// Media and artifact types of models.
const (
	// ArtifactTypeModel is a model artifact: one layer, the model's file
	// or directory, as a step output's layer is.
	ArtifactTypeModel = "application/vnd.podium.model.v1"
	// ArtifactTypeInToto is an in-toto statement attached to a model.
	ArtifactTypeInToto = "application/vnd.in-toto+json"
	// modelcarDir is where KServe's OCI storage expects a model's files.
	modelcarDir = "models"
)

// Ref is an immutable reference to a manifest in a remote.
type Ref struct {
	Remote Remote
	Desc   ocispec.Descriptor
}

// String is oci://host/repository@sha256:…, what deploy templates get as
// {{ .Artifact.OCI }}.
func (r Ref) String() string { return r.Remote.String() + "@" + r.Desc.Digest.String() }

// PushArtifact pushes the file or directory path (relative to dir, with
// its fingerprint) as a model artifact, tagged tag when not "". With
// dryRun it sends nothing and returns the reference a push would give:
// the layer and the manifest are deterministic.
func (s *Store) PushArtifact(ctx context.Context, dir, path, fingerprint, tag string, annotations map[string]string, dryRun bool) (Ref, error) {
	l, err := s.prepareOutput(dir, Output{Path: path, Digest: fingerprint})
	if err != nil {
		return Ref{}, fmt.Errorf("failed to pack %s: %w", path, err)
	}
	defer l.cleanup()
	if dryRun {
		m := artifactManifest(ArtifactTypeModel, []ocispec.Descriptor{l.desc}, nil, annotations)
		data, err := json.Marshal(m)
		if err != nil {
			return Ref{}, err
		}
		return Ref{Remote: s.remote, Desc: ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data)), ArtifactType: m.ArtifactType}}, nil
	}
	if err := s.pushBlob(ctx, l.desc, l.open, nil); err != nil {
		return Ref{}, fmt.Errorf("failed to push %s to %s: %w", path, s.remote, err)
	}
	return s.pushManifest(ctx, ArtifactTypeModel, []ocispec.Descriptor{l.desc}, nil, tag, annotations)
}

func artifactManifest(artifactType string, layers []ocispec.Descriptor, subject *ocispec.Descriptor, annotations map[string]string) ocispec.Manifest {
	return ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       ocispec.Descriptor{MediaType: ocispec.MediaTypeEmptyJSON, Digest: ocispec.DescriptorEmptyJSON.Digest, Size: ocispec.DescriptorEmptyJSON.Size},
		Layers:       layers,
		Subject:      subject,
		Annotations:  annotations,
	}
}

// Attach pushes data (of mediaType, e.g. an in-toto statement) as a
// referrer of subject: a manifest whose subject is subject, found through
// the referrers API, or the tag-schema fallback on registries without it.
func (s *Store) Attach(ctx context.Context, subject Ref, artifactType string, data []byte, annotations map[string]string) (Ref, error) {
	desc := ocispec.Descriptor{MediaType: artifactType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := s.pushBlob(ctx, desc, func() (io.ReadSeekCloser, error) { return nopSeekCloser{bytes.NewReader(data)}, nil }, nil); err != nil {
		return Ref{}, fmt.Errorf("failed to push to %s: %w", s.remote, err)
	}
	sub := ocispec.Descriptor{MediaType: subject.Desc.MediaType, Digest: subject.Desc.Digest, Size: subject.Desc.Size}
	return s.pushManifest(ctx, artifactType, []ocispec.Descriptor{desc}, &sub, "", annotations)
}

// Referrers lists the manifests attached to subject with artifactType
// ("" for all).
func (s *Store) Referrers(ctx context.Context, subject Ref, artifactType string) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	err := s.repo.Referrers(ctx, subject.Desc, artifactType, func(refs []ocispec.Descriptor) error {
		out = append(out, refs...)
		return nil
	})
	return out, err
}

func (s *Store) pushManifest(ctx context.Context, artifactType string, layers []ocispec.Descriptor, subject *ocispec.Descriptor, tag string, annotations map[string]string) (Ref, error) {
	if err := s.pushBlob(ctx, ocispec.DescriptorEmptyJSON, func() (io.ReadSeekCloser, error) {
		return nopSeekCloser{bytes.NewReader(ocispec.DescriptorEmptyJSON.Data)}, nil
	}, nil); err != nil {
		return Ref{}, fmt.Errorf("failed to push to %s: %w", s.remote, err)
	}
	return s.putManifest(ctx, artifactManifest(artifactType, layers, subject, annotations), tag)
}

func (s *Store) putManifest(ctx context.Context, m ocispec.Manifest, tag string) (Ref, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return Ref{}, err
	}
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data)), ArtifactType: m.ArtifactType}
	if tag != "" {
		err = s.repo.PushReference(ctx, desc, bytes.NewReader(data), tag)
	} else {
		err = s.repo.Manifests().Push(ctx, desc, bytes.NewReader(data))
	}
	if err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return Ref{}, fmt.Errorf("failed to push a manifest to %s: %w", s.remote, err)
	}
	return Ref{Remote: s.remote, Desc: desc}, nil
}

// FetchManifest returns the manifest reference names (a tag or digest)
// and its descriptor.
func (s *Store) FetchManifest(ctx context.Context, reference string) (ocispec.Manifest, ocispec.Descriptor, error) {
	var m ocispec.Manifest
	desc, rc, err := s.repo.FetchReference(ctx, reference)
	if err != nil {
		return m, desc, fmt.Errorf("failed to fetch %s:%s: %w", s.remote, reference, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return m, desc, err
	}
	if digest.FromBytes(data) != desc.Digest {
		return m, desc, fmt.Errorf("%s:%s: manifest does not match its digest %s: refused", s.remote, reference, desc.Digest)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, desc, fmt.Errorf("%s:%s: not a manifest: %w", s.remote, reference, err)
	}
	return m, desc, nil
}

// FetchBlob returns a blob's bytes, checked against its digest; for
// small blobs (configs, statements).
func (s *Store) FetchBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxManifestBytes {
		return nil, fmt.Errorf("blob %s: %d bytes is too large to read whole", desc.Digest, desc.Size)
	}
	rc, err := s.repo.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	v := newVerifier(io.TeeReader(rc, &buf), desc.Digest.String(), desc.Size)
	if err := v.check(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Modelcar builds a KServe modelcar: the image base (an image manifest in
// the store named by base, a tag or digest, or in another store baseFrom)
// with one more layer holding the file or directory dir/path under
// /models, and pushes it tagged tag. The image runs as the base does
// (entrypoint, cmd, env and user are kept); KServe's storage container
// reads the model from /models. With dryRun it only reads the base and
// returns the reference a push would give.
func (s *Store) Modelcar(ctx context.Context, baseFrom *Store, base, dir, path, tag string, dryRun bool) (Ref, error) {
	if baseFrom == nil {
		baseFrom = s
	}
	bm, _, err := baseFrom.FetchManifest(ctx, base)
	if err != nil {
		return Ref{}, err
	}
	if bm.MediaType != ocispec.MediaTypeImageManifest || bm.Config.MediaType != ocispec.MediaTypeImageConfig {
		return Ref{}, fmt.Errorf("base %s: not an OCI image (manifest %q, config %q)", base, bm.MediaType, bm.Config.MediaType)
	}
	cfgData, err := baseFrom.FetchBlob(ctx, bm.Config)
	if err != nil {
		return Ref{}, fmt.Errorf("base %s: config: %w", base, err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		return Ref{}, fmt.Errorf("base %s: config: %w", base, err)
	}
	// The base's layers, copied when the base lives elsewhere.
	for _, l := range bm.Layers {
		if baseFrom == s || dryRun {
			continue
		}
		if err := s.pushBlob(ctx, l, func() (io.ReadSeekCloser, error) { return baseFrom.fetchToTemp(ctx, l) }, nil); err != nil {
			return Ref{}, fmt.Errorf("failed to copy base layer %s: %w", l.Digest, err)
		}
	}
	layer, err := s.pushModelLayer(ctx, filepath.Join(dir, filepath.FromSlash(path)), dryRun)
	if err != nil {
		return Ref{}, err
	}
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, layer.Digest)
	cfg.History = append(cfg.History, ocispec.History{CreatedBy: "podium: model files under /" + modelcarDir, Comment: path})
	newCfg, err := json.Marshal(cfg)
	if err != nil {
		return Ref{}, err
	}
	cfgDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(newCfg), Size: int64(len(newCfg))}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgDesc,
		Layers:    append(append([]ocispec.Descriptor{}, bm.Layers...), layer),
	}
	if dryRun {
		data, err := json.Marshal(m)
		if err != nil {
			return Ref{}, err
		}
		return Ref{Remote: s.remote, Desc: ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}}, nil
	}
	if err := s.pushBlob(ctx, cfgDesc, func() (io.ReadSeekCloser, error) { return nopSeekCloser{bytes.NewReader(newCfg)}, nil }, nil); err != nil {
		return Ref{}, err
	}
	return s.putManifest(ctx, m, tag)
}

// pushModelLayer writes the model as an uncompressed image layer (its
// digest is its diff ID) with every file under models/.
func (s *Store) pushModelLayer(ctx context.Context, src string, dryRun bool) (ocispec.Descriptor, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	f, err := os.CreateTemp(s.opts.TempDir, "podium-modelcar-*.tar")
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	cw := &countWriter{}
	w := io.MultiWriter(f, h, cw)
	if fi.IsDir() {
		err = writePrefixedTree(w, src, modelcarDir)
	} else {
		err = writeSingleFile(w, src, modelcarDir+"/"+filepath.Base(src))
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), Size: cw.n}
	if dryRun {
		return desc, nil
	}
	return desc, s.pushBlob(ctx, desc, func() (io.ReadSeekCloser, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return nopSeekCloser{f}, nil
	}, nil)
}

// writePrefixedTree is writeTree with every name under prefix/, and the
// prefix directory itself first.
func writePrefixedTree(w io.Writer, dir, prefix string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTree(pw, dir)) }()
	tr := tar.NewReader(pr)
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + "/", Mode: 0o755, Format: tar.FormatPAX}); err != nil {
		pr.CloseWithError(err)
		return err
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			pr.CloseWithError(err)
			return err
		}
		h.Name = prefix + "/" + strings.TrimPrefix(h.Name, "./")
		if err := tw.WriteHeader(h); err != nil {
			pr.CloseWithError(err)
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			pr.CloseWithError(err)
			return err
		}
	}
	return tw.Close()
}

func writeSingleFile(w io.Writer, src, name string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: modelcarDir + "/", Mode: 0o755, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: fileMode(fi.Mode()), Size: fi.Size(), Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	return tw.Close()
}

// fetchToTemp downloads a blob into a temporary file (removed on Close),
// checked against its digest, for a push elsewhere.
func (s *Store) fetchToTemp(ctx context.Context, desc ocispec.Descriptor) (io.ReadSeekCloser, error) {
	rc, err := s.repo.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.opts.TempDir, "podium-blob-*")
	if err != nil {
		return nil, err
	}
	v := newVerifier(rc, desc.Digest.String(), desc.Size)
	if _, err := io.Copy(f, v); err == nil {
		err = v.check()
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &tempFile{f}, nil
}

type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	os.Remove(t.Name())
	return err
}
