package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/third_party/jsonschema"
	"github.com/podium-ml/podium/schemas"
)

// MaxSize is the largest spec file podium reads. A real spec is a few KiB;
// anything near this is a mistake (a data file passed as --spec).
const MaxSize = 1 << 20

// SchemaName is the embedded schema podium.yaml is validated against.
const SchemaName = "pipeline.schema.json"

// problem is a finding before it is turned into a diag.Error: the JSON
// pointer of the value it concerns, or an explicit position.
type problem struct {
	ptr       string
	line, col int
	key       bool // point at the key, not the value
	msg       string
}

// Load reads, defaults and validates the spec at path. The error, when not
// nil, is a diag.List with every problem found (invalid input, exit 2) or
// an I/O error.
func Load(path string) (*Spec, error) {
	data, err := readSpecFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

func readSpecFile(path string) ([]byte, error) {
	fail := func(msg string) error {
		return diag.List{{File: path, Msg: msg}}
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fail("no such file (pass --spec to name the spec file)")
	case err != nil:
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	case fi.IsDir():
		return nil, fail("is a directory, not a spec file")
	case !fi.Mode().IsRegular():
		return nil, fail("is not a regular file")
	case fi.Size() > MaxSize:
		return nil, fail(fmt.Sprintf("file is %d bytes; a spec may be at most %d", fi.Size(), MaxSize))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	defer f.Close()
	// The size can change between Stat and Read; the limit holds regardless.
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fail(fmt.Sprintf("file is larger than %d bytes", MaxSize))
	}
	return data, nil
}

// Parse validates spec bytes; file names the spec in messages and sets
// Spec.File and Spec.Dir.
func Parse(file string, data []byte) (*Spec, error) {
	toDiag := func(d *document, probs []problem) error {
		var list diag.List
		for _, p := range probs {
			e := &diag.Error{File: file, Line: p.line, Col: p.col, Field: fieldPath(p.ptr), Msg: p.msg}
			if e.Line == 0 && d != nil {
				pos := d.at(p.ptr)
				if p.key {
					pos = d.keyAt(p.ptr)
				}
				e.Line, e.Col = pos.line, pos.col
			}
			list = append(list, e)
		}
		list.Sort()
		return list.Err()
	}

	if probs := checkText(data); len(probs) > 0 {
		return nil, toDiag(nil, probs)
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, toDiag(nil, []problem{*err})
	}
	doc, probs := newDocument(root)
	if len(probs) > 0 {
		return nil, toDiag(doc, probs)
	}
	if _, ok := doc.value.(map[string]any); !ok {
		return nil, toDiag(doc, []problem{{line: 1, col: 1, msg: "a spec is a mapping (version: 1, model: ..., pipeline: ...)"}})
	}
	// Every problem at once: the schema's, then the semantic checks on
	// whatever decodes, skipping values the schema already complained about.
	probs = validateSchema(doc)
	s, decodeProbs := decode(doc)
	if s == nil {
		return nil, toDiag(doc, probs)
	}
	probs = append(probs, decodeProbs...)
	s.File = file
	s.Dir = filepath.Dir(file)
	sum := sha256.Sum256(data)
	s.Digest = "sha256:" + hex.EncodeToString(sum[:])
	applyDefaults(s)
	for _, p := range check(s) {
		if !coveredBy(p.ptr, probs) {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, toDiag(doc, probs)
	}
	return s, nil
}

// coveredBy reports whether a problem was already found at ptr or at a
// value that contains it.
func coveredBy(ptr string, probs []problem) bool {
	for _, p := range probs {
		if p.ptr == ptr || strings.HasPrefix(ptr, p.ptr+"/") {
			return true
		}
	}
	return false
}

// checkText rejects what is not a text file before YAML sees it.
func checkText(data []byte) []problem {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return []problem{{msg: "the file is empty; a spec needs at least version: 1 and model: <name>"}}
	case bytes.IndexByte(data, 0) >= 0:
		return []problem{{msg: "the file is binary (it contains NUL bytes), not YAML"}}
	case !utf8.Valid(data):
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		return []problem{{line: line, msg: "the file is not valid UTF-8"}}
	}
	return nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parseYAML parses exactly one YAML document.
func parseYAML(data []byte) (*yaml.Node, *problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return nil, yamlProblem(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &problem{line: extra.Line, col: extra.Column, msg: "a spec is a single YAML document; remove the second one (after ---)"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlProblem(err, data)
	}
	return &root, nil
}

func yamlProblem(err error, data []byte) *problem {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if strings.Contains(m[2], "tab character") {
			// The parser names the line before the offending tab (where
			// the block it breaks began): point at the tab itself.
			if l, c := tabAfter(data, line); l > 0 {
				return &problem{line: l, col: c, msg: "invalid YAML: " + m[2] + " (indent with spaces)"}
			}
		}
		return &problem{line: line, msg: "invalid YAML: " + m[2]}
	}
	return &problem{msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// rawSpec mirrors the YAML before durations and defaults are applied.
type rawSpec struct {
	Version        int            `json:"version"`
	Model          string         `json:"model"`
	Registry       Registry       `json:"registry"`
	Cache          Cache          `json:"cache"`
	Params         map[string]any `json:"params"`
	Components     []Component    `json:"components"`
	Pipeline       []rawStep      `json:"pipeline"`
	Metrics        string         `json:"metrics"`
	Artifact       string         `json:"artifact"`
	EvaluationData []string       `json:"evaluation_data"`
	Gate           Gate           `json:"gate"`
	Deploy         *Deploy        `json:"deploy"`
	Drift          Drift          `json:"drift"`
	Data           *Data          `json:"data"`
}

type rawStep struct {
	Name    string         `json:"name"`
	Run     string         `json:"run"`
	Needs   []string       `json:"needs"`
	Inputs  []string       `json:"inputs"`
	Outputs []string       `json:"outputs"`
	Timeout string         `json:"timeout"`
	Env     map[string]any `json:"env"`
	RunsOn  []string       `json:"runs_on"`
	Params  []string       `json:"params"`
}

// decode turns the schema-valid document into a Spec.
func decode(doc *document) (*Spec, []problem) {
	buf, err := json.Marshal(doc.value)
	if err != nil {
		return nil, []problem{{msg: err.Error()}}
	}
	var raw rawSpec
	if err := json.Unmarshal(buf, &raw); err != nil {
		// Only reachable when the schema already reported the wrong type.
		return nil, nil
	}
	s := &Spec{
		Version: raw.Version, Model: raw.Model, Registry: raw.Registry, Cache: raw.Cache,
		Params: raw.Params, Components: raw.Components, Metrics: raw.Metrics,
		Artifact: raw.Artifact, EvaluationData: raw.EvaluationData, Gate: raw.Gate,
		Deploy: raw.Deploy, Drift: raw.Drift, Data: raw.Data,
	}
	var probs []problem
	for i, rs := range raw.Pipeline {
		st := Step{Name: rs.Name, Run: rs.Run, Needs: rs.Needs, Inputs: rs.Inputs, Outputs: rs.Outputs, RunsOn: rs.RunsOn, Params: rs.Params}
		if rs.Timeout != "" {
			d, err := parseDuration(rs.Timeout)
			if err != nil {
				probs = append(probs, problem{ptr: fmt.Sprintf("/pipeline/%d/timeout", i), msg: err.Error()})
			}
			st.Timeout = d
		}
		if len(rs.Env) > 0 {
			st.Env = make(map[string]string, len(rs.Env))
			for k, v := range rs.Env {
				st.Env[k] = scalarString(v)
			}
		}
		s.Pipeline = append(s.Pipeline, st)
	}
	return s, probs
}

// scalarString renders a YAML scalar the way a shell variable holds it.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// validateSchema checks the document against the embedded JSON Schema and
// turns each leaf failure into a positioned problem.
func validateSchema(doc *document) []problem {
	err := schemas.Validate(SchemaName, doc.value)
	if err == nil {
		return nil
	}
	leaves := schemas.Leaves(err)
	if leaves == nil {
		return []problem{{msg: err.Error()}}
	}
	var probs []problem
	seen := map[string]bool{}
	for _, e := range leaves {
		for _, p := range schemaProblems(SchemaName, e, doc.value) {
			if k := p.ptr + "\x00" + p.msg; !seen[k] {
				seen[k] = true
				probs = append(probs, p)
			}
		}
	}
	return probs
}

var (
	additionalRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^additionalProperties (.+) not allowed$`) })
	missingRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^missing properties: (.+)$`) })
	quotedRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`) })
)

// schemaProblems rewrites a jsonschema message into one users read easily.
// root is the document's decoded value, for messages that name the value.
func schemaProblems(schemaName string, e *jsonschema.ValidationError, root any) []problem {
	ptr := e.InstanceLocation
	if m := additionalRE().FindStringSubmatch(e.Message); m != nil {
		allowed := allowedKeys(schemaName, e.KeywordLocation)
		var probs []problem
		for _, q := range quotedRE().FindAllStringSubmatch(m[1], -1) {
			key := q[1]
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if len(allowed) > 0 {
				msg += " (allowed: " + strings.Join(allowed, ", ") + ")"
			}
			probs = append(probs, problem{ptr: ptr + "/" + escapePointer(key), key: true, msg: msg})
		}
		return probs
	}
	if m := missingRE().FindStringSubmatch(e.Message); m != nil {
		var probs []problem
		for _, q := range quotedRE().FindAllStringSubmatch(m[1], -1) {
			probs = append(probs, problem{ptr: ptr, msg: fmt.Sprintf("missing required key %q", q[1])})
		}
		return probs
	}
	msg := e.Message
	switch {
	case strings.HasSuffix(e.KeywordLocation, "/const") && ptr == "/version":
		msg = versionProblem(root)
	case strings.HasSuffix(e.AbsoluteKeywordLocation, "/$defs/name/pattern"):
		msg = "a name is 1-100 characters of letters, digits, '.', '_' and '-', starting with a letter or digit"
	case strings.HasSuffix(e.KeywordLocation, "/propertyNames/pattern"):
		msg = "names must be valid environment variable names (letters, digits, _; not starting with a digit)"
	case strings.HasSuffix(e.KeywordLocation, "/deploy/properties/field/pattern"):
		msg = "a field is a dotted path with optional indexes, e.g. spec.predictor.model.storageUri or spec.containers[0].image"
	}
	return []problem{{ptr: ptr, msg: msg}}
}

// versionProblem says why version is not 1: a number podium does not read,
// or a value of the wrong type (version: "1" is a string, not the integer).
func versionProblem(root any) string {
	m, _ := root.(map[string]any)
	switch v := m["version"].(type) {
	case float64:
		return "unsupported spec version; this podium reads version: 1"
	case string:
		return fmt.Sprintf("expected integer 1, got string %q (write version: 1, without quotes)", v)
	case nil:
		return "expected integer 1, got null"
	case bool:
		return "expected integer 1, got boolean"
	case []any:
		return "expected integer 1, got a list"
	default:
		return "expected integer 1, got a mapping"
	}
}

// allowedKeys reads the property names allowed at the schema location of an
// additionalProperties keyword, for suggestions.
func allowedKeys(schemaName, keywordLocation string) []string {
	raw, err := schemas.Raw(schemaName)
	if err != nil {
		return nil
	}
	var node any
	if err := json.Unmarshal(raw, &node); err != nil {
		return nil
	}
	loc := strings.TrimSuffix(keywordLocation, "/additionalProperties")
	for _, tok := range strings.Split(strings.TrimPrefix(loc, "/"), "/") {
		if tok == "" {
			continue
		}
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[unescapePointer(tok)]
	}
	m, _ := node.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tabAfter returns the line and column (1-based) of the first tab in the
// indentation of a line at or after line, or 0, 0.
func tabAfter(data []byte, line int) (int, int) {
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 < line {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if c := strings.IndexByte(indent, '\t'); c >= 0 {
			return i + 1, c + 1
		}
	}
	return 0, 0
}
