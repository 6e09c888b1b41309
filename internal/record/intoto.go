package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md).
const (
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType names a podium record as an in-toto predicate.
	PredicateType = "https://podium-ml.dev/record/v1"
	// StatementSchemaName is the embedded schema statements are validated against.
	StatementSchemaName = "intoto-statement.schema.json"
)

// Statement is an in-toto Statement v1 about the model's files, carrying
// the record as its predicate. actions/attest, cosign and
// `gh attestation verify` understand it as is.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     *Record   `json:"predicate"`
}

// Subject is one artifact file. Digest maps an algorithm to lowercase hex
// without a prefix ({"sha256": "ab12..."}), as in-toto's DigestSet does.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// NewStatement wraps r: one subject per file of the model artifact, named
// by its path relative to the spec's directory.
func NewStatement(r *Record) *Statement {
	s := &Statement{Type: StatementType, PredicateType: PredicateType, Predicate: r, Subject: []Subject{}}
	for _, f := range r.Artifact.Files {
		s.Subject = append(s.Subject, Subject{
			Name:   f.Path,
			Digest: map[string]string{"sha256": strings.TrimPrefix(f.Digest, "sha256:")},
		})
	}
	return s
}

// Marshal returns the statement as one line of compact JSON and a newline,
// after checking it against the statement schema.
func (s *Statement) Marshal() ([]byte, error) {
	return marshalValid(s, StatementSchemaName)
}

// DecodeStatement reads a statement that carries a podium record. Unknown
// fields are ignored, as in-toto's parsing rules require; a different
// _type or predicateType is refused.
func DecodeStatement(data []byte) (*Statement, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("statement is %d bytes; at most %d are read", len(data), MaxSize)
	}
	var s struct {
		Type          string          `json:"_type"`
		Subject       []Subject       `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if s.Type != StatementType {
		return nil, fmt.Errorf("_type is %q, not %q", s.Type, StatementType)
	}
	if s.PredicateType != PredicateType {
		return nil, fmt.Errorf("predicateType is %q, not %q", s.PredicateType, PredicateType)
	}
	if len(s.Subject) == 0 {
		return nil, errors.New("statement has no subject")
	}
	r, err := Decode(s.Predicate)
	if err != nil {
		return nil, fmt.Errorf("predicate: %w", err)
	}
	return &Statement{Type: s.Type, Subject: s.Subject, PredicateType: s.PredicateType, Predicate: r}, nil
}
