package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addGoldenSeeds(f *testing.F) {
	f.Helper()
	for _, name := range []string{"record.golden.json", "record-nocompare.golden.json", "statement.golden.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"schema_version":1,"model":"m","commit":{"sha":"a"},"params":{"x":[1,{"y":null}]}}`))
	f.Add([]byte(`{"schema_version":1,"model":"m","commit":{"sha":"a"},"started_at":"2026-01-02T03:04:05+05:30"}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://podium-ml.dev/record/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicate":{"schema_version":1,"model":"m","commit":{"sha":"a"}}}`))
	f.Add([]byte(`null`))
}

// FuzzDecode: any input either fails cleanly or decodes to a record that
// survives encode→decode unchanged.
func FuzzDecode(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		r, err := Decode(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		back, err := Decode(again)
		if err != nil {
			t.Fatalf("re-decoding failed: %v\n%s", err, again)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Errorf("decode→encode→decode changed the record (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodeStatement: the same for statements, and the type fields are
// always the exact ones.
func FuzzDecodeStatement(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		s, err := DecodeStatement(data)
		if err != nil {
			return
		}
		if s.Type != StatementType || s.PredicateType != PredicateType || len(s.Subject) == 0 || s.Predicate == nil {
			t.Fatalf("accepted %+v", s)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeStatement(again)
		if err != nil {
			t.Fatalf("re-decoding failed: %v\n%s", err, again)
		}
		if diff := cmp.Diff(s, back); diff != "" {
			t.Errorf("decode→encode→decode changed the statement (-first +second):\n%s", diff)
		}
	})
}

// FuzzSetLine: setting a record line keeps every other model's line, puts
// the line in exactly once, and doing it twice changes nothing.
func FuzzSetLine(f *testing.F) {
	f.Add([]byte("{\"model\":\"a\"}\n{\"model\":\"b\"}\n"), []byte(`{"model":"a","v":2}`))
	f.Add([]byte("junk\n\n{\"model\":\"c\"}\r\n"), []byte(`{"model":"b"}`))
	f.Add([]byte(""), []byte(`{"model":"z"}`))
	f.Fuzz(func(t *testing.T, note, line []byte) {
		if len(note) > 1<<16 {
			return
		}
		line = bytes.TrimSpace(line)
		var head struct {
			Model string `json:"model"`
		}
		if bytes.ContainsAny(line, "\r\n") || json.Unmarshal(line, &head) != nil || head.Model == "" {
			return // Add refuses these
		}
		once := SetLine(note, line)
		if twice := SetLine(once, line); !bytes.Equal(once, twice) {
			t.Fatalf("not idempotent:\n%q\n%q", once, twice)
		}
		count := 0
		for _, l := range ParseNote(once) {
			if l.Model == head.Model {
				count++
				if !bytes.Equal(l.Line, line) {
					t.Errorf("line for %q is %q, want %q", head.Model, l.Line, line)
				}
			}
		}
		if count != 1 {
			t.Errorf("%d lines for model %q in %q", count, head.Model, once)
		}
		for _, l := range ParseNote(note) {
			if l.Model != "" && l.Model != head.Model && !bytes.Contains(once, l.Line) {
				t.Errorf("lost the line of %q: %q", l.Model, l.Line)
			}
		}
	})
}
