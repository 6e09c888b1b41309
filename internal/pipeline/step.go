package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/rundir"
)

// execStep runs one step whose needs are all done: it digests the inputs,
// consults the cache, and otherwise runs the command and digests what it
// wrote. It never returns an error: whatever goes wrong is the step's
// status, with the reason in its log.
func (r *runner) execStep(ctx context.Context, n *node) (res rundir.Step) {
	st := n.step
	start := r.now()
	res = rundir.Step{Name: st.Name, ExitCode: -1, Inputs: map[string]string{}, Outputs: map[string]string{}}
	lg, err := r.openLog(st.Name)
	if err != nil {
		res.Status = rundir.StatusFailed
		res.Reason = err.Error()
		r.logf("%s: %v", st.Name, err)
		return res
	}
	defer func() {
		res.DurationS = r.now().Sub(start).Seconds()
		if err := lg.commit(); err != nil {
			r.logf("%s: %v", st.Name, err)
		}
	}()
	// note records podium's own word on the step in its log and output.
	note := func(format string, args ...any) {
		msg := fmt.Sprintf("podium: "+format+"\n", args...)
		lg.WriteString(msg)
		r.logf("%s: "+format, append([]any{st.Name}, args...)...)
	}
	// fail ends the step with status, its reason kept in run.json too, so
	// that later commands can say why the run is unusable.
	// more is said in the log only.
	fail := func(status, reason, more string) rundir.Step {
		res.Status = status
		res.Reason = reason
		note("%s%s", reason, more)
		return res
	}

	inputs, reason := r.inputDigests(ctx, n, &res)
	if reason != "" {
		return fail(rundir.StatusFailed, reason, "")
	}
	key := stepKey(st, r.params, inputs)

	if !r.opts.Force && r.localCached(ctx, n, key, lg, &res) {
		return res
	}

	if !r.opts.Force && r.remoteCached(ctx, n, key, inputs, lg, &res) {
		return res
	}
	if r.restoreOnly(n) {
		return fail(rundir.StatusFailed, fmt.Sprintf("not in the cache, local or remote: step %q needs it, and only restores it (run its job first)", r.target.step.Name), "")
	}

	o := r.runCommand(ctx, n, lg)
	res.ExitCode = o.ExitCode
	switch {
	case o.TimedOut:
		return fail(rundir.StatusTimeout, fmt.Sprintf("timed out after %s", st.Timeout), "; its process group was stopped")
	case o.Canceled:
		return fail(rundir.StatusInterrupted, "interrupted", "; its process group was stopped")
	case o.Err != nil:
		return fail(rundir.StatusFailed, fmt.Sprintf("failed to run: %v", o.Err), "")
	case o.ExitCode != 0:
		return fail(rundir.StatusFailed, fmt.Sprintf("exited with status %d", o.ExitCode), "")
	}

	outputs, reason := r.outputDigests(ctx, n, &res)
	if reason != "" {
		return fail(rundir.StatusFailed, reason, "")
	}
	res.Status = rundir.StatusOK
	r.storeCache(lg, &cacheEntry{
		Version: cacheVersion, Step: st.Name, Key: key, Inputs: inputs, Digests: outputs,
		StartedAt: start.UTC(), FinishedAt: r.now().UTC(), DurationS: r.now().Sub(start).Seconds(),
	}, n.outputs)
	r.remoteStore(ctx, n, key, &RemoteEntry{Outputs: outputs, StartedAt: start.UTC(), FinishedAt: r.now().UTC(), DurationS: r.now().Sub(start).Seconds()}, lg)
	return res
}

// storeCache stores the step's outputs and log as objects and writes its
// entry. Outputs that cannot be stored leave an entry without them: a hit
// then needs the outputs on disk, as before outputs were stored.
func (r *runner) storeCache(lg *stepLog, e *cacheEntry, outputs []string) {
	files, err := r.cache.putOutputs(r.dir, outputs)
	if err != nil {
		fmt.Fprintf(lg, "podium: outputs not stored in the cache (a hit will need them on disk): %v\n", err)
	} else {
		e.Outputs = files
	}
	if e.Outputs == nil {
		e.Outputs = []cacheFile{}
	}
	if d, err := r.cache.putLog(lg.Name()); err == nil {
		e.Log = d
	}
	if err := r.cache.store(e); err != nil {
		fmt.Fprintf(lg, "podium: failed to write cache entry: %v\n", err)
		r.logf("%s: failed to write cache entry: %v", e.Step, err)
	}
}

