package table

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// plainRecord is what ScanPlain read, for comparing.
type plainRecord struct {
	Next  int
	Cells []string // text, or number as "v mant frac", or "missing"
}

func scanPlain(data []byte, i int, kinds []uint8) (plainRecord, bool) {
	cells := make([]PlainCell, len(kinds))
	next, ok := ScanPlain(data, i, kinds, cells)
	if !ok {
		return plainRecord{}, false
	}
	rec := plainRecord{Next: next}
	for f, k := range kinds {
		switch {
		case k == PlainText:
			rec.Cells = append(rec.Cells, string(cells[f].Text))
		case k == PlainSkip:
			rec.Cells = append(rec.Cells, "")
		case cells[f].Missing:
			rec.Cells = append(rec.Cells, "missing")
		default:
			v, mant, frac := cells[f].Decimal()
			rec.Cells = append(rec.Cells, fmt.Sprintf("%x %d %d", math.Float64bits(v), mant, frac))
		}
	}
	return rec, true
}

// generalRecord reads the record at data[i:] as the general path does
// (RecordParser, then ParseDecimal for numbers), in plainRecord's terms;
// ok is false when the general path finds the record bad in any way.
func generalRecord(data []byte, i int, kinds []uint8) (plainRecord, bool) {
	var p RecordParser
	p.Reset(data[i:], 1)
	fields, line, problem, ok := p.Next()
	if !ok || problem != "" || line != 1 || len(fields) != len(kinds) {
		return plainRecord{}, false
	}
	rest, _ := p.Rest()
	rec := plainRecord{Next: len(data) - len(rest)}
	for f, k := range kinds {
		switch k {
		case PlainText:
			rec.Cells = append(rec.Cells, string(fields[f]))
		case PlainSkip:
			rec.Cells = append(rec.Cells, "")
		default:
			v, mant, frac, st := ParseDecimal(fields[f])
			switch st {
			case NumMissing:
				rec.Cells = append(rec.Cells, "missing")
			case NumOK:
				rec.Cells = append(rec.Cells, fmt.Sprintf("%x %d %d", math.Float64bits(v), mant, frac))
			default:
				return plainRecord{}, false
			}
		}
	}
	return rec, true
}

