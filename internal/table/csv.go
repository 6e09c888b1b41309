package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// The CSV reader is built for throughput: a file is read in blocks cut at
// record boundaries, and each block is parsed by whichever worker is free.
// encoding/csv allocates a string per field and reads on one goroutine,
// which is most of the time on a file of millions of rows.
//
// Lexing follows RFC 4180 with encoding/csv's leniencies: CRLF or LF line
// ends, a quote opens a quoted field only at the start of a field, "" is a
// quote inside one. A bare quote inside an unquoted field, or a character
// after a closing quote, makes the row bad (as encoding/csv's ErrBareQuote
// and ErrQuote do) without losing the place of the following rows. Blank
// lines are skipped, as encoding/csv skips them.

const (
	BlockSize = 1 << 20
	// MaxRecord bounds one record, so a file without line ends (or with an
	// unterminated quote) fails instead of being read whole into memory.
	MaxRecord = 64 << 20
)

// lexer states, shared by the block cutter and the record parser so both
// agree on where records end, malformed quoting included.
const (
	stFieldStart = iota
	stUnquoted
	stQuoted
	stQuoteInQuoted // a '"' seen inside a quoted field: an escape or the end
)

func step(state int, c byte) int {
	switch state {
	case stFieldStart:
		switch c {
		case '"':
			return stQuoted
		case ',', '\n':
			return stFieldStart
		}
		return stUnquoted
	case stUnquoted:
		if c == ',' || c == '\n' {
			return stFieldStart
		}
		return stUnquoted
	case stQuoted:
		if c == '"' {
			return stQuoteInQuoted
		}
		return stQuoted
	default: // stQuoteInQuoted
		switch c {
		case '"':
			return stQuoted
		case ',', '\n':
			return stFieldStart
		}
		return stUnquoted
	}
}

// lastBoundary returns the length of the longest prefix of data made of
// whole records (data starts at a record start), or 0 when there is none.
// It makes the same decisions as running step over every byte, but jumps
// from quote to quote with IndexByte: only quotes change whether a line end
// ends a record, and a quote opens a quoted field only at a field start.
func lastBoundary(data []byte) int {
	end, i := 0, 0
	for {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			if k := bytes.LastIndexByte(data[i:], '\n'); k >= 0 {
				end = i + k + 1
			}
			return end
		}
		q := i + j
		if k := bytes.LastIndexByte(data[i:q], '\n'); k >= 0 {
			end = i + k + 1
		}
		i = q + 1
		if q > 0 && data[q-1] != ',' && data[q-1] != '\n' {
			continue // a bare quote inside an unquoted field
		}
		// A quoted field: find its closing quote, stepping over "" escapes.
		for {
			k := bytes.IndexByte(data[i:], '"')
			if k < 0 {
				return end
			}
			i += k + 1
			if i < len(data) && data[i] == '"' {
				i++
				continue
			}
			break
		}
	}
}

// Block is a run of whole records from one file.
type Block struct {
	File int    // which input, for callers reading several
	Data []byte // whole records
	Line int64  // line number of the first byte
	// Bad are rows a transcoding source found unreadable; they are blank
	// lines in Data. A CSV block has none (its parser finds bad rows).
	Bad []BadLine
	buf *[]byte
}

// BlockReader cuts a file into blocks of whole records.
type BlockReader struct {
	name string
	r    io.Reader
	free chan *[]byte
	tail []byte // the bytes after the last boundary, not yet sent
	line int64
	eof  bool
	// MaxRecord is the longest record accepted.
	MaxRecord int
}

func NewBlockReader(name string, r io.Reader, buffers int) *BlockReader {
	br := &BlockReader{name: name, r: r, free: make(chan *[]byte, buffers), line: 1, MaxRecord: MaxRecord}
	for range buffers {
		b := make([]byte, 0, BlockSize)
		br.free <- &b
	}
	return br
}

// Next returns the next block, or nil at the end of the file. It takes a
// buffer from the free list, so at most `buffers` blocks are in flight.
func (br *BlockReader) Next() (*Block, error) {
	if br.eof && len(br.tail) == 0 {
		return nil, nil
	}
	buf := <-br.free
	data := append((*buf)[:0], br.tail...)
	for {
		if !br.eof {
			if len(data) == cap(data) {
				// No record end in a full buffer: a long record.
				if len(data) >= br.MaxRecord {
					br.free <- buf
					return nil, &RecordTooLong{line: br.line, limit: br.MaxRecord}
				}
				grown := make([]byte, len(data), 2*cap(data))
				copy(grown, data)
				data = grown
			}
			n, err := io.ReadFull(br.r, data[len(data):cap(data)])
			data = data[:len(data)+n]
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				br.eof = true
			case err != nil:
				br.free <- buf
				return nil, fmt.Errorf("failed to read %s: %w", br.name, err)
			}
		}
		end := lastBoundary(data)
		if br.eof {
			end = len(data) // the last record needs no line end
			if end == 0 {
				br.tail = br.tail[:0]
				br.free <- buf
				return nil, nil
			}
		}
		if end > 0 {
			br.tail = append(br.tail[:0], data[end:]...)
			*buf = data
			b := &Block{Data: data[:end], Line: br.line, buf: buf}
			br.line += int64(bytes.Count(data[:end], []byte{'\n'}))
			return b, nil
		}
	}
}

