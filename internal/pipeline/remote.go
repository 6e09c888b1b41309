package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/rundir"
)

// Remote is a second place for step cache entries, shared by every
// machine and CI job that runs the pipeline: an OCI registry (package
// oci; the command line adapts it). An entry is addressed by the step's
// key, as in the local cache, and carries the outputs themselves.
type Remote interface {
	// Fetch restores under dir the outputs of the entry for key, each
	// checked against its digest before it is put in place, and returns
	// the entry; nil, nil on a miss.
	Fetch(ctx context.Context, step, key, dir string) (*RemoteEntry, error)
	// Store pushes the outputs (clean paths under dir) as the entry for key.
	Store(ctx context.Context, step, key, dir string, e *RemoteEntry) error
}

// RemoteEntry is what a remote keeps for a step and key besides the key.
type RemoteEntry struct {
	// Outputs maps each declared output (clean path) to its digest.
	Outputs    map[string]string
	StartedAt  time.Time
	FinishedAt time.Time
	DurationS  float64
}

// only restricts the run to the step named and the steps it needs,
// directly or not (`podium train --step NAME`, one job of a fanned-out
// plan). The steps it needs must be cached, locally or in the remote:
// their own jobs ran before.
func (r *runner) only(name string) error {
	n, ok := r.byName[name]
	if !ok {
		names := make([]string, len(r.steps))
		for i, s := range r.steps {
			names[i] = s.step.Name
		}
		return specProblem(r.spec, "pipeline", "no step %q (steps: %s)", name, strings.Join(names, ", "))
	}
	r.steps = slices.DeleteFunc(slices.Clone(r.steps), func(s *node) bool { return s != n && !n.ances[s] })
	r.target = n
	return nil
}

// restoreOnly reports whether n may only be restored, not run: it is a
// step the --step target needs.
func (r *runner) restoreOnly(n *node) bool {
	return r.target != nil && n != r.target
}

// remoteCached looks the step up in the remote and restores its outputs
// on a hit, checking each against the entry's digest once in place; the
// local cache then gets the entry too. A remote that fails or serves a
// bad entry is a miss, with a warning: the step can always run.
func (r *runner) remoteCached(ctx context.Context, n *node, key string, inputs map[string]string, lg *stepLog, res *rundir.Step) bool {
	if r.opts.Remote == nil {
		return false
	}
	st := n.step
	e, err := r.opts.Remote.Fetch(ctx, st.Name, key, r.dir)
	// Fetch may have put outputs in place, even when it then failed.
	r.forgetDigests()
	if err != nil {
		fmt.Fprintf(lg, "podium: remote cache: %v\n", err)
		r.warn(fmt.Sprintf("step %q: remote cache not used: %v", st.Name, err))
		return false
	}
	if e == nil {
		return false
	}
	// Fetch checked every output against its digest before putting it
	// in place; hashing a large output again here would double the
	// restore's cost for nothing.
	outs := map[string]string{}
	for j, p := range n.outputs {
		want, ok := e.Outputs[p]
		if !ok {
			r.warn(fmt.Sprintf("step %q: the remote entry lacks output %s: not used", st.Name, st.Outputs[j]))
			return false
		}
		outs[st.Outputs[j]] = want
	}
	res.Status = rundir.StatusCached
	res.ExitCode = 0
	res.Outputs = outs
	res.CachedFrom = &rundir.CachedFrom{StartedAt: e.StartedAt, FinishedAt: e.FinishedAt, DurationS: e.DurationS}
	fmt.Fprintf(lg, "podium: cached: restored from the remote cache; not run (key %s)\n", key)
	r.logf("%s: cached; restored %s from the remote cache", st.Name, strings.Join(st.Outputs, ", "))
	// The local cache gets the entry without objects: the outputs are on
	// disk now, so a later run here hits by their digests, and copying
	// them into the object store would cost as much as the restore.
	if err := r.cache.store(&cacheEntry{
		Version: cacheVersion, Step: st.Name, Key: key, Inputs: inputs, Digests: e.Outputs, Outputs: []cacheFile{},
		StartedAt: e.StartedAt, FinishedAt: e.FinishedAt, DurationS: e.DurationS,
	}); err != nil {
		fmt.Fprintf(lg, "podium: failed to write cache entry: %v\n", err)
	}
	return true
}

// remoteStore pushes a step that ran to the remote, when this run may
// write it. A failed push is a warning: the step itself succeeded.
func (r *runner) remoteStore(ctx context.Context, n *node, key string, e *RemoteEntry, lg *stepLog) {
	if r.opts.Remote == nil || !r.opts.RemoteWrite {
		return
	}
	if err := r.opts.Remote.Store(ctx, n.step.Name, key, r.dir, e); err != nil {
		fmt.Fprintf(lg, "podium: remote cache: %v\n", err)
		r.warn(fmt.Sprintf("step %q: not pushed to the remote cache: %v", n.step.Name, err))
		return
	}
	fmt.Fprintf(lg, "podium: pushed to the remote cache (key %s)\n", key)
	r.logf("%s: pushed to the remote cache", n.step.Name)
}
