package metrics

import (
	"bytes"
	"encoding/json"

	"github.com/podium-ml/podium/internal/strictjson"
)

func (p *parser) parseJSON() error {
	if bytes.HasPrefix(p.data, bom) {
		return p.errAt(1, 1, "", `file starts with a UTF-8 byte order mark, which JSON does not allow: save it without one (Python: encoding="utf-8", not "utf-8-sig")`)
	}
	if len(bytes.TrimLeft(p.data, " \t\r\n")) == 0 {
		return p.errAt(0, 0, "", "file is empty: expected a JSON object of metrics")
	}
	r := strictjson.NewReader(p.file, p.kind, p.data)
	start, tok, err := r.Next("")
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return r.Errorf(start, "", "the top level must be an object of metrics, found %s", strictjson.Describe(tok))
	}
	if err := r.Members(flattener{p}); err != nil {
		return err
	}
	return r.End("the top-level object", "a metrics file holds one object")
}

// flattener turns the JSON walk into metrics: it counts keys and elements
// against MaxValues, refuses keys no metric name may hold and adds each
// leaf under its dotted name.
type flattener struct{ *parser }

func (f flattener) Member(prefix, key string, at int) error {
	if err := f.enter(join(prefix, key), pos{off: at}); err != nil {
		return err
	}
	if msg := checkKey(key); msg != "" {
		return f.errPos(pos{off: at}, prefix, "%s", msg)
	}
	return nil
}

func (f flattener) Element(name string, at int) error { return f.enter(name, pos{off: at}) }

func (f flattener) Leaf(name string, value *float64, at int) error {
	return f.add(name, value, pos{off: at})
}
