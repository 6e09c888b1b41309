package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/httpclient"
)

// maxManifestBytes bounds a manifest read: an entry with a thousand
// outputs is far below it.
const maxManifestBytes = 4 << 20

// maxOutputs bounds the layers of one entry.
const maxOutputs = 1000

// Options configure a Store.
type Options struct {
	// Credential is offered to the remote's host only (FindCredential).
	Credential Credential
	// Transport sends the requests; nil means podium's retrying client
	// (internal/httpclient) with timeouts long enough for large layers.
	Transport http.RoundTripper
	// TempDir holds layers being written or restored; it should be on the
	// file system of the outputs, so a verified output is renamed into
	// place. "" means the system's.
	TempDir string
	// Logf receives retries and progress.
	Logf func(format string, args ...any)
}

// Store is a step cache in one registry repository.
type Store struct {
	remote Remote
	repo   *remote.Repository
	opts   Options
}

// Open returns the store at r. It sends nothing yet.
func Open(r Remote, opts Options) (*Store, error) {
	repo, err := remote.NewRepository(r.Host + "/" + r.Repository)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", r, err)
	}
	repo.PlainHTTP = Loopback(r.Host)
	tr := opts.Transport
	if tr == nil {
		tr = httpclient.NewTransport(httpclient.Options{
			// A layer can be gigabytes: an attempt may take long; the
			// retry policy still bounds how often and how long we wait.
			AttemptTimeout: time.Hour,
			MaxElapsed:     2 * time.Hour,
			// A blob is as large as the output it holds; what podium
			// reads is bounded by the size its descriptor states
			// (newVerifier reads at most one byte more).
			MaxBodySize: 1 << 40,
			Logf:        opts.Logf,
		})
	}
	// The outer client follows redirects (to a blob store's signed URL)
	// and, being net/http's, drops the Authorization header when one
	// leads to another host; originGuard refuses the rest.
	hc := &http.Client{Transport: &originGuard{host: r.Host, next: tr}}
	repo.Client = &auth.Client{
		Client:     hc,
		Credential: opts.Credential.credentialFunc(),
		Cache:      auth.NewCache(),
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Store{remote: r, repo: repo, opts: opts}, nil
}

// originGuard keeps credentials on their origin. A request to the
// registry's host goes as it is. A request to another host (a redirect to
// a blob store, an upload location elsewhere) loses its Authorization
// header, unless it goes to the token service the registry itself named
// in a 401 (WWW-Authenticate realm, e.g. GitLab's /jwt/auth) over HTTPS:
// that is where a registry's credentials are meant to go.
type originGuard struct {
	host string
	next http.RoundTripper

	mu     sync.Mutex
	realms map[string]bool // scheme://host/path
}

var realmParam = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\brealm="([^"]*)"`) })

func (g *originGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	same := strings.EqualFold(req.URL.Host, g.host)
	if !same && req.Header.Get("Authorization") != "" && !g.isRealm(req.URL) {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	resp, err := g.next.RoundTrip(req)
	if err == nil && same && resp.StatusCode == http.StatusUnauthorized {
		for _, h := range resp.Header.Values("Www-Authenticate") {
			if m := realmParam().FindStringSubmatch(h); m != nil {
				if u, perr := url.Parse(m[1]); perr == nil && (u.Scheme == "https" || Loopback(u.Host) && strings.EqualFold(u.Host, g.host)) {
					g.mu.Lock()
					if g.realms == nil {
						g.realms = map[string]bool{}
					}
					g.realms[u.Scheme+"://"+strings.ToLower(u.Host)+u.Path] = true
					g.mu.Unlock()
				}
			}
		}
	}
	return resp, err
}

func (g *originGuard) isRealm(u *url.URL) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.realms[u.Scheme+"://"+strings.ToLower(u.Host)+u.Path]
}

