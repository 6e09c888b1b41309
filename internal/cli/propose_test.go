package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
)

// fakeHost is an in-memory code host: files per ref, the change requests
// it received, statuses and triggers. It opens one PR per branch.
type fakeHost struct {
	mu       sync.Mutex
	name     string
	base     string
	files    map[string]map[string][]byte // ref → path → content
	changes  []scm.ChangeRequest
	prs      map[string]int // branch → number
	statuses []statusCall
	triggers []triggerCall
	calls    []string
	err      error // returned by every write when set
}

type statusCall struct {
	SHA string
	scm.Status
}

type triggerCall struct {
	Workflow, Ref string
	Inputs        map[string]string
}

func newFakeHost(name string) *fakeHost {
	return &fakeHost{name: name, base: "main", files: map[string]map[string][]byte{"main": {}}, prs: map[string]int{}}
}

func (h *fakeHost) call(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, fmt.Sprintf(format, args...))
}

func (h *fakeHost) Name() string { return h.name }

func (h *fakeHost) DefaultBranch(ctx context.Context) (string, error) {
	h.call("DefaultBranch")
	return h.base, nil
}

func (h *fakeHost) ReadFile(ctx context.Context, ref, path string) ([]byte, error) {
	h.call("ReadFile %s %s", ref, path)
	h.mu.Lock()
	defer h.mu.Unlock()
	data, ok := h.files[ref][path]
	if !ok {
		return nil, scm.ErrNotFound
	}
	return data, nil
}

func (h *fakeHost) UpsertComment(ctx context.Context, number int, marker, body string) (*scm.Comment, error) {
	return nil, errors.New("not used")
}

func (h *fakeHost) SetStatus(ctx context.Context, sha string, st scm.Status) error {
	h.call("SetStatus %s", sha)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.statuses = append(h.statuses, statusCall{SHA: sha, Status: st})
	return h.err
}

func (h *fakeHost) ProposeChange(ctx context.Context, ch scm.ChangeRequest) (*scm.PullRequest, error) {
	h.call("ProposeChange %s", ch.Branch)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return nil, h.err
	}
	h.changes = append(h.changes, ch)
	tree := maps.Clone(h.files[ch.Base])
	for _, f := range ch.Files {
		tree[f.Path] = f.Content
	}
	h.files[ch.Branch] = tree
	n, ok := h.prs[ch.Branch]
	if !ok {
		n = len(h.prs) + 1
		h.prs[ch.Branch] = n
	}
	return &scm.PullRequest{Number: n, URL: fmt.Sprintf("https://git.example/pr/%d", n), Branch: ch.Branch, Commit: "c0ffee", Created: !ok}, nil
}

func (h *fakeHost) Trigger(ctx context.Context, workflow, ref string, inputs map[string]string) (*scm.TriggerResult, error) {
	h.call("Trigger %s %s", workflow, ref)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return nil, h.err
	}
	h.triggers = append(h.triggers, triggerCall{Workflow: workflow, Ref: ref, Inputs: inputs})
	return &scm.TriggerResult{ID: 42, URL: "https://git.example/runs/42"}, nil
}

const (
	candidateSHA = "0123456789abcdef0123456789abcdef01234567"
	modelDigest  = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	testDigest   = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
)

const proposeManifest = `# Production inference service.
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: iris
spec:
  predictor:
    model:
      storageUri: gs://acme/iris/000000000000   # champion
`

// proposeRepo is a repository with a spec in ml/, its deploy manifest and
// a run directory whose compare.json says decision.
type proposeRepo struct {
	dir, spec, runDir string
}

