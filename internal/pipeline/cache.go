package pipeline

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

// cacheVersion is part of every key: changing how keys are made bumps it,
// so old entries miss instead of matching by accident.
const cacheVersion = 1

// The step cache is a directory of small JSON entries, one per step, that
// a workflow persists with actions/cache or GitLab's cache:. An entry says
// which outputs (by digest) the step produced for a key; the key digests
// everything that decides what the step does: its command, its env, the
// params every step sees, its declared outputs and its inputs' digests.
// A step is cached when its key matches and its outputs still have the
// recorded digests; outputs are not stored in the cache, so a workflow
// that wants hits on a fresh checkout persists them too.
//
// Inputs are digested by content, so when a dependency re-runs and writes
// byte-identical outputs, its dependents stay cached: they would compute
// the same thing again.
type stepCache struct{ dir string }

// cacheEntry is one step's entry: <cache>/steps/<step>.json.
type cacheEntry struct {
	Version    int               `json:"version"`
	Step       string            `json:"step"`
	Key        string            `json:"key"`
	Inputs     map[string]string `json:"inputs"`
	Outputs    map[string]string `json:"outputs"`
	FinishedAt time.Time         `json:"finished_at"`
	// Data is the data check's summary (its entry only).
	Data *rundir.DataCheck `json:"data,omitempty"`
}

func (c stepCache) path(step string) string {
	return filepath.Join(c.dir, "steps", step+".json")
}

// load returns the step's entry, or nil when there is none or it cannot be
// read as one (a damaged entry is a miss, not an error: the cache is an
// optimisation and the step can always run).
func (c stepCache) load(step string) *cacheEntry {
	data, err := os.ReadFile(c.path(step))
	if err != nil {
		return nil
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Version != cacheVersion || e.Step != step {
		return nil
	}
	return &e
}

func (c stepCache) store(e *cacheEntry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path(e.Step), append(data, '\n'), 0o644)
}

// drop removes the step's entry before the step runs, so that an entry
// always describes the last successful run.
func (c stepCache) drop(step string) error {
	if err := os.Remove(c.path(step)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// stepKey is the digest a step's cache entry must match.
func stepKey(st *spec.Step, params, inputs map[string]string) string {
	env := st.Env
	if env == nil {
		env = map[string]string{}
	}
	outputs := st.Outputs
	if outputs == nil {
		outputs = []string{}
	}
	// encoding/json sorts map keys, which makes this canonical.
	data, _ := json.Marshal(struct {
		Version int               `json:"version"`
		Run     string            `json:"run"`
		Env     map[string]string `json:"env"`
		Params  map[string]string `json:"params"`
		Outputs []string          `json:"outputs"`
		Inputs  map[string]string `json:"inputs"`
	}{cacheVersion, st.Run, env, params, outputs, inputs})
	return fingerprint.Bytes(data)
}

// CacheKey is the key a workflow saves the cache directory under: it
// changes when any step definition, param or input from outside the
// pipeline changes. It starts with "podium-<model>-" so a restore can fall
// back to the latest entry with that prefix (actions/cache restore-keys),
// whose per-step entries still hit for the steps that did not change.
func CacheKey(s *spec.Spec, params map[string]string, external map[string]string) string {
	type stepDef struct {
		Name    string            `json:"name"`
		Run     string            `json:"run"`
		Needs   []string          `json:"needs"`
		Inputs  []string          `json:"inputs"`
		Outputs []string          `json:"outputs"`
		Env     map[string]string `json:"env"`
	}
	steps := make([]stepDef, len(s.Pipeline))
	for i, st := range s.Pipeline {
		steps[i] = stepDef{st.Name, st.Run, st.Needs, st.Inputs, st.Outputs, st.Env}
	}
	data, _ := json.Marshal(struct {
		Version int               `json:"version"`
		Model   string            `json:"model"`
		Params  map[string]string `json:"params"`
		Steps   []stepDef         `json:"steps"`
		Inputs  map[string]string `json:"inputs"`
	}{cacheVersion, s.Model, params, steps, external})
	digest := fingerprint.Bytes(data)
	return "podium-" + s.Model + "-" + digest[len(fingerprint.Prefix):len(fingerprint.Prefix)+32]
}
