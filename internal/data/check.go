package data

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
)

// MaxExamples is how many example rows a violation shows.
const MaxExamples = 3

// Result is the outcome of checking files against a schema.
type Result struct {
	Schema string       `json:"schema"`
	Digest string       `json:"digest"`
	Files  []FileResult `json:"files"`
	// Checks counts the expectations evaluated, Passed those that held.
	Checks     int         `json:"checks"`
	Passed     int         `json:"passed"`
	Errors     int         `json:"errors"`
	Warnings   int         `json:"warnings"`
	Violations []Violation `json:"violations"`
}

// OK reports whether no check of error severity failed.
func (r *Result) OK() bool { return r.Errors == 0 }

// FileResult is one file checked.
type FileResult struct {
	File string `json:"file"`
	Rows int64  `json:"rows"`
}

// Violation is one failed check of one column of one file.
type Violation struct {
	File     string    `json:"file"`
	Column   string    `json:"column"` // "" for a file-level check (rows, columns)
	Check    string    `json:"check"`
	Severity Severity  `json:"severity"`
	Count    int64     `json:"count"` // the rows (or values) that failed
	Message  string    `json:"message"`
	Examples []Example `json:"examples"`
}

// Example is one row that failed a check.
type Example struct {
	Line  int64  `json:"line"`
	Value string `json:"value"`
}

// failures counts the rows failing one check and keeps the first few.
type failures struct {
	n  int64
	ex []Example
}

func (f *failures) add(line int64, v []byte) {
	f.n++
	if len(f.ex) < MaxExamples {
		f.ex = append(f.ex, Example{Line: line, Value: cellText(v)})
	}
}

type colCheck struct {
	col                      *Column
	field                    int
	values, missing          int64
	typ, rng, pattern, dupes failures
	unseen                   failures
	unseenBy                 map[string]int64
	domain                   map[string]struct{}
	seen                     map[uint64]int64
}

var seed = maphash.MakeSeed()

// Check reads each file and checks it against the schema, collecting every
// violation (nothing stops at the first). A file that cannot be read as a
// table is an error; a file that reads but breaks the schema is a Result
// with violations.
func Check(ctx context.Context, s *Schema, files []string) (*Result, error) {
	res := &Result{Schema: s.File, Digest: s.Digest, Violations: []Violation{}}
	for _, path := range files {
		if err := checkFile(ctx, s, path, res); err != nil {
			return nil, err
		}
	}
	for _, v := range res.Violations {
		if v.Severity == Error {
			res.Errors++
		} else {
			res.Warnings++
		}
	}
	res.Passed = res.Checks - len(res.Violations)
	return res, nil
}

// fileScan is what one pass over a file found, before it is judged.
type fileScan struct {
	path   string
	checks []*colCheck
	extra  []string // columns the schema does not name, quoted for messages
	rows   int64
	bad    failures
	res    *Result
}

func checkFile(ctx context.Context, s *Schema, path string, res *Result) error {
	f := &fileScan{path: path, res: res}
	err := scan(ctx, path, func(cols []string) error {
		f.start(s, cols)
		return nil
	}, func(fields [][]byte, line int64) {
		f.rows++
		for _, cc := range f.checks {
			if cc.field >= 0 {
				cc.add(fields[cc.field], line)
			}
		}
	}, func(line int64, reason string) {
		f.bad.add(line, []byte(reason))
	})
	if err != nil {
		return err
	}
	res.Files = append(res.Files, FileResult{File: path, Rows: f.rows})
	f.judgeFile(s)
	for _, cc := range f.checks {
		f.judgeColumn(cc)
	}
	return nil
}

// start sets up a check per schema column once the header is known.
func (f *fileScan) start(s *Schema, cols []string) {
	for i := range s.Columns {
		c := &s.Columns[i]
		cc := &colCheck{col: c, field: slices.Index(cols, c.Name)}
		if c.Type == Category {
			cc.domain = make(map[string]struct{}, len(c.Values))
			for _, v := range c.Values {
				cc.domain[v] = struct{}{}
			}
			cc.unseenBy = map[string]int64{}
		}
		if c.Unique {
			cc.seen = map[uint64]int64{}
		}
		f.checks = append(f.checks, cc)
	}
	for _, name := range cols {
		if !slices.ContainsFunc(s.Columns, func(c Column) bool { return c.Name == name }) {
			f.extra = append(f.extra, cellText([]byte(name)))
		}
	}
}

