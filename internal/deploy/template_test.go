package deploy

import (
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/spec"
)

func TestRender(t *testing.T) {
	t.Parallel()
	data := spec.TemplateData{
		Model:   "iris",
		Version: "0123456789ab",
		Commit:  "0123456789abcdef0123456789abcdef01234567",
		Artifact: spec.TemplateArtifact{
			Path:   "model/",
			Digest: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		},
		Metrics: map[string]float64{"accuracy": 0.95, "latency_ms.p95": 12.5},
	}
	tests := []struct {
		name    string
		text    string
		want    string
		wantErr string
	}{
		{name: "version", text: "gs://acme/{{ .Model }}/{{ .Version }}", want: "gs://acme/iris/0123456789ab"},
		{name: "commit and digest", text: "{{ .Commit }}@{{ .Artifact.Digest }}", want: "0123456789abcdef0123456789abcdef01234567@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{name: "artifact path", text: "{{ .Artifact.Path }}", want: "model/"},
		{name: "metric", text: "{{ .Metrics.accuracy }}", want: "0.95"},
		{name: "dotted metric through index", text: `{{ index .Metrics "latency_ms.p95" }}`, want: "12.5"},
		{name: "default branch", text: spec.DefaultDeployBranch, want: "podium/deploy/iris"},
		{name: "unknown field", text: "{{ .Verison }}", wantErr: `deploy.value: template: deploy.value:1:3: executing "deploy.value" at <.Verison>: can't evaluate field Verison in type spec.TemplateData`},
		{name: "missing metric", text: "{{ .Metrics.f1 }}", wantErr: `deploy.value: template: deploy.value:1:11: executing "deploy.value" at <.Metrics.f1>: map has no entry for key "f1"`},
		{name: "parse error", text: "{{ .Model ", wantErr: `deploy.value: template: deploy.value:1: unclosed action`},
		{name: "too long", text: `{{ range $i, $_ := .Metrics }}{{ printf "%5000s" "x" }}{{ end }}`, wantErr: "deploy.value: renders more than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render("deploy.value", tt.text, data)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Render = %q, want error", got)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "deploy.value: ") {
					t.Error("error does not name the field")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	if got := Version("0123456789abcdef0123"); got != "0123456789ab" {
		t.Errorf("Version = %q", got)
	}
	if got := Version("abc"); got != "abc" {
		t.Errorf("Version(short) = %q", got)
	}
}
