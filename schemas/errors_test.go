package schemas

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorsListsEveryLeafOnceSortedByField(t *testing.T) {
	t.Parallel()
	// run.schema.json requires these fields; two are wrong, one is missing.
	doc := map[string]any{"model": 7, "steps": "x"}
	err := Validate("run.schema.json", doc)
	if err == nil {
		t.Fatal("want a validation error")
	}
	list := Errors("run.json", "schema", err)
	if len(list) < 2 {
		t.Fatalf("got %d problems, want at least 2: %v", len(list), list)
	}
	var fields []string
	for i, e := range list {
		if e.File != "run.json" || e.Kind != "schema" || e.Field == "" {
			t.Errorf("problem %d = %+v", i, e)
		}
		if i > 0 && list[i-1].Field > e.Field {
			t.Errorf("not sorted: %q before %q", list[i-1].Field, e.Field)
		}
		if i > 0 && list[i-1].Field == e.Field && list[i-1].Msg == e.Msg {
			t.Errorf("duplicate problem %+v", e)
		}
		fields = append(fields, e.Field)
	}
	for _, want := range []string{"/model", "/steps"} {
		if !contains(fields, want) {
			t.Errorf("fields %v lack %s", fields, want)
		}
	}
}

func TestErrorsWrapsOtherErrors(t *testing.T) {
	t.Parallel()
	got := Errors("x.json", "registry", errors.New("boom"))
	want := "x.json: boom [registry]"
	if diff := cmp.Diff(want, got.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if Leaves(errors.New("boom")) != nil {
		t.Error("Leaves of a plain error is not nil")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
