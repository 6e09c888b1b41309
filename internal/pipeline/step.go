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
	"sync"

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

	inputs := map[string]string{}
	for j, in := range n.inputs {
		d, ok := r.external[in]
		if !ok {
			if d, err = r.digest(ctx, in); err != nil {
				res.Status = rundir.StatusFailed
				note("input %s: %v", st.Inputs[j], err)
				return res
			}
		}
		inputs[in] = d
		res.Inputs[st.Inputs[j]] = d
	}
	key := stepKey(st, r.params, inputs)

	if !r.opts.Force {
		if outs, ok := r.cached(ctx, n, key); ok {
			res.Status = rundir.StatusCached
			res.ExitCode = 0
			res.Outputs = outs
			fmt.Fprintf(lg, "podium: cached: command, env, params and input digests unchanged and outputs intact; not run (key %s)\n", key)
			r.logf("%s: cached", st.Name)
			return res
		}
	}
	if err := r.cache.drop(st.Name); err != nil {
		note("failed to clear cache entry: %v", err)
	}

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
	res.ExitCode = o.ExitCode
	switch {
	case o.TimedOut:
		res.Status = rundir.StatusTimeout
		note("timed out after %s; its process group was stopped", st.Timeout)
		return res
	case o.Canceled:
		res.Status = rundir.StatusFailed
		note("interrupted; its process group was stopped")
		return res
	case o.Err != nil:
		res.Status = rundir.StatusFailed
		note("failed to run: %v", o.Err)
		return res
	case o.ExitCode != 0:
		res.Status = rundir.StatusFailed
		note("exited with status %d", o.ExitCode)
		return res
	}

	outputs := map[string]string{}
	for j, p := range n.outputs {
		d, err := r.digest(ctx, p)
		if err != nil {
			res.Status = rundir.StatusFailed
			if errors.Is(err, fs.ErrNotExist) {
				note("declared output %s was not written", st.Outputs[j])
			} else {
				note("output %s: %v", st.Outputs[j], err)
			}
			return res
		}
		outputs[p] = d
		res.Outputs[st.Outputs[j]] = d
	}
	res.Status = rundir.StatusOK
	entry := &cacheEntry{Version: cacheVersion, Step: st.Name, Key: key, Inputs: inputs, Outputs: outputs, FinishedAt: r.now().UTC()}
	if err := r.cache.store(entry); err != nil {
		note("failed to write cache entry: %v", err)
	}
	return res
}

// cached reports whether the step's cache entry matches key and its
// outputs still have the digests recorded there; it returns them keyed as
// the spec writes them.
func (r *runner) cached(ctx context.Context, n *node, key string) (map[string]string, bool) {
	e := r.cache.load(n.step.Name)
	if e == nil || e.Key != key {
		return nil, false
	}
	outs := map[string]string{}
	for j, p := range n.outputs {
		want, ok := e.Outputs[p]
		if !ok {
			return nil, false
		}
		got, err := r.digest(ctx, p)
		if err != nil || got != want {
			return nil, false
		}
		outs[n.step.Outputs[j]] = got
	}
	return outs, true
}

func sortedEnv(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
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
