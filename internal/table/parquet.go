package table

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet is read with github.com/parquet-go/parquet-go: pure Go (no cgo,
// so the static binary stays static), maintained, and it reads every
// compression and encoding current writers use (snappy, zstd, gzip, lz4,
// dictionary, delta) a row group and a page at a time, so memory follows
// the row group, not the file. Arrow Go would bring a far larger dependency
// tree for the same job.
//
// Only flat schemas are read (a column per leaf at the top level). A
// value's cell is its text: numbers as Go formats them (shortest
// round-trip), booleans true/false, strings as they are, DATE as
// 2006-01-02, TIMESTAMP as RFC 3339 in UTC, DECIMAL with its scale; null
// is an empty cell. A row's "line" is its 1-based row number.

type parquetSource struct {
	*transcoder
	file   *parquet.File
	cols   []parquetColumn
	groups []parquet.RowGroup
	group  int
	rows   parquet.Rows
	batch  []parquet.Row
	header bool
}

type parquetColumn struct {
	name    string
	kind    parquet.Kind
	time    time.Duration // TIMESTAMP unit, 0 when not a timestamp
	date    bool
	scale   int // DECIMAL scale, -1 when not a decimal
	decimal bool
}

func newParquetSource(name string, r io.ReaderAt, size int64, buffers int) (s *parquetSource, err error) {
	// A hostile file can make a decoder panic; it is bad input, not a crash.
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, &InvalidError{File: name, Msg: fmt.Sprintf("not a readable Parquet file: %v", p)}
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, &InvalidError{File: name, Msg: "not a readable Parquet file: " + err.Error()}
	}
	s = &parquetSource{transcoder: newTranscoder(name, buffers, 0), file: f, groups: f.RowGroups(), batch: make([]parquet.Row, 256)}
	for _, field := range f.Schema().Fields() {
		if !field.Leaf() || field.Repeated() {
			return nil, &InvalidError{File: name, Msg: fmt.Sprintf("column %s is nested or repeated: only flat tables are read", strconv.Quote(field.Name()))}
		}
		c := parquetColumn{name: field.Name(), kind: field.Type().Kind(), scale: -1}
		if lt := field.Type().LogicalType(); lt != nil {
			switch v := lt.Value.(type) {
			case *format.TimestampType:
				if v.Unit.Value != nil {
					c.time = v.Unit.Value.Duration()
				}
			case *format.DateType:
				c.date = true
			case *format.DecimalType:
				c.decimal, c.scale = true, int(v.Scale)
			}
		}
		s.cols = append(s.cols, c)
	}
	if len(s.cols) == 0 {
		return nil, &InvalidError{File: name, Msg: "the Parquet schema has no columns"}
	}
	s.fill = s.fillBlock
	return s, nil
}

func (s *parquetSource) fillBlock(buf []byte) (out []byte, lines int64, bad []BadLine, end bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &InvalidError{File: s.name, Msg: fmt.Sprintf("corrupt Parquet data: %v", p)}
		}
	}()
	if !s.header {
		s.header = true
		for i, c := range s.cols {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVField(buf, []byte(c.name))
		}
		buf = append(buf, '\n')
		lines++
	}
	var scratch []byte
	for len(buf) < BlockSize {
		if s.rows == nil {
			if s.group >= len(s.groups) {
				return buf, lines, nil, true, nil
			}
			s.rows = s.groups[s.group].Rows()
			s.group++
		}
		n, err := s.rows.ReadRows(s.batch)
		for _, row := range s.batch[:n] {
			first := true
			for _, v := range row {
				col := v.Column()
				if col < 0 || col >= len(s.cols) {
					continue
				}
				if !first {
					buf = append(buf, ',')
				}
				first = false
				if v.IsNull() {
					continue
				}
				if c := &s.cols[col]; c.text() {
					scratch = c.appendText(scratch[:0], v)
					buf = appendCSVField(buf, scratch)
				} else {
					// A number, boolean, date or time has no comma,
					// quote or line end to quote: straight into the block.
					start := len(buf)
					buf = c.appendText(buf, v)
					if len(s.cols) == 1 {
						scratch = append(scratch[:0], buf[start:]...) // for the check below
					}
				}
			}
			if len(s.cols) == 1 && len(scratch) == 0 {
				buf = append(buf, '"', '"')
			}
			buf = append(buf, '\n')
			lines++
		}
		if errors.Is(err, io.EOF) {
			s.rows.Close()
			s.rows = nil
			continue
		}
		if err != nil {
			return nil, 0, nil, false, &InvalidError{File: s.name, Msg: "corrupt Parquet data: " + err.Error()}
		}
	}
	return buf, lines, nil, false, nil
}

