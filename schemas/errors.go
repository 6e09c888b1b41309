package schemas

import (
	"errors"
	"sort"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/third_party/jsonschema"
)

// Leaves returns the innermost failures of a jsonschema validation error
// (the ones that say what is wrong, not which branch of the schema was
// being tried), or nil when err is not a validation error.
func Leaves(err error) []*jsonschema.ValidationError {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return leaves
}

// Errors turns a validation failure of file into one diag.Error per
// distinct leaf, its Field the JSON pointer of the wrong value, sorted by
// field. Any other error becomes a single diag.Error.
func Errors(file, kind string, err error) diag.List {
	leaves := Leaves(err)
	if leaves == nil {
		return diag.List{{File: file, Msg: err.Error(), Kind: kind}}
	}
	var list diag.List
	seen := map[string]bool{}
	for _, e := range leaves {
		field := e.InstanceLocation
		if field == "" {
			field = "/"
		}
		if k := field + "\x00" + e.Message; !seen[k] {
			seen[k] = true
			list = append(list, &diag.Error{File: file, Field: field, Msg: e.Message, Kind: kind})
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Field < list[j].Field })
	return list
}