func newProposeRepo(t *testing.T, decision, deploySection string) proposeRepo {
	t.Helper()
	dir := gittest.Init(t)
	if deploySection == "" {
		deploySection = heredoc(`
			deploy:
			  manifest: deploy/inference.yaml
			  field: spec.predictor.model.storageUri
			  value: "gs://acme/{{ .Model }}/{{ .Version }}"
			  labels: [model-deploy]`)
	}
	gittest.WriteFile(t, dir, "ml/podium.yaml", heredoc(`
		version: 1
		model: iris
		pipeline:
		  - name: train
		    run: "true"
		    inputs: [data/test.csv]
		    outputs: [model/]
		evaluation_data: [data/test.csv]
		gate:
		  rules:
		    - {metric: accuracy, direction: higher}
		`)+"\n"+deploySection+"\n")
	gittest.WriteFile(t, dir, "ml/deploy/inference.yaml", proposeManifest)
	gittest.Commit(t, dir, "init")
	runDir := filepath.Join(t.TempDir(), "run")
	now := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	if err := rundir.WriteRun(runDir, &rundir.Run{
		Model: "iris", SpecDigest: testDigest, Params: map[string]any{}, Commit: candidateSHA,
		StartedAt: now, FinishedAt: now.Add(time.Minute),
		Steps: []rundir.Step{{Name: "train", Status: rundir.StatusOK,
			Inputs: map[string]string{"data/test.csv": testDigest}, Outputs: map[string]string{"model/": modelDigest}}},
		Metrics: map[string]float64{"accuracy": 0.97},
	}); err != nil {
		t.Fatal(err)
	}
	if err := rundir.WriteCompare(runDir, &rundir.Compare{
		Model: "iris", Decision: decision,
		Champion:  &rundir.Champion{Version: "000000000000", Metrics: map[string]float64{"accuracy": 0.9}},
		Candidate: rundir.Candidate{Metrics: map[string]float64{"accuracy": 0.97}},
		// compare.json is read back only when its decision follows from its checks.
		Checks: []rundir.Check{{Metric: "accuracy", Direction: "higher", Candidate: new(0.97),
			Passed: decision == gate.Promote, Reason: "accuracy 0.97"}},
		Comparable: true, Warnings: []string{},
	}); err != nil {
		t.Fatal(err)
	}
	return proposeRepo{dir: dir, spec: filepath.Join(dir, "ml", "podium.yaml"), runDir: runDir}
}

// hostFactory returns a test factory whose Host is h and counts how often
// it was built.
func hostFactory(t *testing.T, h scm.Host, p *citest.Platform) (*Factory, testIO, *int) {
	t.Helper()
	f, io := newTestFactory(t, nil)
	built := 0
	f.Host = func(ctx context.Context) (scm.Host, error) {
		built++
		return h, nil
	}
	if p != nil {
		f.Platform = func() ci.Platform { return p }
	}
	return f, io, &built
}

func TestProposeOpensPR(t *testing.T) {
	t.Parallel()
	repo := newProposeRepo(t, gate.Promote, "")
	host := newFakeHost("github")
	host.files["main"]["ml/deploy/inference.yaml"] = []byte(proposeManifest)
	platform := &citest.Platform{RunInfo: ci.Run{RunURL: "https://ci.example/run/7"}}
	recordName := "podium-record-iris-0123456789ab.json"
	if err := os.WriteFile(filepath.Join(repo.runDir, recordName), []byte("{\"record\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, io, _ := hostFactory(t, host, platform)

	if code := runCLI(t, f, "propose", "--spec", repo.spec, "--run-dir", repo.runDir); code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, io.Err)
	}
	if got, want := io.Out.String(), "https://git.example/pr/1\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := io.Err.String(), "Opened deployment pull request #1 for iris 0123456789ab on podium/deploy/iris\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if len(host.changes) != 1 {
		t.Fatalf("got %d change requests, want 1", len(host.changes))
	}
	ch := host.changes[0]
	if diff := cmp.Diff(scm.ChangeRequest{
		Base: "main", Branch: "podium/deploy/iris", Title: "Deploy iris 0123456789ab", Labels: []string{"model-deploy"},
		CommitMessage: "Deploy iris 0123456789ab\n\nCandidate commit: " + candidateSHA + "\nArtifact: model/ " + modelDigest +
			"\nRecord: " + record.Digest([]byte("{\"record\":1}\n")) + "\n" +
			"Sets spec.predictor.model.storageUri in ml/deploy/inference.yaml; champion pointer ml/.podium/registry/iris.json.\n",
	}, ch, cmpIgnore("Files", "Body")); diff != "" {
		t.Errorf("change request (-want +got):\n%s", diff)
	}
	if len(ch.Files) != 2 || ch.Files[0].Path != "ml/deploy/inference.yaml" || ch.Files[1].Path != "ml/.podium/registry/iris.json" {
		t.Fatalf("files = %v", ch.Files)
	}
	wantManifest := strings.Replace(proposeManifest, "gs://acme/iris/000000000000", "gs://acme/iris/0123456789ab", 1)
	if diff := cmp.Diff(wantManifest, string(ch.Files[0].Content)); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	ptr, err := registry.Parse("pointer", ch.Files[1].Content)
	if err != nil {
		t.Fatal(err)
	}
	wantPtr := &registry.Pointer{
		SchemaVersion: 1, Model: "iris", Version: "0123456789ab", Metrics: map[string]float64{"accuracy": 0.97},
		Params: map[string]any{}, Artifacts: map[string]string{"model/": modelDigest},
		EvaluationData: map[string]string{"data/test.csv": testDigest},
		RecordDigest:   ptr.RecordDigest, Commit: candidateSHA,
		PromotedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
	if diff := cmp.Diff(wantPtr, ptr, cmpIgnore("Params")); diff != "" {
		t.Errorf("pointer (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(ptr.RecordDigest, "sha256:") {
		t.Errorf("record digest = %q", ptr.RecordDigest)
	}
	if !strings.HasPrefix(ch.Body, "### ✅ promote `iris`\n") || strings.Contains(ch.Body, "<!-- podium:report") {
		t.Errorf("body is not the report without its comment marker:\n%s", ch.Body)
	}
	if !strings.Contains(ch.Body, "Record: [podium-record-iris-0123456789ab.json](https://ci.example/run/7), `"+ptr.RecordDigest+"`") {
		t.Errorf("body has no record link:\n%s", ch.Body)
	}
	if diff := cmp.Diff([]statusCall{{SHA: candidateSHA, Status: scm.Status{
		Context: "podium/gate", State: scm.StateSuccess,
		Description: "promote: deployment proposed in #1", TargetURL: "https://git.example/pr/1",
	}}}, host.statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{
		"pr-url": "https://git.example/pr/1", "pr-number": "1", "branch": "podium/deploy/iris",
	}, platform.Outputs()); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

func cmpIgnore(fields ...string) cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		for _, f := range fields {
			if strings.HasSuffix(p.String(), f) {
				return true
			}
		}
		return false
	}, cmp.Ignore())
}