// cached looks up the step's entry for key. It is a hit when every
// declared output has the digest the entry records, either on disk already
// or once restored from the cache's objects; it returns the outputs keyed
// as the spec writes them, the entry, and the outputs it restored.
func (r *runner) cached(ctx context.Context, n *node, key string) (map[string]string, *cacheEntry, []string, bool) {
	e := r.cache.load(n.step.Name, key)
	if e == nil {
		return nil, nil, nil, false
	}
	outs := map[string]string{}
	var restored []string
	for j, p := range n.outputs {
		want, ok := e.Digests[p]
		if !ok {
			return nil, nil, nil, false
		}
		got, err := r.digest(ctx, p)
		if err != nil || got != want {
			if len(e.Outputs) == 0 || r.cache.restore(r.dir, []string{p}, e.Outputs) != nil {
				return nil, nil, nil, false
			}
			r.forgetDigests()
			if got, err = r.digest(ctx, p); err != nil || got != want {
				return nil, nil, nil, false
			}
			restored = append(restored, n.step.Outputs[j])
		}
		outs[n.step.Outputs[j]] = got
	}
	return outs, e, restored, true
}

func sortedEnv(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// inputDigests digests the step's inputs into res and a map by clean
// path; on failure it returns why.
func (r *runner) inputDigests(ctx context.Context, n *node, res *rundir.Step) (inputs map[string]string, reason string) {
	inputs = map[string]string{}
	for j, in := range n.inputs {
		d, ok := r.external[in]
		if !ok {
			var err error
			if d, err = r.digest(ctx, in); err != nil {
				return nil, fmt.Sprintf("input %s: %v", n.step.Inputs[j], err)
			}
		}
		inputs[in] = d
		res.Inputs[n.step.Inputs[j]] = d
	}
	return inputs, ""
}

// outputDigests digests the outputs the step's command wrote, as
// inputDigests does.
func (r *runner) outputDigests(ctx context.Context, n *node, res *rundir.Step) (outputs map[string]string, reason string) {
	outputs = map[string]string{}
	for j, p := range n.outputs {
		d, err := r.digest(ctx, p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Sprintf("exited with status 0 but did not write its declared output %s", n.step.Outputs[j])
			}
			return nil, fmt.Sprintf("output %s: %v", n.step.Outputs[j], err)
		}
		outputs[p] = d
		res.Outputs[n.step.Outputs[j]] = d
	}
	return outputs, ""
}

// localCached fills res from the local step cache when it holds key (the
// outputs restored when they are missing), and says so in the step's log.
func (r *runner) localCached(ctx context.Context, n *node, key string, lg *stepLog, res *rundir.Step) bool {
	st := n.step
	outs, e, restored, ok := r.cached(ctx, n, key)
	if !ok {
		return false
	}
	res.Status = rundir.StatusCached
	res.ExitCode = 0
	res.Outputs = outs
	res.CachedFrom = &rundir.CachedFrom{StartedAt: e.StartedAt, FinishedAt: e.FinishedAt, DurationS: e.DurationS}
	fmt.Fprintf(lg, "podium: cached: command, env, params and input digests unchanged; not run (key %s)\n", key)
	if len(restored) > 0 {
		msg := fmt.Sprintf("cached; restored %s from the cache", strings.Join(restored, ", "))
		lg.WriteString("podium: " + msg + "\n")
		r.logf("%s: %s", st.Name, msg)
	} else {
		r.logf("%s: cached", st.Name)
	}
	if e.Log != "" {
		fmt.Fprintf(lg, "podium: the log of the run that produced the outputs (%s, %.2fs):\n", e.FinishedAt.Format(time.RFC3339), e.DurationS)
		if err := r.cache.copyObject(lg, e.Log); err != nil {
			fmt.Fprintf(lg, "podium: (not available: %v)\n", err)
		}
	}
	return true
}

