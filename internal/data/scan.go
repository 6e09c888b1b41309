package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/podium-ml/podium/internal/table"
)

// buffers is how many blocks a scan has in flight: one parsing, one being
// read ahead.
const buffers = 3

// scan reads one table file: header is called with the column names, then
// row with each well-formed row's fields, or bad with a row that cannot be
// read. Rows are visited in file order.
func scan(ctx context.Context, path string, header func([]string) error,
	row func(fields [][]byte, line int64), bad func(line int64, reason string)) error {
	f, err := os.Open(path)
	if err != nil {
		return &table.InvalidError{File: path, Msg: "cannot open: " + errors.Unwrap(err).Error()}
	}
	defer f.Close()
	src, err := table.Open(path, f, buffers)
	if err != nil {
		return err
	}
	blocks := readAhead(ctx, src)
	defer blocks.stop()
	var p table.RecordParser
	var cols []string
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := blocks.next()
		if err != nil {
			var long *table.RecordTooLong
			if errors.As(err, &long) {
				return &table.InvalidError{File: path, Line: long.Line(), Msg: long.Error()}
			}
			return err
		}
		if b == nil {
			break
		}
		for _, bl := range b.Bad {
			bad(bl.Line, bl.Reason)
		}
		p.Reset(b.Data, b.Line)
		for {
			fields, line, problem, ok := p.Next()
			if !ok {
				break
			}
			if cols == nil {
				if problem == "" {
					cols, problem = table.Header(fields)
				}
				if problem != "" {
					src.Release(b)
					return &table.InvalidError{File: path, Line: line, Msg: "header: " + problem}
				}
				if err := header(cols); err != nil {
					src.Release(b)
					return err
				}
				continue
			}
			switch {
			case problem != "":
				bad(line, problem)
			case len(fields) != len(cols):
				bad(line, fmt.Sprintf("expected %d fields, found %d", len(cols), len(fields)))
			default:
				row(fields, line)
			}
		}
		src.Release(b)
	}
	if cols == nil {
		return &table.InvalidError{File: path, Msg: "file is empty: expected a header row"}
	}
	return nil
}

// prefetch reads and cuts the next blocks on its own goroutine while the
// caller checks the current one: reading is a good part of a scan, and
// rows must still be visited in order by one goroutine.
type prefetch struct {
	src    table.Source
	ch     chan blockOrErr
	cancel context.CancelFunc
}

type blockOrErr struct {
	b   *table.Block
	err error
}

func readAhead(ctx context.Context, src table.Source) *prefetch {
	ctx, cancel := context.WithCancel(ctx)
	pf := &prefetch{src: src, ch: make(chan blockOrErr, buffers-1), cancel: cancel}
	go func() {
		defer close(pf.ch)
		for {
			b, err := src.Next()
			select {
			case pf.ch <- blockOrErr{b, err}:
			case <-ctx.Done():
				if b != nil {
					src.Release(b)
				}
				return
			}
			if b == nil || err != nil {
				return
			}
		}
	}()
	return pf
}

// next returns the next block, nil at the end.
func (pf *prefetch) next() (*table.Block, error) {
	r, ok := <-pf.ch
	if !ok {
		return nil, nil
	}
	return r.b, r.err
}

// stop ends the reading goroutine, giving back the blocks it read ahead
// (it may be waiting for one to read the next).
func (pf *prefetch) stop() {
	pf.cancel()
	for r := range pf.ch {
		if r.b != nil {
			pf.src.Release(r.b)
		}
	}
}

// trimSpace drops surrounding spaces and tabs.
func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t")
}

// parseBool reads true/false in the spellings CSV writers use.
func parseBool(b []byte) (bool, bool) {
	switch string(b) {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// timeLayouts are the timestamp forms recognised: RFC 3339 and the
// date/date-time forms spreadsheets and databases write.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999"}

func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 10 || b[4] != '-' {
		return time.Time{}, false
	}
	s := string(b)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// isInteger reports whether a parsed number is a whole number a float64
// holds exactly.
func isInteger(v float64) bool {
	return v == float64(int64(v)) && v > -(1<<53) && v < 1<<53
}

// printable escapes what a terminal or a YAML comment must not see.
func printable(s string) string {
	if !utf8.ValidString(s) || containsControl(s) {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

// cellText shows a cell in a report: printable, at most 40 bytes.
func cellText(b []byte) string {
	const limit = 40
	cut := ""
	if len(b) > limit {
		b, cut = b[:limit], "..."
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := string(b)
	if !utf8.ValidString(s) || containsControl(s) {
		q := strconv.Quote(s)
		s = q[1 : len(q)-1]
	}
	return s + cut
}

func containsControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

const (
	numMissing = table.NumMissing
	numBad     = table.NumBad
)

func parseNum(b []byte) (float64, int) { return table.ParseNumber(b) }