// TestProposeRerunIsIdentical runs propose twice: the second run sends the
// same files (the promotion time is kept from the branch) and updates the
// same PR.
func TestProposeRerunIsIdentical(t *testing.T) {
	t.Parallel()
	repo := newProposeRepo(t, gate.Promote, "")
	host := newFakeHost("gitlab")
	host.files["main"]["ml/deploy/inference.yaml"] = []byte(proposeManifest)
	f, io, _ := hostFactory(t, host, &citest.Platform{})
	if code := runCLI(t, f, "propose", "--spec", repo.spec, "--run-dir", repo.runDir); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, io.Err)
	}
	f2, io2, _ := hostFactory(t, host, &citest.Platform{})
	f2.Now = func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	if code := runCLI(t, f2, "propose", "--spec", repo.spec, "--run-dir", repo.runDir, "--json"); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, io2.Err)
	}
	if len(host.changes) != 2 {
		t.Fatalf("got %d change requests, want 2", len(host.changes))
	}
	if diff := cmp.Diff(host.changes[0].Files, host.changes[1].Files); diff != "" {
		t.Errorf("rerun sent different files (-first +second):\n%s", diff)
	}
	var res proposeResult
	if err := json.Unmarshal(io2.Out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, io2.Out)
	}
	want := proposeResult{
		SchemaVersion: 1, Model: "iris", Version: "0123456789ab", Commit: candidateSHA, Branch: "podium/deploy/iris",
		PullRequest: &proposePR{Number: 1, URL: "https://git.example/pr/1", Commit: "c0ffee", Created: false},
		Files:       []proposedFile{{Path: "ml/deploy/inference.yaml"}, {Path: "ml/.podium/registry/iris.json"}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("--json (-want +got):\n%s", diff)
	}
}

