// Package table reads tabular data files (CSV, JSON Lines, Parquet) as a
// stream of blocks of CSV records, in bounded memory, for the commands
// that scan whole files (drift, data). CSV is read as it is; the other
// formats are re-encoded to CSV records as they are read, so every reader
// downstream has one fast path and one set of rules (a header row first,
// an empty cell is a missing value, a bad row is counted by its line).
package table

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/podium-ml/podium/internal/diag"
)

// Format is a file format.
type Format string

// Formats.
const (
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// FormatOf picks the format from a file name's extension; anything that is
// not .jsonl, .ndjson or .parquet is read as CSV.
func FormatOf(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson":
		return JSONL
	case ".parquet", ".pq":
		return Parquet
	}
	return CSV
}

// Source yields a table as blocks of whole CSV records, the header row
// first. Release gives a block back once it is parsed; at most the number
// of buffers the source was opened with are in flight.
type Source interface {
	Next() (*Block, error)
	Release(*Block)
}

// Open returns a Source reading f, whose format is chosen by FormatOf
// name. buffers bounds the blocks in flight (and so the memory).
func Open(name string, f *os.File, buffers int) (Source, error) {
	switch FormatOf(name) {
	case JSONL:
		return newJSONLSource(name, f, buffers), nil
	case Parquet:
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", name, err)
		}
		return newParquetSource(name, f, fi.Size(), buffers)
	}
	return NewBlockReader(name, f, buffers), nil
}

// InvalidError is a file that cannot be read as a table: a malformed
// header, a Parquet file that does not open, a record that is too long.
// Line is 0 when the problem has no line.
type InvalidError struct {
	File string
	Line int64
	Msg  string
}

func (e *InvalidError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Is reports the error as the user's input (exit 2).
func (e *InvalidError) Is(target error) bool { return target == diag.ErrInvalidInput }

// BadLine is a row a transcoding reader could not read (malformed JSON, a
// key the header lacks). It stands in the block as a blank line, so the
// CSV parser skips it and the line numbers of the rows after it hold.
type BadLine struct {
	Line   int64
	Reason string
}

// Header checks a header row's fields and returns the column names: valid
// UTF-8, not blank, no control characters, no duplicates. problem is ""
// when the header is good.
func Header(fields [][]byte) (names []string, problem string) {
	seen := map[string]int{}
	for i, raw := range fields {
		if i == 0 {
			raw = TrimBOM(raw)
		}
		name := string(raw)
		switch {
		case !utf8.ValidString(name):
			return nil, fmt.Sprintf("column %d: name is not valid UTF-8", i+1)
		case strings.TrimSpace(name) == "":
			return nil, fmt.Sprintf("column %d: empty column name", i+1)
		case strings.ContainsFunc(name, unicode.IsControl):
			return nil, fmt.Sprintf("column %d: name %q contains a control character", i+1, name)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Sprintf("column %d: %q is also column %d", i+1, name, prev+1)
		}
		seen[name] = i
		names = append(names, name)
	}
	return names, ""
}

// TrimBOM drops a UTF-8 byte order mark.
func TrimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

// appendCSVField appends one field, quoted when it must be.
func appendCSVField(dst, v []byte) []byte {
	needs := false
	for _, c := range v {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for _, c := range v {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// transcoder turns rows from another format into CSV blocks. fill appends
// records to buf until it holds about BlockSize bytes or the input ends.
type transcoder struct {
	name string
	free chan *[]byte
	line int64
	done bool
	// fill appends records to buf and returns them, the lines they take,
	// the bad lines it replaced with blank ones, and whether the input ended.
	fill func(buf []byte) ([]byte, int64, []BadLine, bool, error)
}

func newTranscoder(name string, buffers int, firstLine int64) *transcoder {
	t := &transcoder{name: name, free: make(chan *[]byte, buffers), line: firstLine}
	for range buffers {
		b := make([]byte, 0, BlockSize+BlockSize/4)
		t.free <- &b
	}
	return t
}

func (t *transcoder) Next() (*Block, error) {
	for !t.done {
		buf := <-t.free
		data, lines, bad, end, err := t.fill((*buf)[:0])
		if err != nil {
			t.free <- buf
			return nil, err
		}
		t.done = end
		if len(data) == 0 {
			t.free <- buf
			continue
		}
		*buf = data
		b := &Block{Data: data, Line: t.line, Bad: bad, buf: buf}
		t.line += lines
		return b, nil
	}
	return nil, nil
}

func (t *transcoder) Release(b *Block) { t.free <- b.buf }
