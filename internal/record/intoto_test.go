package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/schemas"
)

func TestStatement(t *testing.T) {
	t.Parallel()
	r := build(t, fixtureSource(t, true))
	data, err := NewStatement(r).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if got := raw["_type"]; got != "https://in-toto.io/Statement/v1" {
		t.Errorf("_type = %v", got)
	}
	if got := raw["predicateType"]; got != "https://podium-ml.dev/record/v1" {
		t.Errorf("predicateType = %v", got)
	}

	// Each subject is one artifact file, its digest the sha256 of the
	// file's bytes in lowercase hex with no prefix.
	lowerHex := regexp.MustCompile(`^[0-9a-f]{64}$`)
	subjects := raw["subject"].([]any)
	var names []string
	for _, s := range subjects {
		s := s.(map[string]any)
		name := s["name"].(string)
		names = append(names, name)
		digest := s["digest"].(map[string]any)
		if len(digest) != 1 {
			t.Errorf("%s: digest set %v, want only sha256", name, digest)
		}
		got := digest["sha256"].(string)
		content, err := os.ReadFile(filepath.Join(workspace, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		if want := hex.EncodeToString(sum[:]); got != want || !lowerHex.MatchString(got) {
			t.Errorf("%s: subject digest %s, want %s", name, got, want)
		}
	}
	if diff := cmp.Diff([]string{"model/config.json", "model/weights.bin"}, names); diff != "" {
		t.Errorf("subject names (-want +got):\n%s", diff)
	}

	// The predicate is the podium record, byte for byte in meaning.
	want, _ := r.Marshal()
	var wantTree, gotTree any
	_ = json.Unmarshal(want, &wantTree)
	gotTree = raw["predicate"]
	if diff := cmp.Diff(wantTree, gotTree); diff != "" {
		t.Errorf("predicate != record (-want +got):\n%s", diff)
	}
}

func TestStatementSingleFileArtifact(t *testing.T) {
	t.Parallel()
	src := fixtureSource(t, true)
	a, err := InspectArtifact(t.Context(), workspace, "model/weights.bin", "")
	if err != nil {
		t.Fatal(err)
	}
	src.Artifact = a
	s := NewStatement(build(t, src))
	want := []Subject{{Name: "model/weights.bin", Digest: map[string]string{"sha256": "560489c37640ca0cc4d3b9c3f94ab0a15a06d1edc0b30aa311de6ada7840c5ea"}}}
	if diff := cmp.Diff(want, s.Subject); diff != "" {
		t.Errorf("subject (-want +got):\n%s", diff)
	}
}

func TestStatementRoundTrip(t *testing.T) {
	t.Parallel()
	s := NewStatement(build(t, fixtureSource(t, true)))
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	_ = json.Unmarshal(data, &v)
	if err := schemas.Validate(StatementSchemaName, v); err != nil {
		t.Fatalf("schema: %v", err)
	}
	back, err := DecodeStatement(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("DecodeStatement(Marshal(s)) (-want +got):\n%s", diff)
	}
}

func TestStatementConsumerIgnoresUnknownFields(t *testing.T) {
	t.Parallel()
	s := NewStatement(build(t, fixtureSource(t, true)))
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	_ = json.Unmarshal(data, &tree)
	// Extension fields in every layer, as in-toto's parsing rules allow.
	tree["x-extension"] = "anything"
	sub := tree["subject"].([]any)[0].(map[string]any)
	sub["uri"] = "https://example.com/model.bin"
	sub["digest"].(map[string]any)["sha512"] = "00"
	tree["predicate"].(map[string]any)["future_field"] = []any{1.0}
	extended, _ := json.Marshal(tree)

	var v any
	_ = json.Unmarshal(extended, &v)
	if err := schemas.Validate(StatementSchemaName, v); err != nil {
		t.Errorf("schema refuses extension fields: %v", err)
	}
	got, err := DecodeStatement(extended)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Predicate, got.Predicate); diff != "" {
		t.Errorf("predicate (-want +got):\n%s", diff)
	}
	if got.Subject[0].Digest["sha256"] != s.Subject[0].Digest["sha256"] {
		t.Errorf("subject digest changed: %v", got.Subject[0])
	}
}

func TestDecodeStatementErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "v0.1 statement", data: `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://podium-ml.dev/record/v1"}`, wantErr: `_type is "https://in-toto.io/Statement/v0.1", not "https://in-toto.io/Statement/v1"`},
		{name: "other predicate", data: `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1"}`, wantErr: `predicateType is "https://slsa.dev/provenance/v1", not "https://podium-ml.dev/record/v1"`},
		{name: "no subject", data: `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://podium-ml.dev/record/v1","subject":[]}`, wantErr: "statement has no subject"},
		{name: "bad predicate", data: `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://podium-ml.dev/record/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicate":{"schema_version":9}}`, wantErr: "predicate: record schema_version 9 is not supported (this podium reads 1)"},
		{name: "not JSON", data: `[`, wantErr: "not an in-toto statement: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeStatement([]byte(tt.data))
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("DecodeStatement() error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestStatementSchemaRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(s *Statement)
	}{
		{name: "prefixed digest", mutate: func(s *Statement) { s.Subject[0].Digest["sha256"] = "sha256:" + s.Subject[0].Digest["sha256"] }},
		{name: "uppercase digest", mutate: func(s *Statement) {
			s.Subject[0].Digest["sha256"] = "F64F5123527979BCD8ACB17723D19A147F00EE795C564883531AF8D50149271F"
		}},
		{name: "no subject", mutate: func(s *Statement) { s.Subject = []Subject{} }},
		{name: "wrong type", mutate: func(s *Statement) { s.Type = "https://in-toto.io/Statement/v0.1" }},
		{name: "wrong predicate type", mutate: func(s *Statement) { s.PredicateType = "custom" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStatement(build(t, fixtureSource(t, true)))
			tt.mutate(s)
			if _, err := s.Marshal(); err == nil {
				t.Error("Marshal() accepted an invalid statement")
			}
		})
	}
}