func TestProposeDryRun(t *testing.T) {
	t.Parallel()
	repo := newProposeRepo(t, gate.Promote, "")
	f, io, built := hostFactory(t, nil, nil)
	if code := runCLI(t, f, "propose", "--spec", repo.spec, "--run-dir", repo.runDir, "--dry-run"); code != 0 {
		t.Fatalf("exit %d: %s", code, io.Err)
	}
	if *built != 0 {
		t.Errorf("dry run built the host %d times", *built)
	}
	want := heredoc(`
		--- a/ml/deploy/inference.yaml
		+++ b/ml/deploy/inference.yaml
		@@ -6,4 +6,4 @@
		 spec:
		   predictor:
		     model:
		-      storageUri: gs://acme/iris/000000000000   # champion
		+      storageUri: gs://acme/iris/0123456789ab   # champion
		--- /dev/null
		+++ b/ml/.podium/registry/iris.json
		@@ -0,0 +1,16 @@
		+{
		+  "schema_version": 1,
		+  "model": "iris",
		+  "version": "0123456789ab",
		+  "metrics": {
		+    "accuracy": 0.97
		+  },
		+  "artifacts": {
		+    "model/": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		+  },
		+  "evaluation_data": {
		+    "data/test.csv": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
		+  },
		+  "commit": "0123456789abcdef0123456789abcdef01234567",
		+  "promoted_at": "2026-11-25T12:00:00Z"
		+}`) + "\n"
	if diff := cmp.Diff(want, io.Out.String()); diff != "" {
		t.Errorf("dry-run diff (-want +got):\n%s", diff)
	}
	if got := io.Err.String(); !strings.Contains(got, `Dry run: would commit on podium/deploy/iris and open "Deploy iris 0123456789ab"; nothing was sent`) {
		t.Errorf("stderr = %q", got)
	}
}

func TestProposeInvalidInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		decision string
		deploy   string
		args     []string
		wantErr  string
	}{
		{
			name:     "reject decision",
			decision: gate.Reject,
			wantErr:  `compare.json: the gate decided "reject"; propose opens a deployment only for a promote decision`,
		},
		{
			name:     "hostile branch template",
			decision: gate.Promote,
			deploy: heredoc(`
				deploy:
				  manifest: deploy/inference.yaml
				  field: spec.predictor.model.storageUri
				  value: x
				  branch: "deploy/$(id)/{{ .Model }}"`),
			wantErr: `podium.yaml: deploy.branch: invalid branch name "deploy/$(id)/iris": contains '$' at offset 7; only ASCII letters, digits and . _ - / + = @ , are allowed`,
		},
		{
			name:     "branch with dot-dot",
			decision: gate.Promote,
			deploy: heredoc(`
				deploy:
				  manifest: deploy/inference.yaml
				  field: spec.predictor.model.storageUri
				  value: x
				  branch: "deploy/..{{ .Model }}"`),
			wantErr: `podium.yaml: deploy.branch: invalid branch name "deploy/..iris": contains ".."`,
		},
		{
			name:     "template names an unknown field",
			decision: gate.Promote,
			deploy: heredoc(`
				deploy:
				  manifest: deploy/inference.yaml
				  field: spec.predictor.model.storageUri
				  value: "{{ .Verison }}"`),
			wantErr: `podium.yaml:15:10: deploy.value: template: <.Verison>: can't evaluate field Verison in type spec.TemplateData`,
		},
		{
			name:     "missing field in the manifest",
			decision: gate.Promote,
			deploy: heredoc(`
				deploy:
				  manifest: deploy/inference.yaml
				  field: spec.predictor.model.storageURI
				  value: x`),
			args:    []string{"--dry-run"},
			wantErr: `ml/deploy/inference.yaml:9:7: spec.predictor.model.storageURI: no key "storageURI" under spec.predictor.model (it has "storageUri") [deploy]`,
		},
		{
			name:     "no deploy section",
			decision: gate.Promote,
			deploy:   "cache: {path: .podium/cache}",
			wantErr:  `podium.yaml: deploy: the spec has no deploy section; propose needs deploy.manifest, deploy.field and deploy.value`,
		},
		{
			name:     "missing --run-dir",
			decision: gate.Promote,
			args:     []string{"--run-dir", ""},
			wantErr:  "--run-dir is required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := newProposeRepo(t, tt.decision, tt.deploy)
			host := newFakeHost("github")
			f, io, _ := hostFactory(t, host, &citest.Platform{})
			args := append([]string{"propose", "--spec", repo.spec, "--run-dir", repo.runDir}, tt.args...)
			if code := runCLI(t, f, args...); code != ExitInvalid {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInvalid, io.Err)
			}
			if !strings.Contains(io.Err.String(), tt.wantErr) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", io.Err, tt.wantErr)
			}
			if len(host.calls) != 0 {
				t.Errorf("host calls on invalid input: %v", host.calls)
			}
			if io.Out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", io.Out)
			}
		})
	}
}

