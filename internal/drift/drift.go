// Package drift measures how far current data has moved from the data a
// model was trained on, and decides whether the model should be retrained.
//
// For each column of two CSV files (a header row, RFC 4180), a numeric
// column gets the two-sample Kolmogorov–Smirnov statistic and the
// population stability index over ten bins cut at the reference deciles; a
// categorical column gets the PSI over its categories (categories the
// reference never had share one extra bin) and the share of new
// categories. Both files are read once, in parallel blocks, in bounded
// memory, and the statistics are exact at any size (internal/extsort). Rows that
// cannot be read (a wrong number of fields, a number that does not parse)
// are counted and their lines reported.
//
// Performance decay (live metrics against the champion's, by the gate
// rules) is in decay.go. The package is pure: readers and numbers in,
// statistics and a verdict out.
package drift

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/extsort"
	"github.com/podium-ml/podium/internal/table"
)

// Kind says how a column is compared.
type Kind string

// Kinds.
const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
)

// Thresholds above which a statistic means drift.
type Thresholds struct {
	PSI float64 `json:"psi"`
	// KS and LInf are effect-size floors: a column drifts on them only
	// when the statistic is also above its critical value at Alpha for the
	// two sample sizes (see judge), so small samples are not flagged for
	// noise and huge ones not for differences too small to matter.
	KS   float64 `json:"ks"`
	LInf float64 `json:"linf"`
	// Alpha is the significance level of the size-aware critical value.
	Alpha float64 `json:"alpha"`
	// Share is the share of compared columns that must drift for the
	// dataset to drift; 0 means any one column.
	Share float64 `json:"share"`
}

// Defaults, as the spec's drift section has them.
const (
	DefaultPSIThreshold = 0.2
	DefaultKSThreshold  = 0.1
	// DefaultLInfThreshold is the floor of L∞ on category shares (the
	// largest change of one category's share), as TFDV's drift comparator.
	DefaultLInfThreshold = 0.1
	// DefaultAlpha is the significance level of the critical values.
	DefaultAlpha = 0.05
	// DefaultMemoryBudget bounds the values held in memory before sorted
	// runs go to temporary files.
	DefaultMemoryBudget = 64 << 20
	// MaxCategories bounds the distinct values kept for a categorical
	// column; past it the column is reported without statistics.
	MaxCategories = 10000
	// MaxBadRowLines is how many bad rows are reported by line.
	MaxBadRowLines = 10
	// maxNewCategories is how many new categories a column lists.
	maxNewCategories = 10
)

// Input is one file: a CSV reader R, or a Source of any table format.
type Input struct {
	Name   string // for messages
	R      io.Reader
	Source table.Source
}

// Options tune Compare. The zero value compares every column with the
// default thresholds.
type Options struct {
	// Columns to compare; empty means every column, and then both headers
	// must name the same columns.
	Columns []string
	// Categorical forces columns to be categorical. Otherwise a column is
	// numeric when every non-empty value in the reference's first block
	// (1 MiB) is a number.
	Categorical []string
	Thresholds  Thresholds
	// MaxBadRows is how many bad rows a file may have before Compare fails;
	// negative means no limit.
	MaxBadRows int64
	// TempDir holds sorted runs when the data outgrows MemoryBudget; ""
	// means os.TempDir().
	TempDir      string
	MemoryBudget int64
	// Workers parse blocks in parallel; 0 means GOMAXPROCS.
	Workers int

	fanIn       int  // tests lower extsort.MaxFanIn to exercise the multi-pass merge
	recordLimit int  // tests lower maxRecord
	floatKeys   bool // tests keep every value as a float64 Key, no decimals
	noGather    bool // tests merge runs even when a column fits in memory
	noCount     bool // tests sort runs even when their keys would fit a histogram
}

// Report is the comparison of two files.
type Report struct {
	Reference  FileSummary `json:"reference"`
	Current    FileSummary `json:"current"`
	Thresholds Thresholds  `json:"thresholds"`
	Columns    []Column    `json:"columns"`
	Warnings   []string    `json:"warnings"`
}

// FileSummary counts what was read from one file.
type FileSummary struct {
	File    string  `json:"file"`
	Rows    int64   `json:"rows"` // data rows read, bad rows excluded
	BadRows BadRows `json:"bad_rows"`
}

// BadRows are rows that could not be read.
type BadRows struct {
	Count int64    `json:"count"`
	First []BadRow `json:"first"` // the first MaxBadRowLines, by line
}

// BadRow is one unreadable row.
type BadRow struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

