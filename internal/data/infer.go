package data

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/table"
)

// Inference rules, the same for every file (documented in docs/data.md):
//
//   - type: boolean when every value is true/false; integer when every
//     value is a whole number; number when every value is a number;
//     timestamp when every value is an RFC 3339 date or date-time; else
//     category when the column has at most MaxDomain distinct values and
//     each repeats on average (distinct ≤ values/2), else string.
//   - required when no value is missing; otherwise max_missing is twice
//     the share seen, rounded up to a percent.
//   - number and integer ranges: the seen range widened by a tenth of its
//     span on each side (not below 0 when nothing seen was), so a fresh
//     sample of the same data passes; the comment says what was seen.
//   - category domains: the values seen, sorted; max_unseen 0.
//   - unique only for the --key columns; pattern never (declare it).
//   - rows: from half the smallest file to ten times the largest.

// MaxDomain is the most distinct values a column inferred as category has.
const MaxDomain = 100

// maxTracked bounds the distinct values counted per column.
const maxTracked = MaxDomain + 1

// InferOptions tune Infer.
type InferOptions struct {
	// Keys are columns declared unique.
	Keys []string
}

type colStats struct {
	name            string
	values, missing int64
	isBool, isInt   bool
	isNum, isTime   bool
	min, max        float64
	tmin, tmax      time.Time
	cats            map[string]int64
	over            bool
}

// Inferred is an inferred schema with what was seen, for the comments.
type Inferred struct {
	Schema *Schema
	Files  []string
	rows   []int64
	stats  []*colStats
}

// Infer reads the reference files (same columns, in any order) and
// returns a schema that every one of them passes.
func Infer(ctx context.Context, files []string, opts InferOptions) (*Inferred, error) {
	var stats []*colStats
	byName := map[string]*colStats{}
	inf := &Inferred{Files: files}
	for _, path := range files {
		var idx []*colStats
		var rows int64
		var bad []string
		err := scan(ctx, path, func(cols []string) error {
			if stats != nil {
				if err := sameColumns(path, files[0], cols, stats); err != nil {
					return err
				}
			}
			for _, name := range cols {
				s := byName[name]
				if s == nil {
					s = &colStats{name: name, isBool: true, isInt: true, isNum: true, isTime: true,
						min: math.Inf(1), max: math.Inf(-1), cats: map[string]int64{}}
					byName[name] = s
					stats = append(stats, s)
				}
				idx = append(idx, s)
			}
			return nil
		}, func(fields [][]byte, _ int64) {
			rows++
			for i, raw := range fields {
				idx[i].add(raw)
			}
		}, func(line int64, reason string) {
			if len(bad) < 3 {
				bad = append(bad, fmt.Sprintf("line %d: %s", line, reason))
			}
		})
		if err != nil {
			return nil, err
		}
		if len(bad) > 0 {
			return nil, &table.InvalidError{File: path, Msg: "reference data has unreadable rows (" + strings.Join(bad, "; ") + "); fix them before inferring a schema"}
		}
		if rows == 0 {
			return nil, &table.InvalidError{File: path, Msg: "no data rows after the header: nothing to infer from"}
		}
		inf.rows = append(inf.rows, rows)
	}
	for _, k := range opts.Keys {
		if byName[k] == nil {
			return nil, &table.InvalidError{File: files[0], Msg: fmt.Sprintf("--key %q is not a column", k)}
		}
	}
	s := &Schema{Version: 1}
	lo, hi := slices.Min(inf.rows), slices.Max(inf.rows)
	minRows, maxRows := lo/2, hi*10
	s.Rows = &Rows{Min: &minRows, Max: &maxRows}
	for _, st := range stats {
		c := st.column()
		if slices.Contains(opts.Keys, st.name) {
			c.Unique = true
		}
		s.Columns = append(s.Columns, c)
	}
	inf.Schema, inf.stats = s, stats
	return inf, nil
}

func sameColumns(path, first string, cols []string, stats []*colStats) error {
	var have []string
	for _, s := range stats {
		have = append(have, s.name)
	}
	a, b := slices.Sorted(slices.Values(cols)), slices.Sorted(slices.Values(have))
	if !slices.Equal(a, b) {
		return &table.InvalidError{File: path, Line: 1, Msg: fmt.Sprintf("header: columns %s differ from %s's %s",
			strings.Join(cols, ", "), first, strings.Join(have, ", "))}
	}
	return nil
}

func (s *colStats) add(raw []byte) {
	v := trimSpace(raw)
	if len(v) == 0 {
		s.missing++
		return
	}
	if s.isNum || s.isInt {
		f, st := table.ParseNumber(v)
		switch st {
		case table.NumMissing: // NaN
			s.missing++
			return
		case table.NumOK:
			s.min, s.max = min(s.min, f), max(s.max, f)
			if s.isInt && (!isInteger(f) || bytes0(v)) {
				s.isInt = false
			}
		default:
			s.isNum, s.isInt = false, false
		}
	}
	s.values++
	if s.isBool {
		if _, ok := parseBool(v); !ok {
			s.isBool = false
		}
	}
	if s.isTime {
		if t, ok := parseTime(v); ok {
			if s.tmin.IsZero() || t.Before(s.tmin) {
				s.tmin = t
			}
			if t.After(s.tmax) {
				s.tmax = t
			}
		} else {
			s.isTime = false
		}
	}
	if !s.over {
		if n, ok := s.cats[string(v)]; ok {
			s.cats[string(v)] = n + 1
		} else if len(s.cats) >= maxTracked {
			s.over = true
		} else {
			s.cats[string(v)] = 1
		}
	}
}

