// Package spec loads podium.yaml (spec v1): it decodes the YAML, applies the
// defaults, validates it against schemas/pipeline.schema.json and checks
// what a schema cannot (unique names, known needs, no cycles, no two steps
// racing over a path, well-formed rules, parsable templates). Every problem is reported with its file,
// line, column and field path, all at once.
package spec

import "time"

// DefaultFile is the spec file commands read when --spec is not given.
const DefaultFile = "podium.yaml"

// Spec is a loaded, defaulted and validated podium.yaml.
type Spec struct {
	// File is the path the spec was loaded from, as given.
	File string `json:"-"`
	// Dir is the directory holding the spec; relative paths in the spec
	// (components, inputs, outputs, metrics, manifest) resolve against it.
	Dir string `json:"-"`
	// Digest is "sha256:<hex>" of the spec file's bytes.
	Digest string `json:"-"`

	Version        int            `json:"version"`
	Model          string         `json:"model"`
	Registry       Registry       `json:"registry"`
	Cache          Cache          `json:"cache"`
	Params         map[string]any `json:"params,omitempty"` // scalar values: string, float64, bool
	Components     []Component    `json:"components,omitempty"`
	Pipeline       []Step         `json:"pipeline,omitempty"`
	Metrics        string         `json:"metrics,omitempty"`
	Artifact       string         `json:"artifact,omitempty"`
	EvaluationData []string       `json:"evaluation_data,omitempty"`
	Gate           Gate           `json:"gate"`
	Deploy         *Deploy        `json:"deploy,omitempty"`
	Drift          Drift          `json:"drift"`
	Data           *Data          `json:"data,omitempty"`
}

// Data names the data schema and the step inputs it guards.
type Data struct {
	Schema string   `json:"schema"`
	Inputs []string `json:"inputs"`
}

// Registry says where champions are kept.
type Registry struct {
	Type string `json:"type"` // "git" (default)
	Path string `json:"path"` // default ".podium/registry"
}

// Cache says where step results are cached and how large the cache may
// grow.
type Cache struct {
	Path string `json:"path"` // default ".podium/cache"
	// Remote is an OCI repository (oci://host/repository) holding the
	// same entries and the outputs they restore; "" means none.
	Remote string `json:"remote,omitempty"`
	// MaxSize is the stored outputs' size limit as written ("5GB"); ""
	// means DefaultCacheMaxSize. MaxBytes is its value in bytes.
	MaxSize  string `json:"max_size,omitempty"`
	MaxBytes int64  `json:"-"`
}

// Component is a pipeline component with its own build and test commands.
type Component struct {
	Name  string `json:"name"`
	Path  string `json:"path"` // default "."
	Build string `json:"build,omitempty"`
	Test  string `json:"test,omitempty"`
}

// Step is one node of the pipeline DAG.
type Step struct {
	Name    string            `json:"name"`
	Run     string            `json:"run"`
	Needs   []string          `json:"needs,omitempty"`
	Inputs  []string          `json:"inputs,omitempty"`
	Outputs []string          `json:"outputs,omitempty"`
	Timeout time.Duration     `json:"timeout,omitempty"` // 0: no limit
	Env     map[string]string `json:"env,omitempty"`
	// RunsOn are runner labels for the step's job in a fanned-out plan.
	RunsOn []string `json:"runs_on,omitempty"`
	// Params are the params the step uses: only these enter its cache key.
	// nil (the key absent) means every param, as before steps could say;
	// an empty list means none.
	Params []string `json:"params,omitempty"`
}

// Gate holds the promotion rules.
type Gate struct {
	Rules []Rule `json:"rules"`
}

// Direction says which way a metric is better.
type Direction string

// Directions.
const (
	Higher Direction = "higher"
	Lower  Direction = "lower"
)

// Rule is one gate rule. Metric may be a glob over flattened metric names
// (package gate/glob: * is one level, ** any depth). Nil bounds are unset.
type Rule struct {
	Metric      string    `json:"metric"`
	Direction   Direction `json:"direction"`
	MinValue    *float64  `json:"min_value,omitempty"`
	MaxValue    *float64  `json:"max_value,omitempty"`
	MinDelta    *float64  `json:"min_delta,omitempty"`
	MinRelative *float64  `json:"min_relative,omitempty"`
	Tolerance   *float64  `json:"tolerance,omitempty"`
	// Missing says what a metric the rule covers on the champion's side
	// but the candidate lacks does: MissingFail (the default, "") fails
	// the rule; MissingIgnore only warns.
	Missing string `json:"missing,omitempty"`
}

// What a rule does with a metric the champion has and the candidate lacks.
const (
	MissingFail   = "fail"
	MissingIgnore = "ignore"
)

// Deploy says how a promotion becomes a deployment PR/MR.
type Deploy struct {
	Manifest string   `json:"manifest"`
	Field    string   `json:"field"`  // dotted path in the manifest, e.g. spec.predictor.model.storageUri
	Value    string   `json:"value"`  // text/template
	Branch   string   `json:"branch"` // text/template; default "podium/deploy/{{ .Model }}"
	Labels   []string `json:"labels,omitempty"`
}

// Drift holds the retrain thresholds.
type Drift struct {
	PSIThreshold float64 `json:"psi_threshold"` // default 0.2
	KSThreshold  float64 `json:"ks_threshold"`  // default 0.1
	// LInfThreshold and Share: 0 means drift's defaults.
	LInfThreshold float64  `json:"linf_threshold,omitempty"`
	Share         float64  `json:"share,omitempty"`
	Columns       []string `json:"columns,omitempty"`
}

// TemplateData is what deploy.value and deploy.branch templates see.
type TemplateData struct {
	Model    string
	Version  string
	Commit   string
	Artifact TemplateArtifact
	Metrics  map[string]float64
}

// TemplateArtifact is the model artifact in template data.
type TemplateArtifact struct {
	Path   string
	Digest string
	// OCI is the artifact's immutable reference in a registry
	// (oci://host/repository@sha256:…) when propose pushed it
	// (--push-artifact), else "".
	OCI string
}