func TestScanPlain(t *testing.T) {
	t.Parallel()
	num, txt, skip := uint8(PlainNumber), uint8(PlainText), uint8(PlainSkip)
	tests := []struct {
		name  string
		in    string
		kinds []uint8
		want  *plainRecord // nil: declined
	}{
		{"numbers and text", "12.5,-0.001,sun\n", []uint8{num, num, txt},
			&plainRecord{16, []string{"4029000000000000 125 1", "bf50624dd2f1a9fc -1 3", "sun"}}},
		{"CRLF", "1,b\r\nx", []uint8{num, txt}, &plainRecord{5, []string{"3ff0000000000000 1 0", "b"}}},
		{"empty number is missing", ",x\n", []uint8{num, txt}, &plainRecord{3, []string{"missing", "x"}}},
		{"skipped field", "1,anything at all,2\n", []uint8{num, skip, num},
			&plainRecord{20, []string{"3ff0000000000000 1 0", "", "4000000000000000 2 0"}}},
		{"plus, point without digits after", "+5.\n", []uint8{num}, &plainRecord{4, []string{"4014000000000000 5 0"}}},
		{"negative zero", "-0\n", []uint8{num}, &plainRecord{3, []string{"8000000000000000 0 0"}}},
		{"too few fields", "1,2\n", []uint8{num, num, num}, nil},
		{"too many fields", "1,2,3\n", []uint8{num, num}, nil},
		{"no line end", "1,2", []uint8{num, num}, nil},
		{"blank line", "\n1\n", []uint8{num}, nil},
		{"quote", "\"a\",1\n", []uint8{txt, num}, nil},
		{"exponent", "1e5\n", []uint8{num}, nil},
		{"space", " 1\n", []uint8{num}, nil},
		{"16 digits", "1234567890.123456\n", []uint8{num}, nil},
		{"sign alone", "-\n", []uint8{num}, nil},
		{"lone CR in text", "a\rb\n", []uint8{txt}, nil},
		{"NaN", "NaN\n", []uint8{num}, nil},
		{"eight digits a word", "12345678.12345,0.0000001,99999999999.9999\n", []uint8{num, num, num},
			&plainRecord{42, []string{"41678c29c3f34d6a 1234567812345 5", "3e7ad7f29abcaf48 1 7", "42374876e7fffff9 999999999999999 4"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := scanPlain([]byte(tt.in), 0, tt.kinds)
			if tt.want == nil {
				if ok {
					t.Fatalf("accepted %q as %v; want it declined", tt.in, got)
				}
				return
			}
			if !ok {
				t.Fatalf("declined %q", tt.in)
			}
			if diff := cmp.Diff(*tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzScanPlain checks ScanPlain against the general path (RecordParser
// and ParseDecimal) and encoding/csv at every record start: a record it
// accepts reads the same, to the bit, and ends at the same place.
func FuzzScanPlain(f *testing.F) {
	f.Add([]byte("12.5,-0.001,sun\n3,,x\r\n"), []byte{1, 1, 2})
	f.Add([]byte("1,2\n\n\"a\",3\n1e5,4\n"), []byte{1, 0})
	f.Add([]byte("+.5,-0.\n1234567890.12345,7\n"), []byte{1, 2})
	f.Add([]byte("12345678.1234567,0/9:,999999999999999\n"), []byte{1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte, kb []byte) {
		if len(kb) == 0 || len(kb) > 16 {
			return
		}
		kinds := make([]uint8, len(kb))
		for i, k := range kb {
			kinds[i] = k % 3
		}
		for i := 0; i < len(data); i++ {
			if i > 0 && data[i-1] != '\n' {
				continue // record starts only
			}
			got, ok := scanPlain(data, i, kinds)
			if !ok {
				continue
			}
			want, wok := generalRecord(data, i, kinds)
			if !wok {
				t.Fatalf("at %d: accepted %v where the general path finds the record bad", i, got)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("at %d: differs from the general path (-general +plain):\n%s", i, diff)
			}
			r := csv.NewReader(bytes.NewReader(data[i:got.Next]))
			r.FieldsPerRecord = -1
			rec, err := r.Read()
			if err != nil || len(rec) != len(kinds) {
				t.Fatalf("at %d: encoding/csv reads %q as %q, %v", i, data[i:got.Next], rec, err)
			}
			for f, k := range kinds {
				switch k {
				case PlainText:
					if rec[f] != got.Cells[f] {
						t.Fatalf("at %d: field %d is %q, encoding/csv %q", i, f, got.Cells[f], rec[f])
					}
				case PlainNumber:
					if rec[f] == "" {
						continue
					}
					v, err := strconv.ParseFloat(rec[f], 64)
					if err != nil || !strings.HasPrefix(got.Cells[f], fmt.Sprintf("%x ", math.Float64bits(v))) {
						t.Fatalf("at %d: field %d is %q, ParseFloat %v (%v)", i, f, got.Cells[f], v, err)
					}
				}
			}
		}
	})
}

// BenchmarkScanPlain measures the fast path on BenchmarkRecordParser's
// block, parsing the numbers too.
func BenchmarkScanPlain(b *testing.B) {
	data, kinds := benchBlock(), benchKinds
	cells := make([]PlainCell, len(kinds))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for i := 0; i < len(data); {
			next, ok := ScanPlain(data, i, kinds, cells)
			if !ok {
				b.Fatal("declined")
			}
			i = next
		}
	}
}

// BenchmarkGeneralPath is BenchmarkScanPlain's work done by RecordParser
// and ParseDecimal, the path ScanPlain saves.
func BenchmarkGeneralPath(b *testing.B) {
	data, kinds := benchBlock(), benchKinds
	b.SetBytes(int64(len(data)))
	var p RecordParser
	for b.Loop() {
		p.Reset(data, 1)
		for {
			fields, _, _, ok := p.Next()
			if !ok {
				break
			}
			for f, k := range kinds {
				if k == PlainNumber {
					ParseDecimal(fields[f])
				}
			}
		}
	}
}