func (f *fileScan) add(v Violation) {
	v.File = f.path
	if v.Examples == nil {
		v.Examples = []Example{}
	}
	f.res.Violations = append(f.res.Violations, v)
}

// judgeFile counts and judges the file-level checks.
func (f *fileScan) judgeFile(s *Schema) {
	res, rows := f.res, f.rows
	res.Checks++ // every row is readable
	if f.bad.n > 0 {
		f.add(Violation{Check: "readable", Severity: Error, Count: f.bad.n, Examples: f.bad.ex,
			Message: plural(f.bad.n, "row", "rows") + " cannot be read"})
	}
	res.Checks++ // there is data to check: zero rows checks nothing, and fails
	if rows == 0 {
		f.add(Violation{Check: CheckEmpty, Severity: Error, Message: "no data rows: nothing was checked"})
	}
	if r := s.Rows; r != nil && (r.Min != nil || r.Max != nil) {
		res.Checks++
		sev := cmp.Or(r.Severity, Error)
		switch {
		case r.Min != nil && rows < *r.Min:
			f.add(Violation{Check: CheckRows, Severity: sev, Count: rows, Message: fmt.Sprintf("%d rows, fewer than min %d", rows, *r.Min)})
		case r.Max != nil && rows > *r.Max:
			f.add(Violation{Check: CheckRows, Severity: sev, Count: rows, Message: fmt.Sprintf("%d rows, more than max %d", rows, *r.Max)})
		}
	}
	res.Checks++
	if len(f.extra) > 0 {
		f.add(Violation{Check: CheckColumns, Severity: cmp.Or(s.ExtraColumns, Warning), Count: int64(len(f.extra)),
			Message: "columns the schema does not name: " + strings.Join(f.extra, ", ")})
	}
}

// judgeColumn counts and judges one column's checks.
func (f *fileScan) judgeColumn(cc *colCheck) {
	res, c := f.res, cc.col
	col := func(check, msg string, fl *failures) {
		v := Violation{Column: c.Name, Check: check, Severity: c.SeverityOf(check), Message: msg}
		if fl != nil {
			v.Count, v.Examples = fl.n, fl.ex
		}
		f.add(v)
	}
	res.Checks++
	if cc.field < 0 {
		// Fail closed: an absent column is never a pass of its checks.
		col(CheckPresent, "the column is missing from the file", nil)
		return
	}
	res.Checks += 2 // type, missing
	if cc.typ.n > 0 {
		col(CheckType, fmt.Sprintf("%s not %s", plural(cc.typ.n, "value is", "values are"), article(c.Type)), &cc.typ)
	}
	total := cc.values + cc.missing
	if c.IsRequired() && cc.missing > 0 {
		fl := failures{n: cc.missing}
		col(CheckMissing, plural(cc.missing, "value", "values")+" missing in a required column", &fl)
	} else if !c.IsRequired() && c.MaxMissing != nil && total > 0 {
		if share := float64(cc.missing) / float64(total); share > *c.MaxMissing {
			fl := failures{n: cc.missing}
			col(CheckMissing, fmt.Sprintf("%s missing, more than max_missing %s", pct(cc.missing, total), pct100(*c.MaxMissing)), &fl)
		}
	}
	if c.Min != nil || c.Max != nil {
		res.Checks++
		if cc.rng.n > 0 {
			col(CheckRange, fmt.Sprintf("%s outside %s", plural(cc.rng.n, "value", "values"), rangeText(c)), &cc.rng)
		}
	}
	if c.Type == Category {
		res.Checks++
		tol := 0.0
		if c.MaxUnseen != nil {
			tol = *c.MaxUnseen
		}
		if cc.unseen.n > 0 && float64(cc.unseen.n)/float64(max(cc.values, 1)) > tol {
			col(CheckDomain, fmt.Sprintf("%s of values outside the domain (max_unseen %s): %s",
				pct(cc.unseen.n, cc.values), pct100(tol), topUnseen(cc.unseenBy)), &cc.unseen)
		}
	}
	if c.re != nil {
		res.Checks++
		if cc.pattern.n > 0 {
			col(CheckPattern, fmt.Sprintf("%s not match %s", plural(cc.pattern.n, "value does", "values do"), cellText([]byte(c.Pattern))), &cc.pattern)
		}
	}
	if c.Unique {
		res.Checks++
		if cc.dupes.n > 0 {
			col(CheckUnique, plural(cc.dupes.n, "value repeats", "values repeat")+" an earlier row's", &cc.dupes)
		}
	}
}

