package strictjson

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder notes every call a walk makes, with the line and column of its
// offset.
type recorder struct {
	data  []byte
	calls []string
	stop  string // a Member key whose visit fails
}

func (r *recorder) at(off int) string {
	line, col := Position(r.data, off)
	return fmt.Sprintf("%d:%d", line, col)
}

func (r *recorder) Member(prefix, key string, off int) error {
	r.calls = append(r.calls, "member "+prefix+"|"+key+" "+r.at(off))
	if key == r.stop {
		return fmt.Errorf("stopped at %s", key)
	}
	return nil
}

func (r *recorder) Element(name string, off int) error {
	r.calls = append(r.calls, "element "+name+" "+r.at(off))
	return nil
}

func (r *recorder) Leaf(name string, value *float64, off int) error {
	v := "nil"
	if value != nil {
		v = fmt.Sprint(*value)
	}
	r.calls = append(r.calls, "leaf "+name+"="+v+" "+r.at(off))
	return nil
}

func TestReaderMembers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		data      string
		stop      string
		wantCalls []string
		wantErr   string
	}{
		{
			name: "members, elements and leaves in document order",
			data: "{\"a\": 1.5,\n \"b\": [true, {\"c\": null}], \"d\": \"x\"}",
			wantCalls: []string{
				"member |a 1:2", "leaf a=1.5 1:2",
				"member |b 2:2", "element b.0 2:8", "leaf b.0=nil 2:8",
				"element b.1 2:14", "member b.1|c 2:15", "leaf b.1.c=nil 2:15",
				"member |d 2:28", "leaf d=nil 2:28",
			},
		},
		{
			name:      "a visitor's error ends the walk",
			data:      `{"a": 1, "b": 2}`,
			stop:      "b",
			wantCalls: []string{"member |a 1:2", "leaf a=1 1:2", "member |b 1:10"},
			wantErr:   "stopped at b",
		},
		{
			name:      "a duplicate key is refused after the visitor saw it",
			data:      `{"a": 1, "a": 2}`,
			wantCalls: []string{"member |a 1:2", "leaf a=1 1:2", "member |a 1:10"},
			wantErr:   `f.json:1:10: a: duplicate key "a" (first at line 1, column 2) [test]`,
		},
		{
			name:      "a number a float64 does not hold",
			data:      `{"a": 1e400}`,
			wantCalls: []string{"member |a 1:2"},
			wantErr:   "f.json:1:7: a: 1e400 is out of the range of a 64-bit float [test]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewReader("f.json", "test", []byte(tt.data))
			if _, tok, err := r.Next(""); err != nil || tok != json.Delim('{') {
				t.Fatalf("Next() = %v, %v; want '{'", tok, err)
			}
			rec := &recorder{data: []byte(tt.data), stop: tt.stop}
			err := r.Members(rec)
			if err == nil {
				err = r.End("the object", "one object")
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("error = %q, want %q", gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, rec.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderEnd(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ data, want string }{
		{"{} ", ""},
		{"{} []", "f.json:1:4: unexpected an array after the document: one value [test]"},
		{"{} }", "f.json:1:4: unexpected data after the document: one value [test]"},
	} {
		r := NewReader("f.json", "test", []byte(tt.data))
		if _, _, err := r.Next(""); err != nil {
			t.Fatal(err)
		}
		if err := r.Members(nil); err != nil {
			t.Fatal(err)
		}
		got := ""
		if err := r.End("the document", "one value"); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("End() on %q = %q, want %q", tt.data, got, tt.want)
		}
	}
}
