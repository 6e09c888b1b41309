package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

// cacheVersion is part of every key: changing how keys are made bumps it,
// so old entries miss instead of matching by accident.
const cacheVersion = 2

// The step cache is a directory that a workflow persists with actions/cache
// or GitLab's cache:, laid out as DVC's run cache is:
//
//	steps/<step>/<key>.json          one entry per step and key
//	objects/sha256/<xx>/<hex>        the outputs' files and the logs, by content
//
// A key digests everything that decides what a step does: its command,
// its env, the params it uses (spec: params on the step; every param when
// the step does not say), its declared outputs and its inputs' digests.
// An entry records, for one key, each declared output's digest and every
// file it holds (path, sha256, mode, size), the step's log, and when and
// for how long the step ran. Since a step keeps one entry per key, going
// back to an earlier state (a branch, a param's old value) is a hit.
//
// On a hit whose outputs are not on disk (a fresh checkout) or differ, the
// files are restored from objects/ and checked against the recorded
// digests; a missing or damaged object is a miss and the step runs. Objects
// are stored once however many entries name them.
//
// The cache is bounded (cache.max_size, spec.DefaultCacheMaxSize): after a
// run, the least recently used entries (by the entry file's mtime, touched
// on every hit) are dropped until the objects the others name fit, and
// objects no entry names are removed.
//
// Every file is written to a temporary name and renamed into place, so
// concurrent runs sharing a cache see whole entries and whole objects; an
// object is named by its content, so two runs writing it write the same
// bytes. The entry format is also what a remote cache stores: an entry is
// a small JSON document, and its objects are addressed by sha256.
//
// Inputs are digested by content, so when a dependency re-runs and writes
// byte-identical outputs, its dependents stay cached: they would compute
// the same thing again.
type stepCache struct {
	dir      string
	maxBytes int64
}