// Output is one output of a step, as the pipeline knows it.
type Output struct {
	// Path is slash-separated and relative to the spec's directory.
	Path string
	// Digest is its fingerprint ("sha256:<hex>").
	Digest string
}

// Entry is a cache entry found in the registry.
type Entry struct {
	Step     string
	Key      string
	Manifest string // the manifest's digest
	Outputs  []Layer
	// Annotations are the manifest's, podium's own included.
	Annotations map[string]string
}

// Layer is one output in an entry.
type Layer struct {
	Output
	desc ocispec.Descriptor
}

// Size is the layer's size in bytes.
func (l Layer) Size() int64 { return l.desc.Size }

// Tag is the tag an entry for key is pushed under: "step-<hex>". A key
// that is not a sha256 digest is hashed first, so any key makes a valid
// tag (at most 128 characters of [A-Za-z0-9_.-]).
func Tag(key string) string {
	hexKey, ok := strings.CutPrefix(key, "sha256:")
	if !ok || !hex64().MatchString(hexKey) {
		sum := sha256.Sum256([]byte(key))
		hexKey = hex.EncodeToString(sum[:])
	}
	return "step-" + hexKey
}

var hex64 = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })

// Lookup returns the entry for key, or nil when there is none. It costs
// one request: a GET of the manifest by its tag.
func (s *Store) Lookup(ctx context.Context, key string) (*Entry, error) {
	desc, rc, err := s.repo.FetchReference(ctx, Tag(key))
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to look up %s:%s: %w", s.remote, Tag(key), err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s:%s: %w", s.remote, Tag(key), err)
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("%s:%s: manifest larger than %d bytes", s.remote, Tag(key), maxManifestBytes)
	}
	e, err := parseEntry(data, key)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", s.remote, Tag(key), err)
	}
	e.Manifest = desc.Digest.String()
	return e, nil
}

// parseEntry reads a manifest as an entry for key, refusing anything that
// is not one: a manifest is data from the network.
func parseEntry(data []byte, key string) (*Entry, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not a manifest: %w", err)
	}
	if m.ArtifactType != ArtifactTypeStep {
		return nil, fmt.Errorf("artifact type %q is not a podium step entry", m.ArtifactType)
	}
	if got := m.Annotations[AnnotationKey]; got != key {
		return nil, fmt.Errorf("entry is for key %q, not %q", got, key)
	}
	if len(m.Layers) > maxOutputs {
		return nil, fmt.Errorf("%d layers: more than %d", len(m.Layers), maxOutputs)
	}
	e := &Entry{Step: m.Annotations[AnnotationStep], Key: key, Annotations: m.Annotations}
	seen := map[string]bool{}
	for i, l := range m.Layers {
		p := l.Annotations[AnnotationPath]
		d := l.Annotations[AnnotationDigest]
		switch {
		case l.MediaType != MediaTypeFile && l.MediaType != MediaTypeTree:
			return nil, fmt.Errorf("layer %d: media type %q", i, l.MediaType)
		case !filepath.IsLocal(p) || p != path.Clean(p) || strings.Contains(p, "\\") || p == ".":
			return nil, fmt.Errorf("layer %d: path %q is not a local path", i, p)
		case seen[p]:
			return nil, fmt.Errorf("layer %d: path %q twice", i, p)
		case !strings.HasPrefix(d, "sha256:") || !hex64().MatchString(d[7:]):
			return nil, fmt.Errorf("layer %d: output digest %q", i, d)
		case l.Digest.Validate() != nil || l.Digest.Algorithm() != digest.SHA256 || l.Size < 0:
			return nil, fmt.Errorf("layer %d: blob digest %q", i, l.Digest)
		case l.MediaType == MediaTypeFile && l.Digest.String() != d:
			return nil, fmt.Errorf("layer %d: a file's blob digest must be its output digest", i)
		}
		seen[p] = true
		e.Outputs = append(e.Outputs, Layer{Output: Output{Path: p, Digest: d}, desc: l})
	}
	return e, nil
}