// Column is one column's statistics and verdict.
type Column struct {
	Name string `json:"column"`
	Kind Kind   `json:"kind"`
	// KS is nil for categorical columns and when a side has no values.
	KS *float64 `json:"ks"`
	// KSPValue is KS's asymptotic two-sided p-value.
	KSPValue *float64 `json:"ks_p_value,omitempty"`
	PSI      *float64 `json:"psi"`
	// LInf is the largest absolute change of one category's share, new
	// categories counted as one (categorical columns only).
	LInf *float64 `json:"linf,omitempty"`
	// JS is the Jensen–Shannon distance (base 2, in [0, 1]) between the
	// category shares (categorical columns only), reported, not judged.
	JS *float64 `json:"js,omitempty"`
	// Critical is the size-aware critical value KS and LInf are held to:
	// c(α)·sqrt((n+m)/(n·m)).
	Critical *float64 `json:"critical,omitempty"`
	// NewShare is the share of current values in categories the reference
	// never had (categorical columns only); NewCategories names the most
	// frequent of them.
	NewShare      *float64 `json:"new_share,omitempty"`
	NewCategories []string `json:"new_categories,omitempty"`
	Drifted       bool     `json:"drifted"`
	// Reasons say which statistics crossed their thresholds.
	Reasons []string `json:"reasons,omitempty"`
	// Values and Missing count non-empty and empty (or NaN) cells.
	Values  Pair `json:"values"`
	Missing Pair `json:"missing"`
}

// Pair is a count in the reference and in the current file.
type Pair struct {
	Reference int64 `json:"reference"`
	Current   int64 `json:"current"`
}

// Severity ranks columns, worst first: the largest ratio of a statistic to
// its threshold.
func (c Column) Severity(t Thresholds) float64 {
	s := 0.0
	if c.PSI != nil && t.PSI > 0 {
		s = max(s, *c.PSI/t.PSI)
	}
	if c.KS != nil && t.KS > 0 {
		s = max(s, *c.KS/max(t.KS, deref(c.Critical)))
	}
	if c.LInf != nil && t.LInf > 0 {
		s = max(s, *c.LInf/max(t.LInf, deref(c.Critical)))
	}
	return s
}

// Compare reads both files and computes each column's statistics.
// Invalid input (an empty file, a header without rows, headers that do not
// match, too many bad rows) is a diag.Error, which the CLI maps to exit 2.
func Compare(ctx context.Context, ref, cur Input, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	files, kinds, scales, cols, err := openFiles(ref, cur, opts)
	if err != nil {
		return nil, err
	}
	tmp := extsort.NewTempFiles(opts.TempDir, "podium-drift-")
	defer tmp.RemoveAll()
	p := newCollector(files, kinds, scales, opts, tmp)
	defer p.free()
	if err := p.run(ctx); err != nil {
		return nil, err
	}
	// The parse buffers are garbage now; giving their pages back before
	// the columns are sorted keeps the peak memory to the larger of the
	// two phases instead of their sum.
	p.prepareColumns()
	debug.FreeOSMemory()

	report := &Report{Thresholds: opts.Thresholds, Warnings: []string{}}
	for i, f := range files {
		sum := FileSummary{File: f.input.Name, Rows: p.rows[i], BadRows: p.bad[i].result()}
		if opts.MaxBadRows >= 0 && sum.BadRows.Count > opts.MaxBadRows {
			return nil, tooManyBadRows(f.input.Name, sum.BadRows, opts.MaxBadRows)
		}
		if sum.Rows == 0 {
			msg := "no data rows after the header"
			if sum.BadRows.Count > 0 {
				msg = fmt.Sprintf("no readable data rows (%d bad rows)", sum.BadRows.Count)
			}
			return nil, &diag.Error{File: f.input.Name, Kind: "drift", Msg: msg}
		}
		if i == 0 {
			report.Reference = sum
		} else {
			report.Current = sum
		}
	}
	report.Columns, err = p.columns(ctx, cols)
	if err != nil {
		return nil, err
	}
	for i := range report.Columns {
		c := &report.Columns[i]
		judge(c, opts.Thresholds)
		switch {
		case c.Values.Reference == 0 || c.Values.Current == 0:
			report.Warnings = append(report.Warnings, fmt.Sprintf("column %q has no values in the %s file: not compared", c.Name, sideWithout(c)))
		case c.PSI == nil:
			report.Warnings = append(report.Warnings, fmt.Sprintf("column %q has more than %d categories: not compared (use --columns to leave it out)", c.Name, MaxCategories))
		}
	}
	return report, nil
}

