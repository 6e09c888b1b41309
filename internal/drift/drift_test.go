package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/table"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/podium-ml/podium/internal/diag"
)

func f64(v float64) *float64 { return &v }

// compare runs Compare on two CSV texts.
func compare(t *testing.T, ref, cur string, opts Options) (*Report, error) {
	t.Helper()
	return Compare(t.Context(), Input{Name: "ref.csv", R: strings.NewReader(ref)},
		Input{Name: "cur.csv", R: strings.NewReader(cur)}, opts)
}

func lines(header string, values ...any) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, v := range values {
		fmt.Fprintln(&b, v)
	}
	return b.String()
}

func seq(from, to int) []any {
	var out []any
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// statView is what the statistics tests compare.
type statView struct {
	Name          string
	Kind          Kind
	KS, PSI       *float64
	NewShare      *float64
	NewCategories []string
	Drifted       bool
	Values        Pair
	Missing       Pair
}

func views(cols []Column) []statView {
	var out []statView
	for _, c := range cols {
		out = append(out, statView{c.Name, c.Kind, c.KS, c.PSI, c.NewShare, c.NewCategories, c.Drifted, c.Values, c.Missing})
	}
	return out
}

var approx = cmpopts.EquateApprox(0, 1e-12)

func TestCompareStatistics(t *testing.T) {
	t.Parallel()
	// Hand-computed PSI of 1..10 against 6..15: the reference deciles are
	// 1..9, so each reference bin holds 0.1; the current has nothing in the
	// first five bins (0.0001 each), 0.1 in the next four, 0.6 in the last.
	shiftedPSI := 5*(0.0001-0.1)*math.Log(0.0001/0.1) + (0.6-0.1)*math.Log(0.6/0.1)
	// A constant column that moves: all reference values in bin 0, all
	// current values in bin 9.
	constantPSI := 2 * (1 - 0.0001) * math.Log(1/0.0001)
	tests := []struct {
		name     string
		ref, cur string
		opts     Options
		want     []statView
	}{
		{
			name: "identical files",
			ref:  lines("x", seq(1, 10)...),
			cur:  lines("x", seq(1, 10)...),
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(0), PSI: f64(0), Values: Pair{10, 10}}},
		},
		{
			name: "shifted",
			ref:  lines("x", seq(1, 10)...),
			cur:  lines("x", seq(6, 15)...),
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(0.5), PSI: f64(shiftedPSI), Drifted: true, Values: Pair{10, 10}}},
		},
		{
			name: "order of rows does not matter",
			ref:  lines("x", 10, 9, 8, 7, 6, 5, 4, 3, 2, 1),
			cur:  lines("x", 15, 6, 14, 7, 13, 8, 12, 9, 11, 10),
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(0.5), PSI: f64(shiftedPSI), Drifted: true, Values: Pair{10, 10}}},
		},
		{
			name: "constant column, unchanged",
			ref:  lines("x", repeat(5, 10)...),
			cur:  lines("x", repeat("5.0", 4)...),
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(0), PSI: f64(0), Values: Pair{10, 4}}},
		},
		{
			name: "constant column, moved",
			ref:  lines("x", repeat(5, 10)...),
			cur:  lines("x", repeat(6, 10)...),
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(1), PSI: f64(constantPSI), Drifted: true, Values: Pair{10, 10}}},
		},
		{
			name: "new category",
			ref:  lines("c", "a", "a", "a", "a", "a", "a", "b", "b", "b", "b"),
			cur:  lines("c", "a", "a", "a", "a", "a", "b", "b", "b", "c", "c"),
			want: []statView{{Name: "c", Kind: Categorical,
				PSI:      f64((0.5-0.6)*math.Log(0.5/0.6) + (0.3-0.4)*math.Log(0.3/0.4) + (0.2-0.0001)*math.Log(0.2/0.0001)),
				NewShare: f64(0.2), NewCategories: []string{"c"}, Drifted: true, Values: Pair{10, 10}}},
		},
		{
			name: "category gone",
			ref:  lines("c", "a", "b"),
			cur:  lines("c", "a", "a"),
			want: []statView{{Name: "c", Kind: Categorical,
				PSI:      f64((1-0.5)*math.Log(1/0.5) + (0.0001-0.5)*math.Log(0.0001/0.5)),
				NewShare: f64(0), Drifted: true, Values: Pair{2, 2}}},
		},
		{
			name: "missing cells and NaN are left out; -0 equals 0",
			ref:  lines("x,c", "1,a", ",b", "NaN,", "-0,a"),
			cur:  lines("x,c", "0,a", "1,b", " nan ,", "1,a"),
			want: []statView{
				// Reference {0, 1}, current {0, 1, 1}: F differs most at 0
				// (1/2 against 1/3). Edges: deciles 1-5 are 0, 6-9 are 1.
				{Name: "x", Kind: Numeric, KS: f64(1.0 / 6),
					PSI: f64((1.0/3-0.5)*math.Log((1.0/3)/0.5) + (2.0/3-0.5)*math.Log((2.0/3)/0.5)),
					// Two values against three: no KS reaches the critical
					// value, and the PSI is under its threshold.
					Drifted: false, Values: Pair{2, 3}, Missing: Pair{2, 1}},
				{Name: "c", Kind: Categorical, PSI: f64(0), NewShare: f64(0), Values: Pair{3, 3}, Missing: Pair{1, 1}},
			},
		},
		{
			name: "a column with no values is not compared",
			ref:  lines("x,y", "1,", "2,"),
			cur:  lines("x,y", "1,3", "2,4"),
			want: []statView{
				{Name: "x", Kind: Numeric, KS: f64(0), PSI: f64(0), Values: Pair{2, 2}},
				{Name: "y", Kind: Numeric, Values: Pair{0, 2}, Missing: Pair{2, 0}},
			},
		},
		{
			name: "forced categorical",
			ref:  lines("zip", "98101", "98101", "10001"),
			cur:  lines("zip", "98101", "10001", "10001"),
			opts: Options{Categorical: []string{"zip"}},
			want: []statView{{Name: "zip", Kind: Categorical,
				PSI:      f64((1.0/3-2.0/3)*math.Log((1.0/3)/(2.0/3)) + (2.0/3-1.0/3)*math.Log((2.0/3)/(1.0/3))),
				NewShare: f64(0), Drifted: true, Values: Pair{3, 3}}},
		},
		{
			name: "columns subset, headers in another order, quoted cells",
			ref:  lines("a,b,c", `1,"x, y",9`, `2,"say ""hi""",9`),
			cur:  lines("c,b,a", `9,"x, y",1`, `9,"say ""hi""",2`),
			opts: Options{Columns: []string{"b", "a"}},
			want: []statView{
				{Name: "a", Kind: Numeric, KS: f64(0), PSI: f64(0), Values: Pair{2, 2}},
				{Name: "b", Kind: Categorical, PSI: f64(0), NewShare: f64(0), Values: Pair{2, 2}},
			},
		},
		{
			name: "CRLF, BOM and blank lines",
			ref:  "\xef\xbb\xbfx\r\n1\r\n\r\n2\r\n",
			cur:  "x\n1\n2",
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(0), PSI: f64(0), Values: Pair{2, 2}}},
		},
		{
			name: "thresholds decide",
			ref:  lines("x", seq(1, 10)...),
			cur:  lines("x", seq(6, 15)...),
			opts: Options{Thresholds: Thresholds{PSI: 100, KS: 0.5}},
			want: []statView{{Name: "x", Kind: Numeric, KS: f64(0.5), PSI: f64(shiftedPSI), Drifted: false, Values: Pair{10, 10}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := compare(t, tt.ref, tt.cur, tt.opts)
			if err != nil {
				t.Fatalf("Compare() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, views(got.Columns), approx); diff != "" {
				t.Errorf("Compare() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareReasonsAndWarnings(t *testing.T) {
	t.Parallel()
	got, err := compare(t, lines("x,y", "1,", "2,", "3,"), lines("x,y", "7,1", "8,2", "9,3"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// KS 1 on three values against three is below the critical value
	// 1.358·sqrt(6/9) = 1.109: only PSI drifts.
	want := []string{"x: PSI 17.32 > 0.2"}
	if diff := cmp.Diff(want, got.Columns[0].Reasons); diff != "" {
		t.Errorf("Reasons mismatch (-want +got):\n%s", diff)
	}
	wantWarnings := []string{`column "y" has no values in the reference file: not compared`}
	if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Thresholds{PSI: 0.2, KS: 0.1, LInf: 0.1, Alpha: 0.05}, got.Thresholds); diff != "" {
		t.Errorf("default thresholds mismatch (-want +got):\n%s", diff)
	}
}

// TestCompareAgreesWithReference checks against bench/drift_reference.py,
// an independent Python implementation of the same definitions, on
// seeded samples: normal N(0,1) against N(0.3,1.2), counts with many ties,
// and a categorical column that gains a category.
func TestCompareAgreesWithReference(t *testing.T) {
	t.Parallel()
	var want struct {
		Rows    Pair `json:"rows"`
		Columns []struct {
			Column   string   `json:"column"`
			Kind     Kind     `json:"kind"`
			KS       *float64 `json:"ks"`
			PSI      *float64 `json:"psi"`
			NewShare *float64 `json:"new_share"`
		} `json:"columns"`
	}
	data, err := os.ReadFile(filepath.Join("testdata", "normal_expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int64{0, 1 << 10} { // in memory, and spilled to disk
		t.Run(fmt.Sprintf("budget %d", budget), func(t *testing.T) {
			t.Parallel()
			got := compareFiles(t, "testdata/normal_reference.csv", "testdata/normal_current.csv",
				Options{MemoryBudget: budget, TempDir: t.TempDir()})
			if got.Reference.Rows != want.Rows.Reference || got.Current.Rows != want.Rows.Current {
				t.Errorf("rows = %d, %d; want %d, %d", got.Reference.Rows, got.Current.Rows, want.Rows.Reference, want.Rows.Current)
			}
			if len(got.Columns) != len(want.Columns) {
				t.Fatalf("got %d columns, want %d", len(got.Columns), len(want.Columns))
			}
			for i, w := range want.Columns {
				g := got.Columns[i]
				if g.Name != w.Column || g.Kind != w.Kind {
					t.Errorf("column %d = %s %s, want %s %s", i, g.Name, g.Kind, w.Column, w.Kind)
				}
				// KS agrees exactly (the same divisions); PSI to rounding.
				if diff := cmp.Diff(w.KS, g.KS); diff != "" {
					t.Errorf("%s KS mismatch (-want +got):\n%s", w.Column, diff)
				}
				if diff := cmp.Diff(w.PSI, g.PSI, approx); diff != "" {
					t.Errorf("%s PSI mismatch (-want +got):\n%s", w.Column, diff)
				}
				if diff := cmp.Diff(w.NewShare, g.NewShare, approx); diff != "" {
					t.Errorf("%s new share mismatch (-want +got):\n%s", w.Column, diff)
				}
			}
		})
	}
}

func compareFiles(t *testing.T, ref, cur string, opts Options) *Report {
	t.Helper()
	rf, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	cf, err := os.Open(cur)
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	got, err := Compare(t.Context(), Input{Name: ref, R: rf}, Input{Name: cur, R: cf}, opts)
	if err != nil {
		t.Fatalf("Compare() error = %v", err)
	}
	return got
}

// TestCompareSpills forces sorted runs to disk and through the multi-pass
// merge, and checks the statistics do not change.
func TestCompareSpills(t *testing.T) {
	t.Parallel()
	inMemory := compareFiles(t, "testdata/normal_reference.csv", "testdata/normal_current.csv", Options{})
	tmp := t.TempDir()
	spilled := compareFiles(t, "testdata/normal_reference.csv", "testdata/normal_current.csv",
		Options{MemoryBudget: 1, TempDir: tmp, Workers: 3, fanIn: 3})
	if diff := cmp.Diff(inMemory, spilled); diff != "" {
		t.Errorf("spilled result differs (-in memory +spilled):\n%s", diff)
	}
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("temporary files left behind: %v %v", entries, err)
	}
}

func TestCompareBadRows(t *testing.T) {
	t.Parallel()
	ref := lines("x,c", "1,a", "2,b", "3,a")
	cur := "x,c\n1,a\n2\nzz,b\n3,a,extra\n\"4\"x,a\n5,\"b\nb\"\n6,a\n"
	got, err := compare(t, ref, cur, Options{MaxBadRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := BadRows{Count: 4, First: []BadRow{
		{Line: 3, Reason: "expected 2 fields, found 1"},
		{Line: 4, Reason: `column "x": "zz" is not a number`},
		{Line: 5, Reason: "expected 2 fields, found 3"},
		{Line: 6, Reason: `extraneous or missing " in quoted-field`},
	}}
	if diff := cmp.Diff(want, got.Current.BadRows); diff != "" {
		t.Errorf("bad rows mismatch (-want +got):\n%s", diff)
	}
	if got.Current.Rows != 3 {
		t.Errorf("current rows = %d, want 3 (1,a; 5,b\\nb; 6,a)", got.Current.Rows)
	}

	_, err = compare(t, ref, cur, Options{MaxBadRows: 3})
	wantErr := `cur.csv: 4 bad rows, more than --max-bad-rows 3; the first: line 3: expected 2 fields, found 1; ` +
		`line 4: column "x": "zz" is not a number; line 5: expected 2 fields, found 3; line 6: extraneous or missing " in quoted-field [drift]`
	if err == nil || err.Error() != wantErr {
		t.Errorf("Compare() error:\n got %v\nwant %s", err, wantErr)
	}
}

func TestCompareInvalidInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ref, cur string
		opts     Options
		wantErr  string
	}{
		{
			name:    "empty reference",
			ref:     "",
			cur:     "x\n1\n",
			wantErr: "ref.csv: file is empty: expected a header row [drift]",
		},
		{
			name:    "blank current",
			ref:     "x\n1\n",
			cur:     "\n\n",
			wantErr: "cur.csv: file is empty: expected a header row [drift]",
		},
		{
			name:    "header only",
			ref:     "x,y\n1,2\n",
			cur:     "x,y\n",
			wantErr: "cur.csv: no data rows after the header [drift]",
		},
		{
			name:    "only bad rows",
			ref:     "x,y\n1,2\n",
			cur:     "x,y\n1\n",
			opts:    Options{MaxBadRows: -1},
			wantErr: "cur.csv: no readable data rows (1 bad rows) [drift]",
		},
		{
			name:    "mismatched headers",
			ref:     "x,y,z\n1,2,3\n",
			cur:     "x,w\n1,2\n",
			wantErr: `cur.csv:1: header: missing reference columns "y", "z"; has columns the reference lacks: "w" (compare a subset with --columns) [drift]`,
		},
		{
			name:    "unknown column",
			ref:     "x,y\n1,2\n",
			cur:     "x\n1\n",
			opts:    Options{Columns: []string{"x", "y"}},
			wantErr: `cur.csv:1: header: no column "y" (columns: x) [drift]`,
		},
		{
			name:    "duplicate column",
			ref:     "x,y,x\n1,2,3\n",
			cur:     "x,y\n1,2\n",
			wantErr: `ref.csv:1: header: column 3: "x" is also column 1 [drift]`,
		},
		{
			name:    "empty column name",
			ref:     "x,\n1,2\n",
			cur:     "x\n1\n",
			wantErr: `ref.csv:1: header: column 2: empty column name [drift]`,
		},
		{
			name:    "control character in a column name",
			ref:     "\"a\nb\"\n1\n",
			cur:     "x\n1\n",
			wantErr: `ref.csv:1: header: column 1: name "a\nb" contains a control character [drift]`,
		},
		{
			name:    "non-UTF-8 column name",
			ref:     "a\xff\n1\n",
			cur:     "x\n1\n",
			wantErr: `ref.csv:1: header: column 1: name is not valid UTF-8 [drift]`,
		},
		{
			name:    "malformed header",
			ref:     "a,\"b\n1\n",
			cur:     "x\n1\n",
			wantErr: `ref.csv:1: header: a quoted field is not closed [drift]`,
		},
		{
			name:    "categorical names an unknown column",
			ref:     "x\n1\n",
			cur:     "x\n1\n",
			opts:    Options{Categorical: []string{"y"}},
			wantErr: `y: --categorical names a column that is not compared (columns: x) [drift]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := compare(t, tt.ref, tt.cur, tt.opts)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Compare() error:\n got %v\nwant %s", err, tt.wantErr)
			}
			if d := diag.All(err); len(d) != 1 || !errors.Is(err, diag.ErrInvalidInput) {
				t.Errorf("Compare() error is not one diag.Error: %#v", err)
			}
		})
	}
}

func TestCompareRecordTooLong(t *testing.T) {
	t.Parallel()
	ref := "x\n1\n\"" + strings.Repeat("a", 3*table.BlockSize) // never closed
	_, err := compare(t, ref, "x\n1\n", Options{recordLimit: 2 * table.BlockSize})
	want := "ref.csv:3: a record is longer than 2 MiB (a missing line end or an unterminated quote?) [drift]"
	if err == nil || err.Error() != want {
		t.Fatalf("Compare() error = %v, want %s", err, want)
	}
}

func TestCompareCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	big := lines("x", seq(1, 200000)...)
	_, err := Compare(ctx, Input{Name: "a", R: strings.NewReader(big)}, Input{Name: "b", R: strings.NewReader(big)}, Options{})
	if err == nil {
		t.Fatal("Compare() with a cancelled context succeeded")
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCompareReadError fails mid-file with every worker busy: the error
// comes back and nothing deadlocks.
func TestCompareReadError(t *testing.T) {
	t.Parallel()
	big := lines("x", seq(1, 400000)...)
	for _, workers := range []int{1, 2, 4} {
		boom := errors.New("disk on fire")
		_, err := Compare(t.Context(),
			Input{Name: "ref.csv", R: strings.NewReader(big)},
			Input{Name: "cur.csv", R: &failingReader{data: []byte(big[:3<<19]), err: boom}},
			Options{Workers: workers, MaxBadRows: -1})
		if !errors.Is(err, boom) || err.Error() != "failed to read cur.csv: disk on fire" {
			t.Errorf("workers %d: Compare() error = %v, want the read error", workers, err)
		}
	}
}

func TestSeverityAndWorst(t *testing.T) {
	t.Parallel()
	th := Thresholds{PSI: 0.2, KS: 0.1}
	cols := []Column{
		{Name: "a", PSI: f64(0.1), KS: f64(0.05)},  // 0.5
		{Name: "b", PSI: f64(0.1), KS: f64(0.3)},   // 3
		{Name: "c", PSI: f64(0.8)},                 // 4
		{Name: "d"},                                // 0
		{Name: "e", PSI: f64(0.02), KS: f64(0.05)}, // 0.5, after a
	}
	var got []string
	for _, c := range Worst(cols, th) {
		got = append(got, c.Name)
	}
	if diff := cmp.Diff([]string{"c", "b", "a", "e", "d"}, got); diff != "" {
		t.Errorf("Worst() order mismatch (-want +got):\n%s", diff)
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   float64
		status int
	}{
		{"1.5", 1.5, numOK},
		{" -2 ", -2, numOK},
		{"+0.1", 0.1, numOK},
		{"0.30000000000000004", 0.30000000000000004, numOK},
		{"123456789012345.6", 123456789012345.6, numOK},
		{"1e3", 1000, numOK},
		{"1e309", math.Inf(1), numOK},
		{"-inf", math.Inf(-1), numOK},
		{".5", 0.5, numOK},
		{"5.", 5, numOK},
		{"", 0, numMissing},
		{"  ", 0, numMissing},
		{"NaN", 0, numMissing},
		{"abc", 0, numBad},
		{"1.2.3", 0, numBad},
		{"-", 0, numBad},
		{".", 0, numBad},
		{"1,5", 0, numBad},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, status := parseNumber([]byte(tt.in))
			if status != tt.status || (status == numOK && got != tt.want) {
				t.Errorf("parseNumber(%q) = %v, %d; want %v, %d", tt.in, got, status, tt.want, tt.status)
			}
		})
	}
}

// FuzzCompare feeds two small CSV texts: Compare never panics, and every
// statistic it returns is finite, KS within [0, 1] and PSI not negative.
func FuzzCompare(f *testing.F) {
	f.Add("x,c\n1,a\n2,b\n", "x,c\n3,a\n4,z\n")
	f.Add("x\n1\n1\n1\n", "x\n-0\nNaN\n1e309\n")
	f.Add("a,b\n\"1\n\",2\n", "b,a\n2,\"1\n\"\n")
	f.Fuzz(func(t *testing.T, ref, cur string) {
		if len(ref)+len(cur) > 1<<12 {
			return
		}
		got, err := compare(t, ref, cur, Options{MaxBadRows: -1, Workers: 2})
		if err != nil {
			if len(diag.All(err)) == 0 {
				t.Fatalf("Compare() error %v is not a diag.Error", err)
			}
			return
		}
		for _, c := range got.Columns {
			if c.KS != nil && !(*c.KS >= 0 && *c.KS <= 1) {
				t.Fatalf("column %q: KS %v outside [0, 1]", c.Name, *c.KS)
			}
			if c.PSI != nil && !(*c.PSI >= 0 && !math.IsInf(*c.PSI, 0)) {
				t.Fatalf("column %q: PSI %v", c.Name, *c.PSI)
			}
			if c.NewShare != nil && !(*c.NewShare >= 0 && *c.NewShare <= 1) {
				t.Fatalf("column %q: new share %v", c.Name, *c.NewShare)
			}
		}
	})
}

// TestHistogramStats holds histogramStats to numericStats: the same
// statistics, bit for bit, from a histogram of the keys as from the
// sorted keys, with ties, gaps and a side that ends early.
func TestHistogramStats(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct{ n, m, spread, shift int }{
		{1, 1, 1, 0}, {10, 3, 5, 2}, {1000, 1500, 40, 7}, {5000, 4000, 100000, -3000}, {3000, 3000, 50, 60},
	} {
		ref, cur := make([]uint64, tc.n), make([]uint64, tc.m)
		for i := range ref {
			ref[i] = uint64(1000000 + rng.IntN(tc.spread))
		}
		for i := range cur {
			cur[i] = uint64(1000000 + tc.shift + rng.IntN(tc.spread))
		}
		slices.Sort(ref)
		slices.Sort(cur)
		wantKS, wantPSI := numericStats(&sliceStream{keys: ref}, &sliceStream{keys: cur}, int64(tc.n), int64(tc.m))
		lo := min(ref[0], cur[0])
		hist := make([]uint64, max(ref[len(ref)-1], cur[len(cur)-1])-lo+1)
		for _, k := range ref {
			hist[k-lo]++
		}
		for _, k := range cur {
			hist[k-lo] += 1 << 32
		}
		ks, psi := histogramStats(hist, int64(tc.n), int64(tc.m))
		if math.Float64bits(ks) != math.Float64bits(wantKS) || math.Float64bits(psi) != math.Float64bits(wantPSI) {
			t.Errorf("%+v: histogram KS %v PSI %v, sorted KS %v PSI %v", tc, ks, psi, wantKS, wantPSI)
		}
	}
}

// TestComparePlainAndGeneralPaths holds drift's fast path (table.ScanPlain)
// to the general one: the same rows read with every first cell quoted,
// which sends each record through the general parser, give the same
// report, bad rows, missing cells and CRLF line ends included.
func TestComparePlainAndGeneralPaths(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	write := func(quoted bool, shift float64) string {
		var b strings.Builder
		b.WriteString("id,x,y,c\n")
		for i := range 3000 {
			id := strconv.Itoa(i)
			if quoted {
				id = `"` + id + `"`
			}
			x := strconv.FormatFloat(rng.NormFloat64()+shift, 'f', 4, 64)
			y := strconv.Itoa(rng.IntN(30))
			c := []string{"sun", "rain", "fog", "snow"}[rng.IntN(4)]
			switch i % 97 {
			case 5:
				x = "" // missing
			case 11:
				y = "1e3" // not a plain decimal
			case 23:
				if shift != 0 {
					x = "n/a" // a bad row (the reference decides x is numeric)
				}
			case 31:
				c = ""
			}
			end := "\n"
			if i%2 == 0 {
				end = "\r\n"
			}
			b.WriteString(id + "," + x + "," + y + "," + c + end)
		}
		return b.String()
	}
	var reports [2]*Report
	for i, quoted := range []bool{false, true} {
		rng = rand.New(rand.NewPCG(11, 12))
		ref, cur := write(quoted, 0), write(quoted, 0.3)
		r, err := compare(t, ref, cur, Options{Columns: []string{"x", "y", "c"}, MaxBadRows: -1})
		if err != nil {
			t.Fatal(err)
		}
		reports[i] = r
	}
	if diff := cmp.Diff(reports[1], reports[0]); diff != "" {
		t.Errorf("plain path differs from the general one (-general +plain):\n%s", diff)
	}
	if reports[0].Current.BadRows.Count == 0 || reports[0].Columns[0].Missing.Reference == 0 || reports[0].Columns[0].Kind != Numeric {
		t.Errorf("no bad rows or missing cells to compare: %+v", reports[0])
	}
}
