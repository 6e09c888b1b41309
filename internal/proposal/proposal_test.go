package proposal

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

func TestBody(t *testing.T) {
	t.Parallel()
	md := report.Marker("iris") + "\n### ✅ promote `iris`\n"
	tests := []struct {
		name         string
		file, digest string
		runURL, want string
	}{
		{name: "no record", want: "### ✅ promote `iris`\n\n---\n\nNo metadata record was made for this run.\n"},
		{name: "record, no CI run", file: "rec.json", digest: "sha256:ab",
			want: "### ✅ promote `iris`\n\n---\n\nRecord: `rec.json`, `sha256:ab`.\n"},
		{name: "record linked to the CI run", file: "rec.json", digest: "sha256:ab", runURL: "https://ci/1",
			want: "### ✅ promote `iris`\n\n---\n\nRecord: [rec.json](https://ci/1), `sha256:ab`.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &Plan{Input: Input{Run: &rundir.Run{Model: "iris"}, RecordFile: tt.file, RecordDigest: tt.digest}}
			got := p.Body(md, tt.runURL)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Body (-want +got):\n%s", diff)
			}
			if strings.Contains(got, report.Marker("iris")) {
				t.Error("the body keeps the review comment's marker")
			}
		})
	}
}

func TestCommitMessage(t *testing.T) {
	t.Parallel()
	commit := strings.Repeat("c", 40)
	p := &Plan{
		Input: Input{Spec: &spec.Spec{Deploy: &spec.Deploy{Field: "spec.image"}}, Run: &rundir.Run{Commit: commit}, RecordDigest: "sha256:rec"},
		Data:  spec.TemplateData{Artifact: spec.TemplateArtifact{Path: "model/", Digest: "sha256:m"}},
		Title: "Deploy iris cccccccccccc", Manifest: "deploy/a.yaml", Pointer: ".podium/registry/iris.json",
	}
	want := "Deploy iris cccccccccccc\n\nCandidate commit: " + commit + "\nArtifact: model/ sha256:m\nRecord: sha256:rec\n" +
		"Sets spec.image in deploy/a.yaml; champion pointer .podium/registry/iris.json.\n"
	if diff := cmp.Diff(want, p.CommitMessage()); diff != "" {
		t.Errorf("CommitMessage (-want +got):\n%s", diff)
	}
}
