package jsonschema

import (
	"strings"
	"sync"
	"testing"
)

// The meta-schemas compile on first use (podium's change): a schema is
// still checked against its draft's meta-schema, for every draft, and
// the first compiles may race.
func TestMetaSchemasCompileOnFirstUse(t *testing.T) {
	drafts := []string{
		"https://json-schema.org/draft/2020-12/schema",
		"https://json-schema.org/draft/2019-09/schema",
		"http://json-schema.org/draft-07/schema#",
		"http://json-schema.org/draft-06/schema#",
		"http://json-schema.org/draft-04/schema#",
	}
	var wg sync.WaitGroup
	for _, d := range drafts {
		wg.Go(func() {
			// "type": 5 is valid JSON but not a valid schema in any draft:
			// only the meta-schema refuses it.
			_, err := CompileString("bad.json", `{"$schema": "`+d+`", "type": 5}`)
			if err == nil || !strings.Contains(err.Error(), "type") {
				t.Errorf("%s: compiling {\"type\": 5} gave %v, want the meta-schema's error", d, err)
			}
			s, err := CompileString("good.json", `{"$schema": "`+d+`", "type": "string"}`)
			if err != nil {
				t.Errorf("%s: %v", d, err)
				return
			}
			if err := s.Validate("x"); err != nil {
				t.Errorf("%s: \"x\" against type string: %v", d, err)
			}
			if err := s.Validate(5.0); err == nil {
				t.Errorf("%s: 5 against type string passed", d)
			}
		})
	}
	wg.Wait()
	for _, d := range []*Draft{Draft4, Draft6, Draft7, Draft2019, Draft2020} {
		if d.meta == nil || d.meta.meta != d.meta {
			t.Errorf("%s: meta-schema not loaded, or not its own meta-schema", d)
		}
	}
}

// An enum value holding a verb is printed as it is (podium's change: the
// message was a format string).
func TestEnumMessageIsNotAFormat(t *testing.T) {
	s, err := CompileString("enum.json", `{"enum": ["100%d"]}`)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate("x")
	if err == nil || !strings.Contains(err.Error(), `"100%d"`) {
		t.Errorf("got %v, want the enum value as written", err)
	}
}

// A trusted compile loads no meta-schema and checks nothing against one:
// {"type": 5} compiles (the caller vouched for it), and a good schema
// still validates, formats included when asserted.
func TestTrustedSkipsTheMetaSchema(t *testing.T) {
	compile := func(trusted bool, schema string) (*Schema, error) {
		c := NewCompiler()
		c.Trusted = trusted
		c.AssertFormat = true
		if err := c.AddResource("s.json", strings.NewReader(schema)); err != nil {
			t.Fatal(err)
		}
		return c.Compile("s.json")
	}
	const draft = `"$schema": "https://json-schema.org/draft/2020-12/schema"`
	if _, err := compile(false, `{`+draft+`, "type": 5}`); err == nil {
		t.Error("checked: {\"type\": 5} compiled")
	}
	s, err := compile(true, `{`+draft+`, "type": "string", "format": "date-time"}`)
	if err != nil {
		t.Fatal(err)
	}
	if s.meta != nil {
		t.Error("a trusted schema has a meta-schema")
	}
	if err := s.Validate("2026-01-02T03:04:05Z"); err != nil {
		t.Errorf("a date-time: %v", err)
	}
	if err := s.Validate("not a time"); err == nil {
		t.Error("not a date-time passed: the format is not asserted")
	}
	if err := s.Validate(5.0); err == nil {
		t.Error("5 passed type string")
	}
}