// text says whether a column's cells are text (strings, bytes), which
// may need quoting in CSV.
func (c *parquetColumn) text() bool {
	return !c.decimal && (c.kind == parquet.ByteArray || c.kind == parquet.FixedLenByteArray)
}

func (c *parquetColumn) appendText(dst []byte, v parquet.Value) []byte {
	switch c.kind {
	case parquet.Boolean:
		return strconv.AppendBool(dst, v.Boolean())
	case parquet.Int32, parquet.Int64:
		n := v.Int64()
		if c.kind == parquet.Int32 {
			n = int64(v.Int32())
		}
		switch {
		case c.date:
			return time.Unix(n*86400, 0).UTC().AppendFormat(dst, "2006-01-02")
		case c.time > 0:
			t := time.Unix(0, 0).Add(time.Duration(n) * c.time).UTC()
			return t.AppendFormat(dst, time.RFC3339Nano)
		case c.decimal && c.scale > 0:
			return appendDecimal(dst, big.NewInt(n), c.scale)
		}
		return strconv.AppendInt(dst, n, 10)
	case parquet.Float:
		return appendFloat(dst, float64(v.Float()), 32)
	case parquet.Double:
		return appendFloat(dst, v.Double(), 64)
	case parquet.FixedLenByteArray:
		if c.decimal {
			return appendDecimal(dst, signedBig(v.ByteArray()), c.scale)
		}
	case parquet.ByteArray:
		if c.decimal {
			return appendDecimal(dst, signedBig(v.ByteArray()), c.scale)
		}
	}
	return v.AppendBytes(dst)
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) {
		return dst // NaN is missing, as in CSV
	}
	// Plain decimals where they stay short ("0.00007", not "7e-05"), so
	// a column of them takes drift's packed decimal path, as in CSV. The
	// shortest digits either way: the same float when parsed.
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e15) {
		if bits == 64 {
			if out, ok := appendShortDecimal(dst, f); ok {
				return out
			}
		}
		return strconv.AppendFloat(dst, f, 'f', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendShortDecimal appends f as strconv.AppendFloat(f, 'f', -1, 64)
// does, several times faster, when f is a decimal of at most 15 digits
// (as most stored measurements are); ok is false otherwise. It tries 0, 1,
// 2... fraction digits: the first k at which the nearest integer r to
// |f|·10^k gives back f (r / 10^k, one correctly rounded division of
// exact numbers: the value the decimal parses to) is the shortest. Those
// are strconv's digits: a decimal of at most 15 digits is the only one of
// its length to parse to its float64 (DBL_DIG), and |f|·10^k is within
// 0.23 of it, so rounding finds it.
func appendShortDecimal(dst []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if a == 0 {
		return dst, false // "-0" is strconv's
	}
	for k := range 23 {
		p := a * pow10[k]
		if p >= 1e15 {
			return dst, false
		}
		// p is under 1e15, so p+0.5 is exact and truncating it rounds.
		r := float64(int64(p + 0.5))
		// The division settles it; the test before it skips most k
		// cheaply: when r·10^-k parses to f, p is within 2^-52·p of r
		// (two roundings of at most half an ulp), so a larger gap means
		// it does not.
		if math.Abs(p-r) > p*0x1p-50 || r/pow10[k] != a {
			continue
		}
		if f < 0 {
			dst = append(dst, '-')
		}
		var buf [24]byte
		d := strconv.AppendUint(buf[:0], uint64(r), 10)
		switch {
		case k == 0:
			return append(dst, d...), true
		case len(d) > k:
			dst = append(dst, d[:len(d)-k]...)
			dst = append(dst, '.')
			return append(dst, d[len(d)-k:]...), true
		}
		dst = append(dst, '0', '.')
		for range k - len(d) {
			dst = append(dst, '0')
		}
		return append(dst, d...), true
	}
	return dst, false
}

// signedBig reads a big-endian two's complement integer.
func signedBig(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

func appendDecimal(dst []byte, n *big.Int, scale int) []byte {
	if scale <= 0 {
		return n.Append(dst, 10)
	}
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	for len(digits) <= scale {
		digits = "0" + digits
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}