// cacheEntry is one step's entry for one key.
type cacheEntry struct {
	Version int    `json:"version"`
	Step    string `json:"step"`
	Key     string `json:"key"`
	// Inputs maps each input (clean path) to its digest.
	Inputs map[string]string `json:"inputs"`
	// Digests maps each declared output (clean path) to its fingerprint.
	Digests map[string]string `json:"digests"`
	// Outputs lists every file of the declared outputs, with the object
	// holding its bytes; nil when they could not be stored (then a hit
	// needs the outputs on disk).
	Outputs []cacheFile `json:"outputs"`
	// Log is the object holding the step's log, "" when not stored.
	Log        string    `json:"log,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	DurationS  float64   `json:"duration_s"`
	// Data is the data check's summary (its entry only).
	Data *rundir.DataCheck `json:"data,omitempty"`
}

// cacheFile is one stored output file.
type cacheFile struct {
	Path   string      `json:"path"` // slash-separated, relative to the spec's directory
	Digest string      `json:"digest"`
	Mode   fs.FileMode `json:"mode"` // permission bits
	Size   int64       `json:"size"`
}

// objectGrace protects an object from removal while a concurrent run that
// has just written (or reused) it has yet to write the entry naming it.
const objectGrace = time.Hour

func (c stepCache) entryPath(step, key string) string {
	return filepath.Join(c.dir, "steps", step, strings.TrimPrefix(key, fingerprint.Prefix)+".json")
}

func (c stepCache) objectPath(digest string) (string, bool) {
	hexd, ok := strings.CutPrefix(digest, fingerprint.Prefix)
	if !ok || len(hexd) != 64 || strings.Trim(hexd, "0123456789abcdef") != "" {
		return "", false
	}
	return filepath.Join(c.dir, "objects", "sha256", hexd[:2], hexd), true
}

// load returns the step's entry for key, or nil when there is none or it
// cannot be read as one (a damaged entry is a miss, not an error: the cache
// is an optimisation and the step can always run). A found entry is
// touched: its mtime is the access time eviction goes by.
func (c stepCache) load(step, key string) *cacheEntry {
	p := c.entryPath(step, key)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Version != cacheVersion || e.Step != step || e.Key != key {
		return nil
	}
	for _, f := range e.Outputs {
		if _, ok := c.objectPath(f.Digest); !ok || !safeRel(f.Path) {
			return nil
		}
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now)
	return &e
}

func (c stepCache) store(e *cacheEntry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.entryPath(e.Step, e.Key), append(data, '\n'), 0o644)
}

// safeRel reports whether p is a clean relative slash path that stays
// inside the directory it is relative to.
func safeRel(p string) bool {
	return p != "" && p != "." && path.Clean(p) == p && filepath.IsLocal(filepath.FromSlash(p))
}

// putFile copies the file at abs into the object store and returns its
// entry. An object already present is reused (and touched, so that a
// concurrent eviction keeps it).
func (c stepCache) putFile(abs, rel string) (cacheFile, error) {
	f, err := os.Open(abs)
	if err != nil {
		return cacheFile{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return cacheFile{}, err
	}
	if !fi.Mode().IsRegular() {
		return cacheFile{}, fmt.Errorf("%s is not a regular file", rel)
	}
	tmpDir := filepath.Join(c.dir, "objects", "tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return cacheFile{}, err
	}
	tmp, err := os.CreateTemp(tmpDir, "obj-*")
	if err != nil {
		return cacheFile{}, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), f)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cacheFile{}, err
	}
	digest := fingerprint.Prefix + hex.EncodeToString(h.Sum(nil))
	obj, _ := c.objectPath(digest)
	if _, err := os.Stat(obj); err == nil {
		now := time.Now()
		_ = os.Chtimes(obj, now, now)
	} else {
		if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
			return cacheFile{}, err
		}
		if err := os.Chmod(tmp.Name(), 0o444); err != nil {
			return cacheFile{}, err
		}
		if err := os.Rename(tmp.Name(), obj); err != nil {
			return cacheFile{}, err
		}
	}
	return cacheFile{Path: rel, Digest: digest, Mode: fi.Mode().Perm(), Size: n}, nil
}

// putOutputs stores every file of the declared outputs (clean paths,
// relative to dir). Links are followed as fingerprints follow them; a link
// that leaves dir is refused, as the fingerprint refused it already.
func (c stepCache) putOutputs(dir string, outputs []string) ([]cacheFile, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var files []cacheFile
	seen := map[string]bool{}
	var walk func(rel string, depth int) error
	walk = func(rel string, depth int) error {
		if depth > 64 {
			return fmt.Errorf("%s: too deeply nested, or a link loop", rel)
		}
		fi, err := root.Stat(filepath.FromSlash(rel))
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			if seen[rel] {
				return nil
			}
			seen[rel] = true
			f, err := c.putFile(filepath.Join(dir, filepath.FromSlash(rel)), rel)
			if err != nil {
				return err
			}
			files = append(files, f)
			return nil
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a regular file or directory", rel)
		}
		d, err := root.Open(filepath.FromSlash(rel))
		if err != nil {
			return err
		}
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := walk(path.Join(rel, name), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, o := range outputs {
		if o == "." {
			return nil, errors.New("the spec's whole directory is an output: not stored")
		}
		if err := walk(o, 0); err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// putLog stores a step's log as an object and returns its digest.
func (c stepCache) putLog(abs string) (string, error) {
	f, err := c.putFile(abs, "log")
	return f.Digest, err
}

// restore writes the entry's files for the declared outputs under dir,
// replacing what is there. Each output is assembled beside its place and
// renamed into it, so a failed restore leaves no half-written output.
func (c stepCache) restore(dir string, outputs []string, files []cacheFile) error {
	for _, o := range outputs {
		var mine []cacheFile
		for _, f := range files {
			if f.Path == o || strings.HasPrefix(f.Path, o+"/") {
				mine = append(mine, f)
			}
		}
		if len(mine) == 0 {
			return fmt.Errorf("no stored files for %s", o)
		}
		dst := filepath.Join(dir, filepath.FromSlash(o))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		stage, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".restore-*")
		if err != nil {
			return err
		}
		err = c.restoreInto(stage, o, mine)
		if err == nil {
			err = swapInto(stage, dst)
		}
		os.RemoveAll(stage)
		if err != nil {
			return err
		}
	}
	return nil
}

// restoreInto writes the files of output o into stage.
func (c stepCache) restoreInto(stage, o string, files []cacheFile) error {
	for _, f := range files {
		rel := strings.TrimPrefix(strings.TrimPrefix(f.Path, o), "/")
		target := filepath.Join(stage, "out")
		if rel != "" {
			target = filepath.Join(target, filepath.FromSlash(rel))
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		obj, _ := c.objectPath(f.Digest)
		if err := copyFile(obj, target, f.Mode.Perm()|0o200); err != nil {
			return err
		}
		if err := os.Chmod(target, f.Mode.Perm()); err != nil {
			return err
		}
	}
	return nil
}

// swapInto moves the staged output into place.
func swapInto(stage, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(filepath.Join(stage, "out"), dst)
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyObject writes an object's bytes to w.
func (c stepCache) copyObject(w io.Writer, digest string) error {
	obj, ok := c.objectPath(digest)
	if !ok {
		return fmt.Errorf("bad object digest %q", digest)
	}
	f, err := os.Open(obj)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// gc keeps the cache under its size limit: entries are kept from the most
// recently used on while the objects they name fit in maxBytes (the most
// recent entry of each step is always kept, since it is the one the next
// run most likely needs), and then objects no kept entry names, and older
// than objectGrace, are removed. It returns how many entries and objects
// it removed.
func (c stepCache) gc(now time.Time) (entries, objects int, err error) {
	all, entries, err := c.readEntries()
	if err != nil {
		return entries, objects, err
	}
	referenced, trimmed := c.trimEntries(all)
	objects, err = c.removeObjects(now, referenced)
	return entries + trimmed, objects, err
}

// foundEntry is a step cache entry read by gc.
type foundEntry struct {
	path  string
	mtime time.Time
	e     cacheEntry
}

// readEntries reads every entry, newest first, and removes those of
// another cache version or damaged (counted in removed).
func (c stepCache) readEntries() (all []foundEntry, removed int, err error) {
	stepsDir := filepath.Join(c.dir, "steps")
	err = filepath.WalkDir(stepsDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		var e cacheEntry
		data, rerr := os.ReadFile(p)
		if rerr != nil || json.Unmarshal(data, &e) != nil || e.Version != cacheVersion {
			// An entry of another cache version, or damaged: never a hit.
			if os.Remove(p) == nil {
				removed++
			}
			return nil
		}
		all = append(all, foundEntry{p, fi.ModTime(), e})
		return nil
	})
	sort.Slice(all, func(i, j int) bool { return all[i].mtime.After(all[j].mtime) })
	return all, removed, err
}

// trimEntries keeps entries, newest first, while their outputs fit in
// maxBytes (each step keeps its newest entry whatever its size), removes
// the rest, and returns the objects the kept entries reference.
func (c stepCache) trimEntries(all []foundEntry) (referenced map[string]bool, removed int) {
	sizes := map[string]int64{}
	var total int64
	keptStep := map[string]bool{}
	referenced = map[string]bool{}
	for _, f := range all {
		var add int64
		for _, o := range f.e.Outputs {
			if _, ok := sizes[o.Digest]; !ok {
				add += o.Size
			}
		}
		if keptStep[f.e.Step] && total+add > c.maxBytes {
			if os.Remove(f.path) == nil {
				removed++
			}
			continue
		}
		keptStep[f.e.Step] = true
		total += add
		for _, o := range f.e.Outputs {
			sizes[o.Digest] = o.Size
			referenced[o.Digest] = true
		}
		if f.e.Log != "" {
			referenced[f.e.Log] = true
		}
	}
	return referenced, removed
}

// removeObjects removes the objects no kept entry references, once older
// than objectGrace (a concurrent run may be about to reference them).
func (c stepCache) removeObjects(now time.Time, referenced map[string]bool) (removed int, err error) {
	objDir := filepath.Join(c.dir, "objects", "sha256")
	err = filepath.WalkDir(objDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		if referenced[fingerprint.Prefix+d.Name()] {
			return nil
		}
		fi, err := d.Info()
		if err != nil || now.Sub(fi.ModTime()) < objectGrace {
			return nil
		}
		if os.Remove(p) == nil {
			removed++
		}
		return nil
	})
	return removed, err
}

// stepParams is the part of params a step's key covers: those it declares,
// or all of them when it declares none.
func stepParams(st *spec.Step, params map[string]string) map[string]string {
	if st.Params == nil {
		return params
	}
	out := make(map[string]string, len(st.Params))
	for _, name := range st.Params {
		if v, ok := params[name]; ok {
			out[name] = v
		}
	}
	return out
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
	}{cacheVersion, st.Run, env, stepParams(st, params), outputs, inputs})
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
		Params  []string          `json:"params,omitempty"`
	}
	steps := make([]stepDef, len(s.Pipeline))
	for i, st := range s.Pipeline {
		steps[i] = stepDef{st.Name, st.Run, st.Needs, st.Inputs, st.Outputs, st.Env, st.Params}
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