// bytes0 reports a number written with a decimal point or exponent
// ("1.0", "1e3"): a writer that prints those means a float column.
func bytes0(v []byte) bool {
	return strings.ContainsAny(string(v), ".eE")
}

func (s *colStats) column() Column {
	c := Column{Name: s.name}
	switch {
	case s.values == 0:
		c.Type = String
	case s.isBool:
		c.Type = Boolean
	case s.isInt:
		c.Type = Integer
	case s.isNum:
		c.Type = Number
	case s.isTime:
		c.Type = Timestamp
	case !s.over && int64(len(s.cats)) <= MaxDomain && int64(len(s.cats))*2 <= s.values:
		c.Type = Category
	default:
		c.Type = String
	}
	if s.missing > 0 {
		f := false
		c.Required = &f
		share := math.Min(1, math.Ceil(200*float64(s.missing)/float64(s.values+s.missing))/100)
		c.MaxMissing = &share
	}
	switch c.Type {
	case Number, Integer:
		span := s.max - s.min
		lo, hi := s.min-span/10, s.max+span/10
		if s.min >= 0 && lo < 0 {
			lo = 0
		}
		if c.Type == Integer {
			lo, hi = math.Floor(lo), math.Ceil(hi)
		} else {
			lo, hi = roundDown(lo), roundUp(hi)
		}
		c.Min, c.Max = &lo, &hi
	case Category:
		for v := range s.cats {
			c.Values = append(c.Values, v)
		}
		slices.Sort(c.Values)
		zero := 0.0
		c.MaxUnseen = &zero
	}
	return c
}

// roundDown and roundUp keep three significant digits, so a bound reads
// well and still holds what it must.
func roundDown(v float64) float64 { return roundSig(v, math.Floor) }
func roundUp(v float64) float64   { return roundSig(v, math.Ceil) }

func roundSig(v float64, f func(float64) float64) float64 {
	if v == 0 || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
	return f(v*p) / p
}

// YAML renders the schema for review: stable order (the reference's
// columns), a comment per column with what was seen.
func (inf *Inferred) YAML() []byte {
	var b strings.Builder
	b.WriteString("# podium data schema: what the model's data must look like.\n")
	fmt.Fprintf(&b, "# Inferred by podium data infer from %s; review it, then commit it.\n", strings.Join(quoteAll(inf.Files), ", "))
	b.WriteString("# Each check fails with severity error unless a column says severity: warning\n# (or per check: severity: {range: warning}).\n")
	b.WriteString("version: 1\n")
	var rows []string
	for i, n := range inf.rows {
		rows = append(rows, fmt.Sprintf("%s: %d", inf.Files[i], n))
	}
	fmt.Fprintf(&b, "rows:\n  # seen: %s\n  min: %d\n  max: %d\n", strings.Join(rows, ", "), *inf.Schema.Rows.Min, *inf.Schema.Rows.Max)
	b.WriteString("columns:\n")
	for i, c := range inf.Schema.Columns {
		st := inf.stats[i]
		fmt.Fprintf(&b, "  - name: %s\n", yamlString(c.Name))
		fmt.Fprintf(&b, "    # seen: %s\n", st.seen(c.Type))
		fmt.Fprintf(&b, "    type: %s\n", c.Type)
		if c.Required != nil {
			fmt.Fprintf(&b, "    required: false\n    max_missing: %s\n", num(*c.MaxMissing))
		}
		if c.Min != nil {
			fmt.Fprintf(&b, "    min: %s\n    max: %s\n", num(*c.Min), num(*c.Max))
		}
		if c.Values != nil {
			b.WriteString("    values:\n")
			for _, v := range c.Values {
				fmt.Fprintf(&b, "      - %s\n", yamlString(v))
			}
			fmt.Fprintf(&b, "    max_unseen: %s\n", num(*c.MaxUnseen))
		}
		if c.Unique {
			b.WriteString("    unique: true\n")
		}
	}
	return []byte(b.String())
}

func (s *colStats) seen(t Type) string {
	total := s.values + s.missing
	parts := []string{fmt.Sprintf("%d values, %d missing (%s)", s.values, s.missing, pct(s.missing, total))}
	switch t {
	case Number, Integer:
		parts = append(parts, fmt.Sprintf("min %s, max %s", num(s.min), num(s.max)))
	case Timestamp:
		parts = append(parts, fmt.Sprintf("from %s to %s", s.tmin.Format(time.RFC3339), s.tmax.Format(time.RFC3339)))
	case Category:
		type kv struct {
			k string
			n int64
		}
		var top []kv
		for k, n := range s.cats {
			top = append(top, kv{k, n})
		}
		slices.SortFunc(top, func(a, b kv) int {
			if a.n != b.n {
				return int(b.n - a.n)
			}
			return strings.Compare(a.k, b.k)
		})
		var ps []string
		for _, e := range top[:min(5, len(top))] {
			ps = append(ps, fmt.Sprintf("%s %d", cellText([]byte(e.k)), e.n))
		}
		parts = append(parts, fmt.Sprintf("%d categories, most frequent: %s", len(top), strings.Join(ps, ", ")))
	case String:
		if s.over {
			parts = append(parts, fmt.Sprintf("more than %d distinct values", MaxDomain))
		} else {
			parts = append(parts, fmt.Sprintf("%d distinct values", len(s.cats)))
		}
	}
	return strings.Join(parts, "; ")
}

func pct(n, total int64) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'g', 3, 64) + "%"
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// yamlString quotes a string as YAML reads it back unchanged: JSON's
// double-quoted strings are YAML double-quoted scalars.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = printable(s)
	}
	return out
}