func TestProposeManifestMissingOnDefaultBranch(t *testing.T) {
	t.Parallel()
	repo := newProposeRepo(t, gate.Promote, "")
	host := newFakeHost("github")
	f, io, _ := hostFactory(t, host, &citest.Platform{})
	if code := runCLI(t, f, "propose", "--spec", repo.spec, "--run-dir", repo.runDir); code != ExitInvalid {
		t.Fatalf("exit %d, want 2: %s", code, io.Err)
	}
	if want := "deploy.manifest: ml/deploy/inference.yaml is not on the default branch main"; !strings.Contains(io.Err.String(), want) {
		t.Errorf("stderr = %q, want %q", io.Err, want)
	}
	if len(host.changes) != 0 || len(host.statuses) != 0 {
		t.Error("wrote to the host after failing to read the manifest")
	}
}

func TestProposeHostFailure(t *testing.T) {
	t.Parallel()
	repo := newProposeRepo(t, gate.Promote, "")
	host := newFakeHost("github")
	host.files["main"]["ml/deploy/inference.yaml"] = []byte(proposeManifest)
	host.err = errors.New("POST /repos/o/r/pulls: 502 Bad Gateway")
	f, io, _ := hostFactory(t, host, &citest.Platform{})
	if code := runCLI(t, f, "propose", "--spec", repo.spec, "--run-dir", repo.runDir); code != ExitFailure {
		t.Fatalf("exit %d, want 1: %s", code, io.Err)
	}
	if want := "failed to open the deployment pull request: POST /repos/o/r/pulls: 502 Bad Gateway\n"; !strings.HasSuffix(io.Err.String(), want) {
		t.Errorf("stderr = %q, want suffix %q", io.Err, want)
	}
	if len(host.statuses) != 0 {
		t.Error("set a status although no PR was opened")
	}
}

// TestProposeRefusesForgedCompare: compare.json comes from an artifact a
// pipeline could edit; a promote its checks do not support opens nothing.
func TestProposeRefusesForgedCompare(t *testing.T) {
	t.Parallel()
	for _, dryRun := range []bool{false, true} {
		repo := newProposeRepo(t, gate.Reject, "")
		file := filepath.Join(repo.runDir, rundir.CompareFile)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		forged := strings.Replace(string(data), `"decision": "reject"`, `"decision": "promote"`, 1)
		if forged == string(data) {
			t.Fatalf("compare.json has no reject decision to forge:\n%s", data)
		}
		if err := os.WriteFile(file, []byte(forged), 0o644); err != nil {
			t.Fatal(err)
		}
		host := newFakeHost("github")
		f, io, _ := hostFactory(t, host, &citest.Platform{})
		args := []string{"propose", "--spec", repo.spec, "--run-dir", repo.runDir}
		if dryRun {
			args = append(args, "--dry-run")
		}
		if code := runCLI(t, f, args...); code != ExitInvalid {
			t.Fatalf("dry run %v: exit %d, want %d\nstderr: %s", dryRun, code, ExitInvalid, io.Err)
		}
		want := file + ": decision: promote, but checks[0] (accuracy) did not pass: the decision is promote only when every check passes [compare]\n"
		if io.Err.String() != want {
			t.Errorf("dry run %v: stderr:\n%s\nwant:\n%s", dryRun, io.Err, want)
		}
		if len(host.calls) != 0 || io.Out.Len() != 0 {
			t.Errorf("dry run %v: host calls %v, stdout %q", dryRun, host.calls, io.Out)
		}
	}
}

// TestFlagHelp: a boolean flag's help shows no value name (a backticked
// word would print as `--json JSON`, which then fails as an argument),
// and every flag that takes a value names it.
func TestFlagHelp(t *testing.T) {
	t.Parallel()
	f, _ := newTestFactory(t, nil)
	for _, cmd := range []*cobra.Command{
		newCmdCompare(f, nil), newCmdRecord(f, nil), newCmdReport(f, nil),
		newCmdPropose(f, nil), newCmdDrift(f, nil), newCmdLog(f, nil),
	} {
		cmd.Flags().VisitAll(func(fl *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(fl)
			isBool := fl.Value.Type() == "bool"
			if isBool && name != "" {
				t.Errorf("%s --%s: boolean flag shows a value name %q", cmd.Name(), fl.Name, name)
			}
			if !isBool && !strings.Contains(fl.Usage, "`") {
				t.Errorf("%s --%s: help names no value: %q", cmd.Name(), fl.Name, fl.Usage)
			}
		})
	}
	if got := newCmdPropose(f, nil).Flags().Lookup("spec").Usage; got != newCmdCompare(f, nil).Flags().Lookup("spec").Usage {
		t.Errorf("propose --spec help %q differs from the other commands'", got)
	}
}
