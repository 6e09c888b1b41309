// Package data infers a data schema from reference data and checks data
// against it, as TFDV's infer_schema/validate_statistics and pandera's lazy
// validation do: every column's type, missing values, numeric range,
// category domain, pattern and uniqueness, and the row count, with every
// violation reported at once.
//
// A schema is YAML (schemas/data.schema.json) that people review and
// commit: Infer writes it in a stable order with comments saying what was
// seen; Load reads it back with positioned errors.
package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/spec"
)

// SchemaName is the embedded JSON Schema a data schema is validated against.
const SchemaName = "data.schema.json"

// MaxSchemaSize bounds a schema file; a real one is a few KiB (category
// domains included).
const MaxSchemaSize = 4 << 20

// Type is a column's type.
type Type string

// Types.
const (
	Number    Type = "number"
	Integer   Type = "integer"
	Boolean   Type = "boolean"
	Category  Type = "category"
	String    Type = "string"
	Timestamp Type = "timestamp"
)

// Severity says whether a failed check fails the data (error) or is only
// reported (warning).
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Check names, as the schema's severity maps and the reports use them.
const (
	CheckPresent = "present"
	CheckType    = "type"
	CheckMissing = "missing"
	CheckRange   = "range"
	CheckDomain  = "domain"
	CheckPattern = "pattern"
	CheckUnique  = "unique"
	CheckRows    = "rows"
	CheckColumns = "columns"
	CheckEmpty   = "empty"
)

// Schema is a loaded data schema.
type Schema struct {
	File   string `json:"-"`
	Digest string `json:"-"` // sha256:<hex> of the file's bytes

	Version      int      `json:"version"`
	Rows         *Rows    `json:"rows,omitempty"`
	ExtraColumns Severity `json:"extra_columns,omitempty"`
	Columns      []Column `json:"columns"`
}

// Rows bounds the data rows of each file.
type Rows struct {
	Min      *int64   `json:"min,omitempty"`
	Max      *int64   `json:"max,omitempty"`
	Severity Severity `json:"severity,omitempty"`
}

// Column is what one column must hold.
type Column struct {
	Name       string   `json:"name"`
	Type       Type     `json:"type"`
	Required   *bool    `json:"required,omitempty"`
	MaxMissing *float64 `json:"max_missing,omitempty"`
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	Values     []string `json:"values,omitempty"`
	MaxUnseen  *float64 `json:"max_unseen,omitempty"`
	Pattern    string   `json:"pattern,omitempty"`
	Unique     bool     `json:"unique,omitempty"`
	// Severity is a string (every check) or a map by check name.
	Severity any `json:"severity,omitempty"`

	re *regexp.Regexp
}

// IsRequired reports whether no value may be missing (the default).
func (c *Column) IsRequired() bool { return c.Required == nil || *c.Required }

// SeverityOf returns the severity of the named check of this column.
func (c *Column) SeverityOf(check string) Severity {
	switch s := c.Severity.(type) {
	case string:
		return Severity(s)
	case map[string]any:
		if v, ok := s[check].(string); ok {
			return Severity(v)
		}
	}
	return Error
}

// Load reads and validates a data schema file. Invalid schemas are a
// diag.List (exit 2) naming the file, line and field of each problem.
func Load(path string) (*Schema, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, diag.List{{File: path, Msg: "no such data schema file (write one with podium data infer)"}}
	case err != nil:
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return nil, diag.List{{File: path, Msg: "is not a regular file"}}
	case fi.Size() > MaxSchemaSize:
		return nil, diag.List{{File: path, Msg: fmt.Sprintf("file is %d bytes; a data schema may be at most %d", fi.Size(), MaxSchemaSize)}}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	return Parse(path, raw)
}

// Parse validates schema bytes; file names it in messages.
func Parse(file string, raw []byte) (*Schema, error) {
	y, err := spec.ParseYAMLFile(file, raw, SchemaName)
	if err != nil {
		return nil, err
	}
	buf, err := json.Marshal(y.Value)
	if err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", file, err)
	}
	var s Schema
	if err := json.Unmarshal(buf, &s); err != nil {
		return nil, diag.List{{File: file, Msg: "failed to decode: " + err.Error()}}
	}
	s.File = file
	sum := sha256.Sum256(raw)
	s.Digest = "sha256:" + hex.EncodeToString(sum[:])
	var list diag.List
	seen := map[string]int{}
	for i := range s.Columns {
		c := &s.Columns[i]
		ptr := fmt.Sprintf("/columns/%d", i)
		if prev, dup := seen[c.Name]; dup {
			list = append(list, y.Problem(ptr+"/name", fmt.Sprintf("column %q is also columns[%d]", c.Name, prev)))
		}
		seen[c.Name] = i
		numeric := c.Type == Number || c.Type == Integer
		if (c.Min != nil || c.Max != nil) && !numeric {
			list = append(list, y.Problem(ptr+"/type", fmt.Sprintf("min and max need a number or integer column, not %s", c.Type)))
		}
		if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
			list = append(list, y.Problem(ptr+"/min", fmt.Sprintf("min %v is above max %v", *c.Min, *c.Max)))
		}
		if (c.Values != nil || c.MaxUnseen != nil) && c.Type != Category {
			list = append(list, y.Problem(ptr+"/type", fmt.Sprintf("values and max_unseen need a category column, not %s", c.Type)))
		}
		if c.Type == Category && c.Values == nil {
			list = append(list, y.Problem(ptr, "a category column needs values (its domain)"))
		}
		if c.MaxMissing != nil && c.IsRequired() {
			list = append(list, y.Problem(ptr+"/max_missing", "max_missing needs required: false"))
		}
		if c.Pattern != "" {
			re, err := regexp.Compile(c.Pattern)
			if err != nil {
				list = append(list, y.Problem(ptr+"/pattern", "not an RE2 regular expression: "+err.Error()))
			}
			c.re = re
		}
		if len(c.Values) > 0 {
			vals := slices.Clone(c.Values)
			slices.Sort(vals)
			if i := duplicateAt(vals); i >= 0 {
				list = append(list, y.Problem(ptr+"/values", fmt.Sprintf("value %q is listed twice", vals[i])))
			}
		}
	}
	if s.Rows != nil && s.Rows.Min != nil && s.Rows.Max != nil && *s.Rows.Min > *s.Rows.Max {
		list = append(list, y.Problem("/rows/min", fmt.Sprintf("min %d is above max %d", *s.Rows.Min, *s.Rows.Max)))
	}
	if len(list) > 0 {
		list.Sort()
		return nil, list
	}
	return &s, nil
}

func duplicateAt(sorted []string) int {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return i
		}
	}
	return -1
}
