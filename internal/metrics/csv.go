package metrics

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/strictjson"
)

// parseCSV reads `name,value` rows (RFC 4180). The header is optional: a
// first row whose value column is not a number is taken as the header.
// Names are used as written (already flat); a value that is not a number
// is skipped, like a string in JSON, and an empty one counts as null.
func (p *parser) parseCSV() error {
	data := bytes.TrimPrefix(p.data, bom)
	if len(bytes.TrimSpace(data)) == 0 {
		return p.errAt(0, 0, "", "file is empty: expected name,value rows")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked below, with a better message
	r.ReuseRecord = true
	first := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return p.errAt(pe.Line, pe.Column, "", "%s", pe.Err.Error())
			}
			return p.errAt(0, 0, "", "%s", err.Error())
		}
		line, col := r.FieldPos(0)
		if len(rec) != 2 {
			return p.errAt(line, col, "", "expected 2 fields (name,value), found %d", len(rec))
		}
		name, lit := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if first {
			first = false
			if _, err := strconv.ParseFloat(lit, 64); lit != "" && errors.Is(err, strconv.ErrSyntax) {
				continue // the header
			}
		}
		at := pos{line: line, col: col}
		if err := p.enter(name, at); err != nil {
			return err
		}
		if msg := checkKey(name); msg != "" {
			return p.errPos(at, "", "%s", msg)
		}
		if lit == "" {
			if err := p.add(name, nil, at); err != nil {
				return err
			}
			continue
		}
		f, msg := strictjson.Number(lit)
		if msg != "" {
			if _, err := strconv.ParseFloat(lit, 64); errors.Is(err, strconv.ErrSyntax) {
				// Not a number at all: a string value, skipped.
				if err := p.add(name, nil, at); err != nil {
					return err
				}
				continue
			}
			vline, vcol := r.FieldPos(1)
			return p.errAt(vline, vcol, name, "%s", msg)
		}
		if err := p.add(name, &f, at); err != nil {
			return err
		}
	}
	return nil
}
