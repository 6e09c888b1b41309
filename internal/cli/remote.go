package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/oci"
	"github.com/podium-ml/podium/internal/pipeline"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/spec"
)

// remoteOptions are train's remote-cache flags and what they need.
type remoteOptions struct {
	Getenv  func(string) string
	Secrets *redact.Redactor
	// Remote overrides the spec's cache.remote (--cache-remote).
	Remote string
	// Write is --cache-write when given, nil otherwise.
	Write *bool
}

// openRemote returns the pipeline's remote cache for the spec (nil when it
// names none) and whether this run may write it. The credential found is
// masked before anything can print it.
func openRemote(ctx context.Context, opts remoteOptions, s *spec.Spec, p ci.Platform, errOut io.Writer) (pipeline.Remote, bool, error) {
	url := s.Cache.Remote
	if opts.Remote != "" {
		url = opts.Remote
	}
	if url == "" {
		return nil, false, nil
	}
	r, err := oci.ParseRemote(url)
	if err != nil {
		if opts.Remote != "" {
			return nil, false, flagErrorf("invalid --cache-remote: %v", err)
		}
		return nil, false, inputErrorf("%s: cache.remote: %v", s.File, err)
	}
	cred, err := oci.FindCredential(ctx, r.Host, opts.Getenv)
	if err != nil {
		return nil, false, err
	}
	if secret := cred.Secret(); secret != "" {
		if opts.Secrets != nil {
			opts.Secrets.Add(secret)
		}
		p.Mask(secret)
	}
	// Layers are staged in the cache directory, beside the outputs, so a
	// verified output is renamed into place rather than copied.
	tmp := filepath.Join(s.Dir, filepath.FromSlash(s.Cache.Path), "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, false, fmt.Errorf("failed to create %s: %w", tmp, err)
	}
	store, err := oci.Open(r, oci.Options{
		Credential: cred,
		TempDir:    tmp,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(errOut, "podium: remote cache: "+format+"\n", args...)
		},
	})
	if err != nil {
		return nil, false, err
	}
	d := oci.MayWrite(p.Run(), opts.Write)
	mode := "read-only"
	if d.Write {
		mode = "read-write"
	}
	fmt.Fprintf(errOut, "podium: remote cache %s, %s: %s; credentials: %s\n", r, mode, d.Reason, cred)
	return &ociRemote{store: store}, d.Write, nil
}

// ociRemote adapts an oci.Store to the pipeline's Remote.
type ociRemote struct{ store *oci.Store }

// Annotations carrying an entry's times, so a restored step reports when
// and how long it originally ran.
const (
	annStarted  = "dev.podium.started_at"
	annFinished = "dev.podium.finished_at"
	annDuration = "dev.podium.duration_s"
)

func (o *ociRemote) Fetch(ctx context.Context, step, key, dir string) (*pipeline.RemoteEntry, error) {
	e, err := o.store.Lookup(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	if err := o.store.Restore(ctx, e, dir); err != nil {
		return nil, err
	}
	out := &pipeline.RemoteEntry{Outputs: map[string]string{}}
	for _, l := range e.Outputs {
		out.Outputs[l.Path] = l.Digest
	}
	out.StartedAt, _ = time.Parse(time.RFC3339Nano, e.Annotations[annStarted])
	out.FinishedAt, _ = time.Parse(time.RFC3339Nano, e.Annotations[annFinished])
	out.DurationS, _ = strconv.ParseFloat(e.Annotations[annDuration], 64)
	return out, nil
}

func (o *ociRemote) Store(ctx context.Context, step, key, dir string, e *pipeline.RemoteEntry) error {
	outs := make([]oci.Output, 0, len(e.Outputs))
	for p, d := range e.Outputs {
		outs = append(outs, oci.Output{Path: p, Digest: d})
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i].Path < outs[j].Path })
	_, err := o.store.Push(ctx, step, key, dir, outs, map[string]string{
		annStarted:  e.StartedAt.UTC().Format(time.RFC3339Nano),
		annFinished: e.FinishedAt.UTC().Format(time.RFC3339Nano),
		annDuration: strconv.FormatFloat(e.DurationS, 'f', -1, 64),
	})
	return err
}
