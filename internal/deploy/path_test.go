package deploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Path
		wantErr string
	}{
		{name: "dotted", in: "spec.predictor.model.storageUri", want: Path{{Key: "spec"}, {Key: "predictor"}, {Key: "model"}, {Key: "storageUri"}}},
		{name: "index", in: "spec.containers[0].image", want: Path{{Key: "spec"}, {Key: "containers"}, {Index: 0, IsIndex: true}, {Key: "image"}}},
		{name: "nested indexes", in: "a[1][12]", want: Path{{Key: "a"}, {Index: 1, IsIndex: true}, {Index: 12, IsIndex: true}}},
		{name: "root index", in: "[0].a", want: Path{{Index: 0, IsIndex: true}, {Key: "a"}}},
		{name: "double-quoted key", in: `metadata.annotations["example.com/x"]`, want: Path{{Key: "metadata"}, {Key: "annotations"}, {Key: "example.com/x"}}},
		{name: "single-quoted key", in: `a['b.c'].d`, want: Path{{Key: "a"}, {Key: "b.c"}, {Key: "d"}}},
		{name: "escaped quote", in: `a["b\"c"]`, want: Path{{Key: "a"}, {Key: `b"c`}}},
		{name: "numeric key", in: "ports.80", want: Path{{Key: "ports"}, {Key: "80"}}},
		{name: "empty", in: "", wantErr: `invalid field path "": empty path`},
		{name: "double dot", in: "a..b", wantErr: `invalid field path "a..b": empty key at offset 2`},
		{name: "leading dot", in: ".a", wantErr: `invalid field path ".a": empty key at offset 0`},
		{name: "trailing dot", in: "a.", wantErr: `invalid field path "a.": path ends with a dot`},
		{name: "negative index", in: "a[-1]", wantErr: `invalid field path "a[-1]": index "-1" is not a non-negative integer (quote a key: ["-1"])`},
		{name: "leading zero", in: "a[01]", wantErr: `invalid field path "a[01]": index "01" is not a non-negative integer (quote a key: ["01"])`},
		{name: "unterminated", in: "a[0", wantErr: `invalid field path "a[0": unterminated '['`},
		{name: "stray bracket", in: "a]", wantErr: `invalid field path "a]": unexpected ']' at offset 1`},
		{name: "key after index without dot", in: "a[0]b", wantErr: `invalid field path "a[0]b": missing '.' before "b" at offset 4`},
		{name: "unterminated quote", in: `a["b]`, wantErr: `invalid field path "a[\"b]": unterminated quoted key at offset 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePath(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParsePath(%q) error = %v, want %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePath mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParsePath checks that a parsed path prints back to text that parses
// to the same path.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"a.b[0].c", `a["x.y"]`, `['a']`, "[0][1]", `a["\u00e9\n"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("ParsePath(%q) = %v, but its String %q does not parse: %v", s, p, p.String(), err)
		}
		if diff := cmp.Diff(p, again); diff != "" {
			t.Fatalf("round trip of %q changed the path:\n%s", s, diff)
		}
	})
}
