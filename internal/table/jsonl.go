package table

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// JSON Lines: one JSON object per line. The first object's keys, in their
// order, are the columns; a later object may leave keys out (missing
// values) but not add any. A string is the cell's text, a number its
// literal, true/false as written, null an empty (missing) cell, an object
// or array its compact JSON. The header is line 0, so a row's line is its
// line in the file; a line that is not such an object is a bad row.

type jsonlSource struct {
	*transcoder
	r      *bufio.Reader
	cols   []string
	index  map[string]int
	cells  [][]byte
	set    []bool
	header bool
	name   string
	// pending is the first object's line, read before the header is sent.
	pending []byte
	blanks  int64
}

func newJSONLSource(name string, r io.Reader, buffers int) *jsonlSource {
	s := &jsonlSource{transcoder: newTranscoder(name, buffers, 0), r: bufio.NewReaderSize(r, 1<<16), name: name}
	s.fill = s.fillBlock
	return s
}

// readLine returns the next line without its end, or io.EOF.
func (s *jsonlSource) readLine(line int64) ([]byte, error) {
	var long []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, frag...)
			if len(long) > MaxRecord {
				return nil, &InvalidError{File: s.name, Line: line, Msg: (&RecordTooLong{limit: MaxRecord}).Error()}
			}
			continue
		}
		if long != nil {
			frag = append(long, frag...)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("failed to read %s: %w", s.name, err)
		}
		if len(frag) == 0 && err != nil {
			return nil, io.EOF
		}
		frag = bytes.TrimSuffix(frag, []byte{'\n'})
		return bytes.TrimSuffix(frag, []byte{'\r'}), nil
	}
}

func (s *jsonlSource) fillBlock(buf []byte) ([]byte, int64, []BadLine, bool, error) {
	var lines int64
	var bad []BadLine
	if !s.header {
		// The header needs the first object's keys.
		for {
			l, err := s.readLine(s.blanks + 1)
			if errors.Is(err, io.EOF) {
				return nil, 0, nil, true, &InvalidError{File: s.name, Msg: "file is empty: expected JSON objects, one a line"}
			}
			if err != nil {
				return nil, 0, nil, false, err
			}
			if len(bytes.TrimSpace(l)) == 0 {
				s.blanks++
				continue
			}
			cols, err := objectKeys(l)
			if err != nil {
				return nil, 0, nil, false, &InvalidError{File: s.name, Line: s.blanks + 1, Msg: "the first object: " + err.Error()}
			}
			if len(cols) == 0 {
				return nil, 0, nil, false, &InvalidError{File: s.name, Line: s.blanks + 1, Msg: "the first object has no keys: no columns"}
			}
			s.cols, s.index = cols, map[string]int{}
			for i, c := range cols {
				s.index[c] = i
			}
			s.cells, s.set = make([][]byte, len(cols)), make([]bool, len(cols))
			s.pending = append([]byte(nil), l...)
			break
		}
		s.header = true
		for i, c := range s.cols {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVField(buf, []byte(c))
		}
		buf = append(buf, '\n')
		lines++
		for range s.blanks {
			buf = append(buf, '\n')
			lines++
		}
	}
	line := s.line + lines
	for len(buf) < BlockSize {
		var l []byte
		if s.pending != nil {
			l, s.pending = s.pending, nil
		} else {
			var err error
			l, err = s.readLine(line)
			if errors.Is(err, io.EOF) {
				return buf, lines, bad, true, nil
			}
			if err != nil {
				return nil, 0, nil, false, err
			}
		}
		before := len(buf)
		var problem string
		if len(bytes.TrimSpace(l)) > 0 {
			buf, problem = s.appendRow(buf, l)
		}
		if problem != "" {
			buf = buf[:before]
			bad = append(bad, BadLine{Line: line, Reason: problem})
		}
		if len(buf) == before {
			buf = append(buf, '\n')
		}
		lines++
		line++
	}
	return buf, lines, bad, false, nil
}

// appendRow appends one object as a CSV record, or returns why it cannot.
func (s *jsonlSource) appendRow(buf, l []byte) ([]byte, string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(l, &obj); err != nil || obj == nil {
		return buf, "not a JSON object"
	}
	clear(s.set)
	for k, raw := range obj {
		i, ok := s.index[k]
		if !ok {
			return buf, fmt.Sprintf("key %s is not one of the first object's keys", strconv.Quote(k))
		}
		cell, err := cellOf(raw)
		if err != nil {
			return buf, fmt.Sprintf("key %s: %v", strconv.Quote(k), err)
		}
		s.cells[i], s.set[i] = cell, true
	}
	for i := range s.cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		if s.set[i] {
			buf = appendCSVField(buf, s.cells[i])
		}
	}
	// A single empty cell would be a blank line, which CSV skips; quote it.
	if len(s.cols) == 1 && (!s.set[0] || len(s.cells[0]) == 0) {
		buf = append(buf, '"', '"')
	}
	return append(buf, '\n'), ""
}

// cellOf renders one JSON value as cell text; null is empty.
func cellOf(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	case raw[0] == '{' || raw[0] == '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	return raw, nil
}

// objectKeys returns a JSON object's keys in the order they are written.
func objectKeys(l []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(l))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not a JSON object")
		}
		k := tok.(string)
		if seen[k] {
			return nil, fmt.Errorf("key %s appears twice", strconv.Quote(k))
		}
		seen[k] = true
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, errors.New("not a JSON object")
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	return keys, nil
}