func withDefaults(opts Options) Options {
	t := &opts.Thresholds
	t.PSI = cmp.Or(t.PSI, DefaultPSIThreshold)
	t.KS = cmp.Or(t.KS, DefaultKSThreshold)
	t.LInf = cmp.Or(t.LInf, DefaultLInfThreshold)
	t.Alpha = cmp.Or(t.Alpha, DefaultAlpha)
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = DefaultMemoryBudget
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	return opts
}

// openFiles reads both headers and decides the compared columns, their
// kinds and the scales of decimal columns.
func openFiles(ref, cur Input, opts Options) (files []*fileState, kinds []Kind, scales []int, cols []string, err error) {
	for _, in := range []Input{ref, cur} {
		src := in.Source
		if src == nil {
			br := table.NewBlockReader(in.Name, in.R, opts.Workers+2)
			br.MaxRecord = cmp.Or(opts.recordLimit, table.MaxRecord)
			src = br
		}
		files = append(files, &fileState{input: in, reader: src})
	}
	for _, f := range files {
		if err := f.readHeader(); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	cols, err = selectColumns(files[0], files[1], opts.Columns)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	forced := map[string]bool{}
	for _, name := range opts.Categorical {
		if !slices.Contains(cols, name) {
			return nil, nil, nil, nil, &diag.Error{Field: name, Kind: "drift",
				Msg: fmt.Sprintf("--categorical names a column that is not compared (columns: %s)", strings.Join(cols, ", "))}
		}
		forced[name] = true
	}
	kinds, scales = detectKinds(files[0], cols, forced)
	if opts.floatKeys {
		for i := range scales {
			scales[i] = -1
		}
	}
	for _, f := range files {
		f.mapColumns(cols, kinds)
	}
	return files, kinds, scales, cols, nil
}

func sideWithout(c *Column) string {
	if c.Values.Reference == 0 {
		return "reference"
	}
	return "current"
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// judge sets a column's verdict. PSI drifts above its threshold. KS and
// L∞ drift above the larger of their threshold and the critical value
// c(α)·sqrt((n+m)/(n·m)): the first is the smallest change that matters,
// the second the largest a random split of one dataset reaches with
// probability 1−α (Kolmogorov–Smirnov's critical value; for one
// category's share it is conservative, about 2.7 standard errors at
// α = 0.05).
func judge(c *Column, t Thresholds) {
	if c.Values.Reference > 0 && c.Values.Current > 0 && (c.KS != nil || c.LInf != nil) {
		n, m := float64(c.Values.Reference), float64(c.Values.Current)
		crit := CriticalValue(t.Alpha, n, m)
		c.Critical = &crit
	}
	if c.KS != nil {
		p := KSPValue(*c.KS, float64(c.Values.Reference), float64(c.Values.Current))
		c.KSPValue = &p
		if lim := max(t.KS, deref(c.Critical)); *c.KS > lim {
			c.Reasons = append(c.Reasons, fmt.Sprintf("%s: KS %s > %s", c.Name, Num(*c.KS), Num(lim)))
		}
	}
	if c.LInf != nil {
		if lim := max(t.LInf, deref(c.Critical)); *c.LInf > lim {
			c.Reasons = append(c.Reasons, fmt.Sprintf("%s: L∞ %s > %s", c.Name, Num(*c.LInf), Num(lim)))
		}
	}
	if c.PSI != nil && *c.PSI > t.PSI {
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s: PSI %s > %s", c.Name, Num(*c.PSI), Num(t.PSI)))
	}
	c.Drifted = len(c.Reasons) > 0
}

// Num formats a statistic for people: four significant digits.
func Num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func tooManyBadRows(file string, b BadRows, limit int64) error {
	var lines []string
	for _, r := range b.First {
		lines = append(lines, fmt.Sprintf("line %d: %s", r.Line, r.Reason))
	}
	return &diag.Error{File: file, Kind: "drift", Msg: fmt.Sprintf(
		"%d bad rows, more than --max-bad-rows %d; the first: %s", b.Count, limit, strings.Join(lines, "; "))}
}

// fileState is one file being read.
type fileState struct {
	input  Input
	reader table.Source
	header []string
	first  *table.Block // the rest of the first block, after the header
	// numeric and categorical list the compared fields by kind.
	numeric, categorical []fieldCol
	// plainKinds says what table.ScanPlain does with each field.
	plainKinds []uint8
}

// fieldCol is a compared column's field index in a file.
type fieldCol struct{ field, col int }

func (f *fileState) readHeader() error {
	b, err := f.reader.Next()
	if err != nil {
		return f.readError(err)
	}
	if b == nil {
		return &diag.Error{File: f.input.Name, Kind: "drift", Msg: "file is empty: expected a header row"}
	}
	var p table.RecordParser
	p.Reset(b.Data, b.Line)
	fields, line, problem, ok := p.Next()
	if !ok {
		f.reader.Release(b)
		return &diag.Error{File: f.input.Name, Kind: "drift", Msg: "file is empty: expected a header row"}
	}
	if problem == "" {
		f.header, problem = table.Header(fields)
	}
	if problem != "" {
		f.reader.Release(b)
		return &diag.Error{File: f.input.Name, Line: int(line), Kind: "drift", Msg: "header: " + problem}
	}
	b.Data, b.Line = p.Rest()
	f.first = b
	return nil
}

func (f *fileState) readError(err error) error {
	var long *table.RecordTooLong
	if errors.As(err, &long) {
		return &diag.Error{File: f.input.Name, Line: int(long.Line()), Kind: "drift", Msg: long.Error()}
	}
	var inv *table.InvalidError
	if errors.As(err, &inv) {
		return &diag.Error{File: inv.File, Line: int(inv.Line), Kind: "drift", Msg: inv.Msg}
	}
	return err
}

func (f *fileState) mapColumns(cols []string, kinds []Kind) {
	f.plainKinds = make([]uint8, len(f.header))
	for i, name := range f.header {
		c := slices.Index(cols, name)
		switch {
		case c < 0:
		case kinds[c] == Numeric:
			f.numeric = append(f.numeric, fieldCol{i, c})
			f.plainKinds[i] = table.PlainNumber
		default:
			f.categorical = append(f.categorical, fieldCol{i, c})
			f.plainKinds[i] = table.PlainText
		}
	}
}

// selectColumns returns the columns to compare, in the reference's order.
func selectColumns(ref, cur *fileState, want []string) ([]string, error) {
	mismatch := func(msg string) error {
		return &diag.Error{File: cur.input.Name, Line: 1, Kind: "drift", Msg: "header: " + msg}
	}
	if len(want) == 0 {
		var missing, extra []string
		for _, name := range ref.header {
			if !slices.Contains(cur.header, name) {
				missing = append(missing, strconv.Quote(name))
			}
		}
		for _, name := range cur.header {
			if !slices.Contains(ref.header, name) {
				extra = append(extra, strconv.Quote(name))
			}
		}
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "missing reference columns "+strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			parts = append(parts, "has columns the reference lacks: "+strings.Join(extra, ", "))
		}
		if len(parts) > 0 {
			return nil, mismatch(strings.Join(parts, "; ") + " (compare a subset with --columns)")
		}
		return slices.Clone(ref.header), nil
	}
	var cols []string
	for _, name := range want {
		for _, f := range []*fileState{ref, cur} {
			if !slices.Contains(f.header, name) {
				return nil, &diag.Error{File: f.input.Name, Line: 1, Kind: "drift",
					Msg: fmt.Sprintf("header: no column %q (columns: %s)", name, strings.Join(f.header, ", "))}
			}
		}
		if !slices.Contains(cols, name) {
			cols = append(cols, name)
		}
	}
	slices.SortFunc(cols, func(a, b string) int {
		return cmp.Compare(slices.Index(ref.header, a), slices.Index(ref.header, b))
	})
	return cols, nil
}

// detectKinds decides each column's kind from the reference's first block:
// numeric when every non-empty value there is a number. A numeric column
// whose values there are all plain decimals keeps its values as integers
// at the largest scale seen (scale -1: as float64s).
func detectKinds(ref *fileState, cols []string, forced map[string]bool) (kinds []Kind, scales []int) {
	kinds = make([]Kind, len(cols))
	scales = make([]int, len(cols))
	for i, name := range cols {
		kinds[i] = Numeric
		if forced[name] {
			kinds[i] = Categorical
		}
	}
	idx := make([]int, len(cols))
	for i, name := range cols {
		idx[i] = slices.Index(ref.header, name)
	}
	var p table.RecordParser
	p.Reset(ref.first.Data, ref.first.Line)
	for {
		fields, _, problem, ok := p.Next()
		if !ok {
			break
		}
		if problem != "" || len(fields) != len(ref.header) {
			continue
		}
		for i, fi := range idx {
			if kinds[i] != Numeric {
				continue
			}
			_, _, frac, status := table.ParseDecimal(fields[fi])
			switch {
			case status == numBad:
				kinds[i] = Categorical
			case status == numOK && (frac < 0 || scales[i] < 0):
				scales[i] = -1
			case status == numOK:
				scales[i] = max(scales[i], frac)
			}
		}
	}
	return kinds, scales
}

const (
	numOK      = table.NumOK
	numMissing = table.NumMissing
	numBad     = table.NumBad
)

func parseNumber(b []byte) (float64, int) { return table.ParseNumber(b) }