// Release gives a block's buffer back to its reader.
func (br *BlockReader) Release(b *Block) { br.free <- b.buf }

type RecordTooLong struct {
	line  int64
	limit int
}

// Line is the line the long record starts on.
func (e *RecordTooLong) Line() int64 { return e.line }

func (e *RecordTooLong) Error() string {
	return fmt.Sprintf("a record is longer than %d MiB (a missing line end or an unterminated quote?)", e.limit>>20)
}

// RecordParser splits a block into records and fields. Fields point into
// the block, or into scratch for quoted fields that held an escaped quote.
type RecordParser struct {
	data    []byte
	pos     int
	line    int64 // line of data[pos]
	fields  [][]byte
	scratch []byte
}

func (p *RecordParser) Reset(data []byte, line int64) {
	p.data, p.pos, p.line = data, 0, line
}

// Rest returns the unparsed part of the data and its first line.
func (p *RecordParser) Rest() ([]byte, int64) { return p.data[p.pos:], p.line }

// Next parses the next record. It returns the record's first line and
// problem != "" when the record is malformed (its fields are then
// unusable); ok is false at the end of the block.
func (p *RecordParser) Next() (fields [][]byte, line int64, problem string, ok bool) {
	if !p.skipBlankLines() {
		return nil, 0, "", false
	}
	line = p.line
	p.fields = p.fields[:0]
	p.scratch = p.scratch[:0]
	data := p.data
	i := p.pos
	for {
		// At the start of a field.
		if i < len(data) && data[i] == '"' {
			var end bool
			if i, end, problem = p.quotedField(i); problem != "" {
				return nil, line, problem, true
			}
			if end {
				return p.fields, line, "", true
			}
			continue
		}
		// An unquoted field: one table lookup a byte finds its end.
		start := i
		for i < len(data) && !special[data[i]] {
			i++
		}
		if i < len(data) && data[i] == '"' {
			return nil, line, p.skipRecord(i, `bare " in non-quoted-field`), true
		}
		f := data[start:i]
		if i >= len(data) || data[i] == '\n' {
			if n := len(f); n > 0 && f[n-1] == '\r' {
				f = f[:n-1]
			}
			p.fields = append(p.fields, f)
			if i < len(data) {
				p.line++
				i++
			}
			p.pos = i
			return p.fields, line, "", true
		}
		p.fields = append(p.fields, f)
		i++ // the comma
	}
}

// special marks the bytes that end an unquoted field or make it bad.
var special = [256]bool{',': true, '\n': true, '"': true}

// skipBlankLines moves past blank lines; false at the end of the block.
func (p *RecordParser) skipBlankLines() bool {
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '\n' {
			p.pos++
			p.line++
			continue
		}
		if c == '\r' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '\n' {
			p.pos += 2
			p.line++
			continue
		}
		break
	}
	return p.pos < len(p.data)
}

// quotedField parses the quoted field at data[i] (its opening quote) into
// p.fields and returns where the next field starts, or end when the field
// ended the record (p.pos and p.line are then past it). problem is set
// when the record is malformed.
func (p *RecordParser) quotedField(i int) (next int, end bool, problem string) {
	data := p.data
	i++
	start := len(p.scratch)
	for {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			p.line += int64(bytes.Count(data[i:], []byte{'\n'}))
			p.pos = len(data)
			return 0, true, "a quoted field is not closed"
		}
		seg := data[i : i+j]
		p.line += int64(bytes.Count(seg, []byte{'\n'}))
		p.scratch = appendQuoted(p.scratch, seg)
		i += j + 1
		if i < len(data) && data[i] == '"' {
			p.scratch = append(p.scratch, '"')
			i++
			continue
		}
		break
	}
	p.fields = append(p.fields, p.scratch[start:len(p.scratch):len(p.scratch)])
	switch {
	case i >= len(data):
		p.pos = i
		return i, true, ""
	case data[i] == ',':
		return i + 1, false, ""
	case data[i] == '\n':
		p.pos, p.line = i+1, p.line+1
		return i + 1, true, ""
	case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
		p.pos, p.line = i+2, p.line+1
		return i + 2, true, ""
	case data[i] == '\r' && i+1 == len(data):
		p.pos = i + 1 // a CR ends the file, as encoding/csv reads it
		return i + 1, true, ""
	}
	return 0, true, p.skipRecord(i, `extraneous or missing " in quoted-field`)
}

// appendQuoted appends the inside of a quoted field, with CRLF read as LF
// as encoding/csv reads it.
func appendQuoted(dst, seg []byte) []byte {
	for {
		i := bytes.Index(seg, []byte("\r\n"))
		if i < 0 {
			return append(dst, seg...)
		}
		dst = append(dst, seg[:i]...)
		dst = append(dst, '\n')
		seg = seg[i+2:]
	}
}

// skipRecord moves past the rest of a malformed record, lexing as the
// block cutter does, and returns problem.
func (p *RecordParser) skipRecord(i int, problem string) string {
	state := stUnquoted
	for ; i < len(p.data); i++ {
		c := p.data[i]
		state = step(state, c)
		if c == '\n' {
			p.line++
			if state == stFieldStart {
				i++
				break
			}
		}
	}
	p.pos = i
	return problem
}
