package table

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type record struct {
	Line    int64
	Fields  []string
	Problem string
}

// readAll reads a source's header and records, bad lines included.
func readAll(t testing.TB, src Source) ([]record, error) {
	t.Helper()
	var out []record
	var p RecordParser
	for {
		b, err := src.Next()
		if err != nil {
			return out, err
		}
		if b == nil {
			return out, nil
		}
		for _, bl := range b.Bad {
			out = append(out, record{Line: bl.Line, Problem: bl.Reason})
		}
		p.Reset(b.Data, b.Line)
		for {
			fields, line, problem, ok := p.Next()
			if !ok {
				break
			}
			r := record{Line: line, Problem: problem}
			for _, f := range fields {
				r.Fields = append(r.Fields, string(f))
			}
			out = append(out, r)
		}
		src.Release(b)
	}
}

func openFile(t *testing.T, path string) Source {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	src, err := Open(path, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func fieldsOf(rs []record) [][]string {
	var out [][]string
	for _, r := range rs {
		out = append(out, r.Fields)
	}
	return out
}

// TestParquetMatchesCSV reads Parquet files DuckDB wrote (testdata/gen)
// with snappy, zstd, gzip and none, dictionary and plain encodings, data
// pages v1 and v2, one and several row groups, with nulls, DATE,
// TIMESTAMP, FLOAT and DECIMAL columns: each must read as fixture.csv.
func TestParquetMatchesCSV(t *testing.T) {
	t.Parallel()
	want, err := readAll(t, openFile(t, "testdata/fixture.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 301 {
		t.Fatalf("fixture.csv: %d records, want 301", len(want))
	}
	for _, name := range []string{"snappy.parquet", "zstd.parquet", "gzip-v2.parquet", "plain.parquet"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := readAll(t, openFile(t, filepath.Join("testdata", name)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fieldsOf(want), fieldsOf(got)); diff != "" {
				t.Errorf("%s does not read as fixture.csv (-csv +parquet):\n%s", name, diff)
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []record
	}{
		{
			name: "values of every JSON type; the header is line 0",
			in:   `{"a": "x,y", "b": 1.5, "c": true, "d": null, "e": {"k": [1, 2]}}` + "\n" + `{"b": -2, "a": "say \"hi\""}` + "\n",
			want: []record{
				{Line: 0, Fields: []string{"a", "b", "c", "d", "e"}},
				{Line: 1, Fields: []string{"x,y", "1.5", "true", "", `{"k":[1,2]}`}},
				{Line: 2, Fields: []string{`say "hi"`, "-2", "", "", ""}},
			},
		},
		{
			name: "blank lines keep line numbers; bad lines are reported by line",
			in:   "\n{\"a\": 1}\n\n[1]\n{\"a\": 2, \"z\": 3}\r\n{\"a\": 4}",
			// readAll lists a block's bad lines before its records.
			want: []record{
				{Line: 4, Problem: "not a JSON object"},
				{Line: 5, Problem: `key "z" is not one of the first object's keys`},
				{Line: 0, Fields: []string{"a"}},
				{Line: 2, Fields: []string{"1"}},
				{Line: 6, Fields: []string{"4"}},
			},
		},
		{
			name: "a single column of nulls is not a blank line",
			in:   "{\"a\": null}\n{\"a\": \"\"}\n",
			want: []record{{Line: 0, Fields: []string{"a"}}, {Line: 1, Fields: []string{""}}, {Line: 2, Fields: []string{""}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readAll(t, newJSONLSource("t.jsonl", strings.NewReader(tt.in), 2))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONLInvalid(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                "file is empty",
		"\n\n":            "file is empty",
		"[1, 2]\n":        "t.jsonl:1: the first object: not a JSON object",
		"{}\n":            "the first object has no keys",
		`{"a":1,"a":2}`:   `key "a" appears twice`,
		`{"a":1} {"b":2}`: "more than one JSON value",
	} {
		_, err := readAll(t, newJSONLSource("t.jsonl", strings.NewReader(in), 2))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Format{"a.csv": CSV, "a.JSONL": JSONL, "b.ndjson": JSONL, "c.parquet": Parquet, "d.txt": CSV, "e": CSV} {
		if got := FormatOf(name); got != want {
			t.Errorf("FormatOf(%q) = %s, want %s", name, got, want)
		}
	}
}

// FuzzJSONL: any input reads without panicking, and every record has the
// header's number of fields.
func FuzzJSONL(f *testing.F) {
	f.Add([]byte("{\"a\": 1, \"b\": \"x\"}\n{\"a\": null}\n"))
	f.Add([]byte("\n{\"a\": [1, {\"c\": 2}]}\n{bad\n"))
	f.Add([]byte("{\"a\": \"\\u0000\\n,\\\"\"}\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		recs, err := readAll(t, newJSONLSource("f.jsonl", bytes.NewReader(in), 2))
		if err != nil {
			return
		}
		n := -1
		for _, r := range recs {
			if r.Problem != "" {
				continue
			}
			if n < 0 {
				n = len(r.Fields) // the header
			}
			if len(r.Fields) != n {
				t.Fatalf("line %d: %d fields, header has %d", r.Line, len(r.Fields), n)
			}
		}
	})
}

// FuzzParquet: a damaged or hostile file is an error, never a panic or a
// hang; seeded with the DuckDB fixtures.
func FuzzParquet(f *testing.F) {
	for _, name := range []string{"snappy.parquet", "gzip-v2.parquet"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, in []byte) {
		src, err := newParquetSource("f.parquet", bytes.NewReader(in), int64(len(in)), 2)
		if err != nil {
			return
		}
		_, _ = readAll(t, src)
	})
}

// FuzzAppendShortDecimal holds the fast float formatting to strconv's:
// the same text wherever it answers, for floats made from short decimals
// (the case it is for) and for any bits.
func FuzzAppendShortDecimal(f *testing.F) {
	f.Add(int64(12345), uint8(5), uint64(0))
	f.Add(int64(-7), uint8(6), uint64(0x3ff0000000000001))
	f.Add(int64(999999999999999), uint8(0), uint64(0x7fefffffffffffff))
	f.Fuzz(func(t *testing.T, mant int64, scale uint8, bits uint64) {
		dec, err := strconv.ParseFloat(strconv.FormatInt(mant%1e16, 10)+"e-"+strconv.Itoa(int(scale%24)), 64)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{dec, math.Float64frombits(bits)} {
			got, ok := appendShortDecimal(nil, v)
			if !ok {
				continue
			}
			if want := strconv.FormatFloat(v, 'f', -1, 64); string(got) != want {
				t.Fatalf("%v (%#x): %q, strconv %q", v, math.Float64bits(v), got, want)
			}
		}
	})
}

// BenchmarkAppendFloat measures formatting Parquet doubles that are
// 5-decimal measurements, the fast path against strconv's.
func BenchmarkAppendFloat(b *testing.B) {
	vals := []float64{12.50310, -0.73521, 143.0, 3.14159, 0.00007, 98765.43210}
	buf := make([]byte, 0, 64)
	b.Run("short", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf, _ = appendShortDecimal(buf[:0], vals[i%len(vals)])
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = strconv.AppendFloat(buf[:0], vals[i%len(vals)], 'f', -1, 64)
		}
	})
}