func (cc *colCheck) add(raw []byte, line int64) {
	c := cc.col
	v := trimSpace(raw)
	if len(v) == 0 {
		cc.missing++
		return
	}
	switch c.Type {
	case Number, Integer:
		f, st := parseNum(v)
		if st == numMissing {
			cc.missing++
			return
		}
		if st == numBad || (c.Type == Integer && !isInteger(f)) {
			cc.values++
			cc.typ.add(line, v)
			return
		}
		if (c.Min != nil && f < *c.Min) || (c.Max != nil && f > *c.Max) {
			cc.rng.add(line, v)
		}
	case Boolean:
		if _, ok := parseBool(v); !ok {
			cc.typ.add(line, v)
		}
	case Timestamp:
		if _, ok := parseTime(v); !ok {
			cc.typ.add(line, v)
		}
	case Category:
		if _, ok := cc.domain[string(v)]; !ok {
			cc.unseen.add(line, v)
			if n, ok := cc.unseenBy[string(v)]; ok {
				cc.unseenBy[string(v)] = n + 1
			} else if len(cc.unseenBy) < maxTracked {
				cc.unseenBy[string(v)] = 1
			}
		}
	}
	cc.values++
	if c.re != nil && !c.re.Match(v) {
		cc.pattern.add(line, v)
	}
	if cc.seen != nil {
		// A 64-bit hash per value keeps a key column's memory at a few
		// words a row; a collision (about 1 in 10^7 at 10^6 rows) can only
		// report a duplicate, never hide one.
		h := maphash.Bytes(seed, v)
		if first, dup := cc.seen[h]; dup {
			cc.dupes.add(line, fmt.Appendf(slices.Clip(v), " (as line %d)", first))
		} else {
			cc.seen[h] = line
		}
	}
}

func article(t Type) string {
	switch t {
	case Integer:
		return "integers"
	case Number:
		return "numbers"
	case Boolean:
		return "booleans (true/false)"
	case Timestamp:
		return "timestamps (RFC 3339 or YYYY-MM-DD)"
	}
	return string(t)
}

func rangeText(c *Column) string {
	lo, hi := "-inf", "+inf"
	if c.Min != nil {
		lo = num(*c.Min)
	}
	if c.Max != nil {
		hi = num(*c.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

func pct100(share float64) string { return num(100*share) + "%" }

func topUnseen(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys[:min(5, len(keys))] {
		parts = append(parts, fmt.Sprintf("\"%s\" %d", cellText([]byte(k)), m[k]))
	}
	return strings.Join(parts, ", ")
}

// Text is the human report of a data check: the verdict, then one
// line per violation. Every line starts with podium's words or spaces,
// never with a column name or a value from the data.
func (r *Result) Text() string {
	var b strings.Builder
	verdict := "passed"
	if !r.OK() {
		verdict = "rejected"
	}
	var files []string
	for _, f := range r.Files {
		files = append(files, fmt.Sprintf("%s (%d rows)", f.File, f.Rows))
	}
	fmt.Fprintf(&b, "data: %s: %d of %d checks passed, %d errors, %d warnings\n", verdict, r.Passed, r.Checks, r.Errors, r.Warnings)
	fmt.Fprintf(&b, "schema: %s against %s\n", r.Schema, strings.Join(files, ", "))
	if len(r.Violations) == 0 {
		return b.String()
	}
	rows := [][]string{{"file", "column", "check", "severity", "rows", "examples (line: value)", "problem"}}
	multi := len(r.Files) > 1
	for _, v := range r.Violations {
		var ex []string
		for _, e := range v.Examples {
			ex = append(ex, fmt.Sprintf("%d: %s", e.Line, e.Value))
		}
		col := v.Column
		if col == "" {
			col = "-"
		}
		rows = append(rows, []string{v.File, col, v.Check, string(v.Severity), strconv.FormatInt(v.Count, 10), strings.Join(ex, "; "), v.Message})
	}
	if !multi {
		for i := range rows {
			rows[i] = rows[i][1:]
		}
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row[:len(row)-1] {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, row := range rows {
		b.WriteString(" ")
		for i, c := range row {
			if i == len(row)-1 {
				fmt.Fprintf(&b, " %s", c)
				continue
			}
			fmt.Fprintf(&b, " %-*s", widths[i], c)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// plural is "1 value" or "n values".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
