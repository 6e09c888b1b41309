// Package metrics reads a model's metrics file (JSON, YAML or CSV) into a
// flat set of named numbers.
//
// Nested objects flatten to dotted names ({"latency_ms":{"p95":41}} is
// latency_ms.p95) and array elements to their index (x.0, x.1). Numbers are
// kept; strings, booleans and nulls are listed in Result.Skipped so the CLI
// can warn about them. Anything that would make a comparison lie is invalid
// input, reported with the file, line and column: NaN and ±Infinity (which
// Python's json module writes by default), numbers that overflow float64,
// duplicate keys and keys that differ only in case (Go's encoding/json would
// silently let the last one win, matching case-insensitively), bytes that
// are not UTF-8, trailing data after the document, and files past the size,
// depth or metric-count limits.
//
// A UTF-8 byte order mark is rejected in JSON (RFC 8259 forbids writing one
// and Python's json.loads refuses it too) and ignored in YAML and CSV, whose
// writers (YAML 1.2, spreadsheet exports) are allowed to add it.
package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/strictjson"
)

// Limits on what a metrics file may hold. A metrics file is a few kilobytes;
// these bound the memory and time a hostile or broken one can cost.
const (
	MaxFileSize = 64 << 20            // bytes
	MaxDepth    = strictjson.MaxDepth // nesting of objects and arrays
	MaxValues   = 10000               // keys and array elements, containers included
	// MaxYAMLSize is lower: yaml.v3 builds a node tree of a few hundred
	// bytes per value before we can count them, so a 64 MiB list of tiny
	// values would cost gigabytes. 1 MiB holds far more than MaxValues.
	MaxYAMLSize = 1 << 20
)

const kind = "metrics"

var bom = []byte("\xef\xbb\xbf")

// Set maps flattened metric names to their values. Every value is finite.
type Set map[string]float64

// Names returns the metric names in sorted order.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Result is a parsed metrics file.
type Result struct {
	Metrics Set
	// Skipped lists, sorted, the names whose values are not numbers
	// (strings, booleans, nulls), so the caller can warn about them.
	Skipped []string
}

// ReadFile reads and parses the metrics file at path. The format comes from
// the extension (.json, .yaml, .yml, .csv), else from the content.
func ReadFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read metrics: %w", err)
	}
	defer f.Close()
	// A regular file's size is known: refuse a huge one before reading it.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, tooLarge(path)
	}
	data, err := readLimited(f, MaxFileSize)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, tooLarge(path)
		}
		return nil, fmt.Errorf("failed to read metrics %s: %w", path, err)
	}
	return Parse(path, data)
}

var errTooLarge = errors.New("too large")

// readLimited reads r to the end, failing once it passes limit bytes (a
// pipe or device has no size to check up front).
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

func tooLarge(name string) error {
	return &diag.Error{File: name, Kind: kind,
		Msg: fmt.Sprintf("file is larger than the %d MiB limit for a metrics file", MaxFileSize>>20)}
}

// Parse parses data as the metrics file called name. The name picks the
// format by its extension and prefixes error messages.
func Parse(name string, data []byte) (*Result, error) {
	if len(data) > MaxFileSize {
		return nil, tooLarge(name)
	}
	if !utf8.Valid(data) {
		off := strictjson.InvalidUTF8(data)
		line, col := strictjson.Position(data, off)
		return nil, &diag.Error{File: name, Line: line, Col: col, Kind: kind,
			Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x: save the file as UTF-8", data[off])}
	}
	p := &parser{file: name, kind: kind, data: data, res: &Result{Metrics: Set{}}, seen: map[string]seenName{}}
	var err error
	switch formatOf(name, data) {
	case formatJSON:
		err = p.parseJSON()
	case formatYAML:
		err = p.parseYAML()
	default:
		err = p.parseCSV()
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(p.res.Skipped)
	return p.res, nil
}

type format int

const (
	formatJSON format = iota
	formatYAML
	formatCSV
)

func formatOf(name string, data []byte) format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return formatJSON
	case ".yaml", ".yml":
		return formatYAML
	case ".csv":
		return formatCSV
	}
	// Sniff: JSON opens with a brace or bracket; a first line with a comma
	// and no colon is CSV; anything else is YAML.
	rest := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n")
	if len(rest) == 0 || rest[0] == '{' || rest[0] == '[' {
		return formatJSON
	}
	first, _, _ := bytes.Cut(rest, []byte("\n"))
	if bytes.IndexByte(first, ',') >= 0 && bytes.IndexByte(first, ':') < 0 {
		return formatCSV
	}
	return formatYAML
}

// parser holds the state shared by the three formats.
type parser struct {
	file  string
	kind  string // shown in brackets after each error
	data  []byte
	res   *Result
	seen  map[string]seenName // folded flattened name -> first occurrence
	count int
}

type seenName struct {
	name string
	pos  pos
}

// pos is a place in the file: a line and column, or (JSON, where computing
// them for every key would cost a scan each) a byte offset resolved only
// when an error needs it.
type pos struct {
	off       int
	line, col int
}

func (p *parser) resolve(at pos) (line, col int) {
	if at.line > 0 {
		return at.line, at.col
	}
	return strictjson.Position(p.data, at.off)
}

// errAt returns a positioned error about metric (may be "").
func (p *parser) errAt(line, col int, metric, format string, args ...any) error {
	return &diag.Error{File: p.file, Line: line, Col: col, Field: strictjson.ShortName(metric), Kind: p.kind,
		Msg: fmt.Sprintf(format, args...)}
}

// errPos is errAt with a pos.
func (p *parser) errPos(at pos, metric, format string, args ...any) error {
	line, col := p.resolve(at)
	return p.errAt(line, col, metric, format, args...)
}

// enter counts one key or array element against MaxValues.
func (p *parser) enter(name string, at pos) error {
	p.count++
	if p.count > MaxValues {
		return p.errPos(at, name, "more than %d values: a metrics file is limited to %d keys and array elements", MaxValues, MaxValues)
	}
	return nil
}

// checkKey rejects a key no metric name may contain.
func checkKey(key string) string {
	if key == "" {
		return "empty key"
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Sprintf("key %q contains a control character", key)
		}
	}
	return ""
}

// add records a leaf. value is nil for a non-numeric one (skipped). The
// position is used for this leaf's errors and for later duplicates: two
// spellings can flatten to one name ({"a.b":1,"a":{"b":2}}).
func (p *parser) add(name string, value *float64, at pos) error {
	folded := strictjson.Fold(name)
	if prev, ok := p.seen[folded]; ok {
		line, col := p.resolve(prev.pos)
		if prev.name == name {
			return p.errPos(at, name, "duplicate metric (first defined at line %d, column %d)", line, col)
		}
		return p.errPos(at, name, "metric differs from %q (line %d, column %d) only in case: names must be unique ignoring case", prev.name, line, col)
	}
	p.seen[folded] = seenName{name: name, pos: at}
	if value == nil {
		p.res.Skipped = append(p.res.Skipped, name)
		return nil
	}
	p.res.Metrics[name] = *value
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
