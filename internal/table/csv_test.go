package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type parsed struct {
	Fields  []string
	Line    int64
	Problem string
}

func parseAll(data []byte, line int64) []parsed {
	var p RecordParser
	p.Reset(data, line)
	var out []parsed
	for {
		fields, l, problem, ok := p.Next()
		if !ok {
			return out
		}
		r := parsed{Line: l, Problem: problem}
		for _, f := range fields {
			r.Fields = append(r.Fields, string(f))
		}
		out = append(out, r)
	}
}

func TestRecordParser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []parsed
	}{
		{"plain", "a,b\n1,2\n", []parsed{{[]string{"a", "b"}, 1, ""}, {[]string{"1", "2"}, 2, ""}}},
		{"no final newline", "a,b", []parsed{{[]string{"a", "b"}, 1, ""}}},
		{"CRLF", "a,b\r\n1,\r\n", []parsed{{[]string{"a", "b"}, 1, ""}, {[]string{"1", ""}, 2, ""}}},
		{"empty fields", ",,\n", []parsed{{[]string{"", "", ""}, 1, ""}}},
		{"blank lines skipped", "\n\r\na\n\n\nb\n", []parsed{{[]string{"a"}, 3, ""}, {[]string{"b"}, 6, ""}}},
		{"quoted", `"a,b","say ""x""",""` + "\n", []parsed{{[]string{"a,b", `say "x"`, ""}, 1, ""}}},
		{"quoted newline, CRLF inside", "\"a\r\nb\",c\r\nd\n", []parsed{{[]string{"a\nb", "c"}, 1, ""}, {[]string{"d"}, 3, ""}}},
		{"bare quote", "a\"b,c\nd\n", []parsed{{nil, 1, `bare " in non-quoted-field`}, {[]string{"d"}, 2, ""}}},
		{"text after closing quote", "\"a\"b,c\nd\n", []parsed{{nil, 1, `extraneous or missing " in quoted-field`}, {[]string{"d"}, 2, ""}}},
		{"unclosed quote", "a,\"b\nc\n", []parsed{{nil, 1, "a quoted field is not closed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, parseAll([]byte(tt.in), 1)); diff != "" {
				t.Errorf("records mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastBoundary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 0},
		{"a\nb", 2},
		{"a\nb\n", 4},
		{"\"a\nb", 0},          // inside a quoted field
		{"\"a\nb\"\nc", 6},     // after it
		{"\"a\"\"\nb\"\nc", 8}, // an escaped quote does not close it
		{"a\"b\nc", 4},         // a bare quote opens nothing
	}
	for _, tt := range tests {
		if got := lastBoundary([]byte(tt.in)); got != tt.want {
			t.Errorf("lastBoundary(%q) = %d, want %d", tt.in, got, tt.want)
		}
		if got := lastBoundaryByStep([]byte(tt.in)); got != tt.want {
			t.Errorf("lastBoundaryByStep(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// readBlocks cuts data with blocks of the given buffer size and parses
// each Block on its own, as the workers do.
func readBlocks(t *testing.T, data []byte, size int) []parsed {
	t.Helper()
	br := NewBlockReader("f", bytes.NewReader(data), 2)
	// Shrink the buffers so small inputs cross Block boundaries.
	for range 2 {
		<-br.free
	}
	for range 2 {
		b := make([]byte, 0, size)
		br.free <- &b
	}
	var out []parsed
	for {
		b, err := br.Next()
		if err != nil {
			t.Fatalf("next() error = %v", err)
		}
		if b == nil {
			return out
		}
		out = append(out, parseAll(b.Data, b.Line)...)
		br.Release(b)
	}
}

// lastBoundaryByStep is lastBoundary written as the plain state machine.
func lastBoundaryByStep(data []byte) int {
	end, state := 0, stFieldStart
	for i, c := range data {
		state = step(state, c)
		if c == '\n' && state == stFieldStart {
			end = i + 1
		}
	}
	return end
}

func FuzzRecordParser(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "\"a\nb\",c\r\nd\n", "a\"b,c\nd\n", "\"a\"b,c\nd\n", "x\n\n\ny\n", "\"\"\"\",\"\"\n",
		"a,b\r\n\"1\r\n2\",3\r\n", "a,\"b\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		if len(data) > 1<<12 {
			return
		}
		whole := parseAll(data, 1)
		if got, want := lastBoundary(data), lastBoundaryByStep(data); got != want {
			t.Fatalf("lastBoundary(%q) = %d, the state machine says %d", data, got, want)
		}

		// Cutting into blocks never changes the records or their lines.
		blocks := readBlocks(t, data, int(size)%64+1)
		if diff := cmp.Diff(whole, blocks, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("records differ when read in blocks (-whole +blocks):\n%s", diff)
		}

		// Where encoding/csv reads the input without error, the records
		// are the same.
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		var want []parsed
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
			line, _ := r.FieldPos(0)
			want = append(want, parsed{Fields: rec, Line: int64(line)})
		}
		for _, p := range whole {
			if p.Problem != "" {
				t.Fatalf("parser found %q where encoding/csv found nothing wrong", p.Problem)
			}
		}
		// encoding/csv drops a lone "\r" before a line end only at the very
		// end of a field; both agree elsewhere.
		if strings.Contains(string(data), "\r") {
			return
		}
		if diff := cmp.Diff(want, whole, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("records differ from encoding/csv (-csv +ours):\n%s", diff)
		}
	})
}

// benchBlock is a block of numeric and categorical CSV rows, as drift and
// data read them; benchKinds says which of its fields are numbers.
func benchBlock() []byte {
	var buf bytes.Buffer
	for i := 0; buf.Len() < BlockSize; i++ {
		fmt.Fprintf(&buf, "%.5f,%.5f,%.5f,%d,%.5f,%.5f,sun,rain,%.5f,%d\n", float64(i)*0.37, float64(i)/7, -float64(i)*1.1, i%97, 3.25, float64(i%13), float64(i)*1e-3, i)
	}
	return buf.Bytes()
}

var benchKinds = []uint8{1, 1, 1, 1, 1, 1, 2, 2, 1, 1}

// BenchmarkRecordParser measures parsing a block of numeric and
// categorical CSV, as drift and data read it.
func BenchmarkRecordParser(b *testing.B) {
	data := benchBlock()
	b.SetBytes(int64(len(data)))
	var p RecordParser
	for b.Loop() {
		p.Reset(data, 1)
		for {
			if _, _, _, ok := p.Next(); !ok {
				break
			}
		}
	}
}