// runCommand runs the step's command, its output to the log and to
// podium's (in a group of its own when steps run one at a time).
func (r *runner) runCommand(ctx context.Context, n *node, lg *stepLog) outcome {
	st := n.step
	out := r.stepWriter(st.Name, lg)
	if !r.concurrent && r.opts.Group != nil {
		end := r.opts.Group(st.Name)
		defer end()
	} else {
		r.logf("%s: running", st.Name)
	}
	env := append(append(r.env[:len(r.env):len(r.env)], "PODIUM_STEP="+st.Name), sortedEnv(st.Env)...)
	r.commandStarting()
	o := shell{
		Script: st.Run, Dir: r.dir, Env: env, Out: out,
		Timeout: st.Timeout, KillGrace: r.opts.KillGrace,
	}.run(ctx)
	r.commandEnded()
	out.Flush()
	return o
}

// stepLog is a step's log, written to a temporary name and renamed into
// place when the step ends, so logs/<step>.log is always a whole log.
type stepLog struct {
	*os.File
	path string
}

func (r *runner) openLog(step string) (*stepLog, error) {
	path := rundir.LogPath(r.runDir, step)
	f, err := os.CreateTemp(filepath.Dir(path), atomicfile.TempPattern(step+".log"))
	if err != nil {
		return nil, fmt.Errorf("failed to create log: %w", err)
	}
	// CreateTemp makes the file 0600; a log is as readable as run.json.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("failed to create log: %w", err)
	}
	return &stepLog{File: f, path: path}, nil
}

func (l *stepLog) commit() error {
	if err := l.Close(); err != nil {
		os.Remove(l.Name())
		return fmt.Errorf("failed to write log %s: %w", l.path, err)
	}
	if err := os.Rename(l.Name(), l.path); err != nil {
		os.Remove(l.Name())
		return fmt.Errorf("failed to write log %s: %w", l.path, err)
	}
	return nil
}

// stepOut is where a running step's output goes: its log, and the live
// output, line-prefixed when steps run concurrently.
type stepOut struct {
	log  io.Writer
	live *lineWriter
}

func (r *runner) stepWriter(step string, log io.Writer) *stepOut {
	prefix := ""
	if r.concurrent {
		prefix = "[" + step + "] "
	}
	return &stepOut{log: log, live: &lineWriter{out: r.out, prefix: prefix}}
}

func (s *stepOut) Write(p []byte) (int, error) {
	if _, err := s.log.Write(p); err != nil {
		return 0, err
	}
	// The live stream is best effort: a closed terminal must not fail the step.
	s.live.Write(p)
	return len(p), nil
}

func (s *stepOut) Flush() { s.live.Flush() }

// syncWriter serialises writes from concurrent steps.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// lineWriter writes whole lines, each with prefix, so that concurrent
// steps' output interleaves by line, never mid-line. A partial line waits
// for its newline (or Flush), up to maxPending bytes.
type lineWriter struct {
	out     io.Writer
	prefix  string
	pending []byte
}

const maxPending = 64 << 10

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if l.prefix == "" {
		return l.out.Write(p)
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.pending = append(l.pending, p...)
			if len(l.pending) > maxPending {
				l.Flush()
			}
			break
		}
		line := make([]byte, 0, len(l.prefix)+len(l.pending)+i+1)
		line = append(line, l.prefix...)
		line = append(line, l.pending...)
		line = append(line, p[:i+1]...)
		l.pending = l.pending[:0]
		l.out.Write(line)
		p = p[i+1:]
	}
	return n, nil
}

// Flush writes a pending partial line, ending it.
func (l *lineWriter) Flush() {
	if len(l.pending) == 0 {
		return
	}
	line := append([]byte(l.prefix), l.pending...)
	l.out.Write(append(line, '\n'))
	l.pending = l.pending[:0]
}