// Restore writes e's outputs under dir. Each layer is fetched into a
// temporary place, its blob checked against its sha256 and size, the
// restored output's fingerprint checked against the entry; only then is
// the output moved into place (replacing what was there). Any mismatch
// refuses the entry, and nothing of it is used.
func (s *Store) Restore(ctx context.Context, e *Entry, dir string) error {
	tmp, err := os.MkdirTemp(s.opts.TempDir, "podium-restore-*")
	if err != nil {
		return fmt.Errorf("failed to restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	staged := make([]string, len(e.Outputs))
	for i, l := range e.Outputs {
		p, err := s.fetchLayer(ctx, l, tmp, i)
		if err != nil {
			return fmt.Errorf("failed to restore %s from %s: %w", l.Path, s.remote, err)
		}
		staged[i] = p
	}
	for i, l := range e.Outputs {
		target := filepath.Join(dir, filepath.FromSlash(l.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("failed to restore %s: %w", l.Path, err)
		}
		if err := os.RemoveAll(target); err != nil {
			return fmt.Errorf("failed to restore %s: %w", l.Path, err)
		}
		if err := os.Rename(staged[i], target); err != nil {
			return fmt.Errorf("failed to restore %s: %w", l.Path, err)
		}
	}
	return nil
}

// fetchLayer fetches and checks one layer into tmp and returns where.
func (s *Store) fetchLayer(ctx context.Context, l Layer, tmp string, i int) (string, error) {
	rc, err := s.repo.Fetch(ctx, l.desc)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	v := newVerifier(rc, l.desc.Digest.String(), l.desc.Size)
	staged := filepath.Join(tmp, fmt.Sprint(i))
	switch l.desc.MediaType {
	case MediaTypeFile:
		mode := fs.FileMode(0o644)
		if l.desc.Annotations[AnnotationMode] == "0755" {
			mode = 0o755
		}
		f, err := os.OpenFile(staged, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(f, v)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
	default:
		if err := os.Mkdir(staged, 0o755); err != nil {
			return "", err
		}
		if err := readTree(v, staged); err != nil {
			// A damaged blob makes a bad tar: say it is the digest.
			if derr := v.check(); derr != nil {
				return "", derr
			}
			return "", err
		}
	}
	if err := v.check(); err != nil {
		return "", err
	}
	res, err := fingerprint.Compute(ctx, staged, &fingerprint.Options{Boundary: tmp})
	if err != nil {
		return "", err
	}
	if res.Digest != l.Digest {
		return "", fmt.Errorf("restored output has digest %s, the entry says %s: refused", res.Digest, l.Digest)
	}
	return staged, nil
}

// PushResult says what a push sent.
type PushResult struct {
	Tag      string
	Manifest string
	Uploaded int   // layers uploaded
	Skipped  int   // layers the registry already had
	Bytes    int64 // bytes uploaded
}

// Push stores the outputs of step (under dir) as the entry for key, with
// annotations added to the manifest's. A layer the registry already has
// (same digest) is not uploaded again.
func (s *Store) Push(ctx context.Context, step, key, dir string, outputs []Output, annotations map[string]string) (*PushResult, error) {
	if len(outputs) > maxOutputs {
		return nil, fmt.Errorf("step %s: %d outputs: more than %d", step, len(outputs), maxOutputs)
	}
	res := &PushResult{Tag: Tag(key)}
	layers := make([]ocispec.Descriptor, 0, len(outputs))
	for _, o := range outputs {
		desc, err := s.pushOutput(ctx, dir, o, res)
		if err != nil {
			return nil, fmt.Errorf("failed to push %s of step %s to %s: %w", o.Path, step, s.remote, err)
		}
		layers = append(layers, desc)
	}
	if err := s.pushBlob(ctx, ocispec.DescriptorEmptyJSON, func() (io.ReadSeekCloser, error) {
		return nopSeekCloser{bytes.NewReader(ocispec.DescriptorEmptyJSON.Data)}, nil
	}, nil); err != nil {
		return nil, fmt.Errorf("failed to push to %s: %w", s.remote, err)
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactTypeStep,
		Config:       ocispec.Descriptor{MediaType: ocispec.MediaTypeEmptyJSON, Digest: ocispec.DescriptorEmptyJSON.Digest, Size: ocispec.DescriptorEmptyJSON.Size},
		Layers:       layers,
		Annotations:  map[string]string{},
	}
	for k, v := range annotations {
		m.Annotations[k] = v
	}
	m.Annotations[AnnotationStep], m.Annotations[AnnotationKey] = step, key
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := s.repo.PushReference(ctx, desc, bytes.NewReader(data), res.Tag); err != nil {
		return nil, fmt.Errorf("failed to push the entry of step %s to %s:%s: %w", step, s.remote, res.Tag, err)
	}
	res.Manifest = desc.Digest.String()
	return res, nil
}

// pushOutput uploads one output's layer unless the registry has it.
func (s *Store) pushOutput(ctx context.Context, dir string, o Output, res *PushResult) (ocispec.Descriptor, error) {
	l, err := s.prepareOutput(dir, o)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer l.cleanup()
	return l.desc, s.pushBlob(ctx, l.desc, l.open, res)
}

// preparedLayer is an output's layer, ready to push: its descriptor and
// how to read it.
type preparedLayer struct {
	desc    ocispec.Descriptor
	open    func() (io.ReadSeekCloser, error)
	cleanup func()
}

// prepareOutput makes one output's layer. A file is its own layer. A
// tree's layer is written to a temporary file first: its digest must be
// known before the upload, and the file lets a retry resend the same
// bytes without holding them in memory.
func (s *Store) prepareOutput(dir string, o Output) (*preparedLayer, error) {
	src := filepath.Join(dir, filepath.FromSlash(o.Path))
	fi, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	ann := map[string]string{AnnotationPath: o.Path, AnnotationDigest: o.Digest}
	if fi.Mode().IsRegular() {
		ann[AnnotationMode] = fmt.Sprintf("%04o", fileMode(fi.Mode()))
		// The registry checks the digest of what it receives: a file
		// that changed since it was fingerprinted is refused there.
		return &preparedLayer{
			desc:    ocispec.Descriptor{MediaType: MediaTypeFile, Digest: digest.Digest(o.Digest), Size: fi.Size(), Annotations: ann},
			open:    func() (io.ReadSeekCloser, error) { return os.Open(src) },
			cleanup: func() {},
		}, nil
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a file or directory", src)
	}
	f, err := os.CreateTemp(s.opts.TempDir, "podium-layer-*.tar")
	if err != nil {
		return nil, err
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	h := sha256.New()
	cw := &countWriter{}
	if err := writeTree(io.MultiWriter(f, h, cw), src); err != nil {
		cleanup()
		return nil, err
	}
	return &preparedLayer{
		desc: ocispec.Descriptor{MediaType: MediaTypeTree, Digest: digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), Size: cw.n, Annotations: ann},
		open: func() (io.ReadSeekCloser, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return nopSeekCloser{f}, nil
		},
		cleanup: cleanup,
	}, nil
}

// pushBlob uploads desc's content unless the registry has the blob. The
// content is a ReadSeeker so that the retrying client rewinds it for a
// retry instead of buffering it.
func (s *Store) pushBlob(ctx context.Context, desc ocispec.Descriptor, open func() (io.ReadSeekCloser, error), res *PushResult) error {
	ok, err := s.repo.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if ok {
		if res != nil {
			res.Skipped++
		}
		return nil
	}
	r, err := open()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := s.repo.Push(ctx, desc, r); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return err
	}
	if res != nil {
		res.Uploaded++
		res.Bytes += desc.Size
	}
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

type nopSeekCloser struct{ io.ReadSeeker }

func (nopSeekCloser) Close() error { return nil }
