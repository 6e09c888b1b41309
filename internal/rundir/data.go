package rundir

// DataCheck is run.json's summary of the data check podium train ran
// before any step (the spec's data section): the schema, its digest, the
// guarded inputs' digests and what the check found. Violations are those of
// warning severity (a run with an error-severity violation never starts).
type DataCheck struct {
	Schema       string            `json:"schema"`
	SchemaDigest string            `json:"schema_digest"`
	Inputs       map[string]string `json:"inputs"`
	Checks       int               `json:"checks"`
	Passed       int               `json:"passed"`
	Warnings     int               `json:"warnings"`
	// Cached is true when an earlier run's pass of the same schema and
	// inputs was reused.
	Cached     bool            `json:"cached"`
	Violations []DataViolation `json:"violations"`
}

// DataViolation is one failed check, without its example rows (they are
// data, and the record is shared more widely than the data).
type DataViolation struct {
	File     string `json:"file"`
	Column   string `json:"column"`
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Count    int64  `json:"count"`
	Message  string `json:"message"`
}
