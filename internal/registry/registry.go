// Package registry keeps track of each model's champion: the version in
// production that candidates are compared with. The default backend is git
// itself (docs/record.md): the champion is a small JSON pointer file,
// <registry.path>/<model>.json, on the default branch, changed only by
// merged deployment pull requests. Other registries plug in behind the
// Registry interface.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/metrics"
	"github.com/podium-ml/podium/internal/strictjson"
	"github.com/podium-ml/podium/schemas"
)

// SchemaName is the embedded schema a champion pointer is validated against.
const SchemaName = "registry.schema.json"

// SchemaVersion is the pointer format this podium writes and reads.
const SchemaVersion = 1

// DefaultPath is where the git registry keeps pointers when the spec does
// not say.
const DefaultPath = ".podium/registry"

// Registry finds and changes champions.
type Registry interface {
	// Champion returns the model's current champion. Champion.Pointer is nil
	// when the model has none yet.
	Champion(ctx context.Context, model string) (*Champion, error)
	// History returns the model's past and present champions, newest first,
	// at most limit of them (all when limit <= 0).
	History(ctx context.Context, model string, limit int) ([]Entry, error)
	// Propose returns the change that makes p the champion: for the git
	// registry, the new pointer file, which a deployment PR commits.
	Propose(ctx context.Context, p *Pointer) (*Change, error)
}

// Pointer is the champion pointer file.
type Pointer struct {
	SchemaVersion  int                `json:"schema_version"`
	Model          string             `json:"model"`
	Version        string             `json:"version"`
	Metrics        map[string]float64 `json:"metrics"`
	Params         map[string]any     `json:"params,omitempty"`
	Artifacts      map[string]string  `json:"artifacts,omitempty"`       // path → "sha256:<hex>"
	EvaluationData map[string]string  `json:"evaluation_data,omitempty"` // path → "sha256:<hex>"
	RecordDigest   string             `json:"record_digest,omitempty"`
	Commit         string             `json:"commit"`
	PromotedAt     time.Time          `json:"promoted_at"`
}

// Champion is a model's champion and where it was read from.
type Champion struct {
	// Pointer is nil when the model has no champion yet.
	Pointer *Pointer
	// Source says where the pointer was read, e.g. "origin/main" or
	// "working tree".
	Source string
	// Path is the pointer file, relative to the repository root.
	Path string
	// Warnings explain anything that makes the champion less trustworthy,
	// such as reading it from the working tree a pull request can edit.
	Warnings []string
}

// Entry is one version of the pointer file in its history.
type Entry struct {
	Commit  string    `json:"commit"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
	// Pointer is nil when this version of the file could not be read;
	// Problem then says why.
	Pointer *Pointer `json:"pointer"`
	Problem string   `json:"problem,omitempty"`
}

// Change is a file to commit, relative to the repository root.
type Change struct {
	Path    string
	Content []byte
}

var modelRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`) })

// CheckModel refuses a model name that could not be a pointer file name.
func CheckModel(model string) error {
	if !modelRE().MatchString(model) {
		return &diag.Error{Field: "model", Kind: "registry",
			Msg: fmt.Sprintf("%q is not a model name: 1-100 letters, digits, '.', '_' and '-', starting with a letter or digit", model)}
	}
	return nil
}

// Marshal returns the pointer file's bytes: indented JSON (reviewers read
// it in a diff) and a newline, checked against the schema.
func Marshal(p *Pointer) ([]byte, error) {
	cp := *p
	if cp.SchemaVersion == 0 {
		cp.SchemaVersion = SchemaVersion
	}
	cp.PromotedAt = cp.PromotedAt.UTC()
	p = &cp
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("failed to encode the champion pointer: %w", err)
	}
	if _, err := Parse("the new champion pointer", buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Parse reads a pointer file; name labels error messages. It goes through
// the strict decoder podium's other documents use (strictjson.CheckAs):
// duplicate keys, keys that differ only in case, keys that are no field
// of the pointer ("ArtifACts", which encoding/json would have matched to
// artifacts after the schema had ignored it as unknown), numbers a
// float64 cannot hold exactly, and anything the schema refuses are invalid
// input.
func Parse(name string, data []byte) (*Pointer, error) {
	var p Pointer
	if err := strictjson.CheckAs(name, data, &p); err != nil {
		return nil, err
	}
	var decoded any
	if err := json.Unmarshal(data, &decoded); err != nil {
		return nil, diag.List{{File: name, Msg: fmt.Sprintf("not valid JSON: %v", err), Kind: "registry"}}
	}
	if err := schemas.Validate(SchemaName, decoded); err != nil {
		return nil, schemaError(name, err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, diag.List{{File: name, Msg: err.Error(), Kind: "registry"}}
	}
	return &p, nil
}

// IsPointer reports whether data looks like a pointer file rather than a
// plain metrics file: a JSON object with schema_version, model and metrics.
func IsPointer(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	_, v := top["schema_version"]
	_, m := top["model"]
	_, x := top["metrics"]
	return v && m && x
}

// schemaError turns a jsonschema failure into one diag.Error per leaf.
func schemaError(name string, err error) error {
	return schemas.Errors(name, "registry", err)
}

// ChampionFile is a champion read from a file named on the command line
// (compare --champion, drift --champion) or the pointer file in the
// working tree.
type ChampionFile struct {
	// Pointer is nil when the file is a plain metrics file.
	Pointer *Pointer
	// Metrics are the pointer's metrics, or the metrics file's.
	Metrics map[string]float64
}

// ReadChampionFile reads path, once: a registry pointer (a JSON object
// with schema_version, model and metrics, checked against the registry
// schema) or a plain metrics file (JSON, YAML or CSV, read by the metrics
// parser). Either way duplicate keys, NaN and the rest are invalid input.
// A missing file is an error that matches fs.ErrNotExist.
func ReadChampionFile(path string) (*ChampionFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the champion: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, metrics.MaxFileSize+1))
	switch {
	case errors.Is(err, syscall.EISDIR):
		return nil, &diag.Error{File: path, Msg: "is a directory: name a champion pointer or a metrics file", Kind: "registry"}
	case err != nil:
		return nil, fmt.Errorf("failed to read the champion %s: %w", path, err)
	case len(data) > metrics.MaxFileSize:
		return nil, &diag.Error{File: path, Msg: fmt.Sprintf("file is larger than the %d MiB limit", metrics.MaxFileSize>>20), Kind: "registry"}
	}
	if IsPointer(data) {
		p, err := Parse(path, data)
		if err != nil {
			return nil, err
		}
		m := p.Metrics
		if m == nil {
			m = map[string]float64{}
		}
		return &ChampionFile{Pointer: p, Metrics: m}, nil
	}
	res, err := metrics.Parse(path, data)
	if err != nil {
		return nil, err
	}
	return &ChampionFile{Metrics: res.Metrics}, nil
}
