package shipping

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
)

// The podium binary the tests run, built once, as the Dockerfile builds it.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error

	distOnce sync.Once
	distDir  string
	distErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podium-shipping-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "podium")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func podiumBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, "./cmd/podium")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// The image has no C library (Dockerfile.scratch runs the binary on
// nothing at all): the binary must be static.
func TestBinaryIsStatic(t *testing.T) {
	t.Parallel()
	f, err := elf.Open(podiumBinary(t))
	if err != nil {
		t.Skipf("not an ELF binary on this platform: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader (PT_INTERP)")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary links shared libraries: %v", libs)
	}
}

// actionMeta is the part of action.yml the runner uses to run a
// composite action's podium step.
type actionMeta struct {
	inputs   map[string]string // name -> default
	required map[string]bool
	// outputs maps each output to the podium step's output it takes.
	outputs map[string]string
	using   string
	// run and env are the podium step's script and environment.
	run string
	env map[string]string
}

// stepOutput matches a composite output's value.
var stepOutput = regexp.MustCompile(`^\$\{\{ steps\.podium\.outputs\.([a-z-]+) \}\}$`)

func loadAction(t *testing.T, path string) actionMeta {
	t.Helper()
	_, docs := decodeYAML(t, path)
	doc := mapping(docs[0])
	m := actionMeta{inputs: map[string]string{}, required: map[string]bool{}, outputs: map[string]string{}, env: map[string]string{}}
	for name, v := range mapping(doc["inputs"]) {
		in := mapping(v)
		m.inputs[name] = str(in["default"])
		m.required[name], _ = in["required"].(bool)
	}
	for name, v := range mapping(doc["outputs"]) {
		m.outputs[name] = str(mapping(v)["value"])
	}
	runs := mapping(doc["runs"])
	m.using = str(runs["using"])
	steps, _ := runs["steps"].([]any)
	for _, st := range steps {
		step := mapping(st)
		if str(step["id"]) != "podium" {
			continue
		}
		m.run = str(step["run"])
		for k, v := range mapping(step["env"]) {
			m.env[k] = str(v)
		}
	}
	return m
}

// expr matches the only expressions the shipped actions use.
var expr = regexp.MustCompile(`\$\{\{\s*(inputs\.[a-z_]+|github\.token)\s*\}\}`)

// evaluate substitutes ${{ inputs.x }} and ${{ github.token }} the way the
// runner would, failing on any other expression.
func evaluate(t *testing.T, s string, inputs map[string]string) string {
	t.Helper()
	out := expr.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m, "${{"), "}}"))
		if name == "github.token" {
			return "ghs_test_token"
		}
		return inputs[strings.TrimPrefix(name, "inputs.")]
	})
	if strings.Contains(out, "${{") {
		t.Fatalf("unsupported expression in %q", s)
	}
	return out
}

// stepResult is what a step left behind.
type stepResult struct {
	code           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
}

// runAction runs the action at path with the step's `with:` values as the
// runner runs a composite action's podium step: its env evaluated with the
// inputs (given or default), its script with bash in the workspace, with
// GITHUB_ACTION_PATH and the file-command files. actions/setup installs
// podium from a directory laid out as the release's assets (PODIUM_DIST).
func runAction(t *testing.T, path, workspace string, with map[string]string, extraEnv ...string) stepResult {
	t.Helper()
	meta := loadAction(t, path)
	if meta.using != "composite" || meta.run == "" {
		t.Fatalf("%s: not a composite action with a step whose id is podium", path)
	}
	inputs := map[string]string{}
	for name, def := range meta.inputs {
		inputs[name] = evaluate(t, def, nil)
	}
	for name, v := range with {
		if _, ok := meta.inputs[name]; !ok {
			t.Fatalf("%s has no input %q", path, name)
		}
		inputs[name] = v
	}
	for name := range meta.required {
		if meta.required[name] && inputs[name] == "" {
			t.Fatalf("%s: required input %q is empty", path, name)
		}
	}
	files := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + files,
		"GITHUB_ACTIONS=true",
		"CI=true",
		"GITHUB_WORKSPACE=" + workspace,
		"GITHUB_ACTION_PATH=" + filepath.Dir(path),
		"GITHUB_OUTPUT=" + filepath.Join(files, "output"),
		"GITHUB_STEP_SUMMARY=" + filepath.Join(files, "summary.md"),
		"GITHUB_REPOSITORY=acme/iris",
		"GITHUB_RUN_ID=1",
		"GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
		// One tool cache for every test, as a runner keeps: the first
		// step installs podium, the others check it and use it.
		"RUNNER_TOOL_CACHE=" + filepath.Join(filepath.Dir(podiumDist(t)), "toolcache"),
		"PODIUM_DIST=" + podiumDist(t),
	}
	for k, v := range meta.env {
		env = append(env, k+"="+evaluate(t, v, inputs))
	}
	env = append(env, extraEnv...)

	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", meta.run)
	cmd.Dir = workspace
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := stepResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	stepOutputs := map[string]string{}
	if data, err := os.ReadFile(filepath.Join(files, "output")); err == nil {
		stepOutputs, err = ci.ParseFileCommands(string(data))
		if err != nil {
			t.Fatalf("GITHUB_OUTPUT does not parse: %v\n%s", err, data)
		}
	}
	if data, err := os.ReadFile(filepath.Join(files, "summary.md")); err == nil {
		res.summary = string(data)
	}
	// The action's outputs, as the runner maps them from the step's.
	declared := map[string]bool{}
	res.outputs = map[string]string{}
	for name, value := range meta.outputs {
		m := stepOutput.FindStringSubmatch(value)
		if m == nil {
			t.Fatalf("%s: output %s has value %q, want ${{ steps.podium.outputs.<name> }}", path, name, value)
		}
		declared[m[1]] = true
		if v, ok := stepOutputs[m[1]]; ok {
			res.outputs[name] = v
		}
	}
	for name := range stepOutputs {
		if !declared[name] {
			t.Errorf("%s: podium set output %q, which the action does not declare", path, name)
		}
	}
	return res
}

// podiumDist is a directory laid out as a release's assets: the binary
// under test as podium_<os>_<arch>, and checksums.txt.
func podiumDist(t *testing.T) string {
	t.Helper()
	bin := podiumBinary(t)
	distOnce.Do(func() {
		distDir = filepath.Join(filepath.Dir(bin), "dist")
		data, err := os.ReadFile(bin)
		if err == nil {
			err = os.MkdirAll(distDir, 0o755)
		}
		asset := "podium_" + runtime.GOOS + "_" + runtime.GOARCH
		if err == nil {
			err = os.WriteFile(filepath.Join(distDir, asset), data, 0o755)
		}
		sum := sha256.Sum256(data)
		if err == nil {
			err = os.WriteFile(filepath.Join(distDir, "checksums.txt"), []byte(hex.EncodeToString(sum[:])+"  "+asset+"\n"), 0o644)
		}
		distErr = err
	})
	if distErr != nil {
		t.Fatal(distErr)
	}
	return distDir
}

// requireActionWord skips until the CLI understands `podium action`.
func requireActionWord(t *testing.T) {
	t.Helper()
	cmd := exec.Command(podiumBinary(t), "action", "version")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), `unknown command "action"`) {
		t.Skip("cli.Main does not expand `podium action` yet (inputs.Expand); the actions cannot run")
	}
}

const validSpec = `version: 1
model: iris
pipeline:
  - name: train
    run: "true"
    outputs: [metrics.json]
metrics: metrics.json
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRootActionEntrypoint(t *testing.T) {
	t.Parallel()
	requireActionWord(t)
	root := repoRoot(t)
	action := filepath.Join(root, "action.yml")
	data := "a,b\n1,2\n"
	sum := sha256.Sum256([]byte(data))
	dataDigest := "sha256:" + hex.EncodeToString(sum[:])

	tests := []struct {
		name        string
		files       map[string]string
		with        map[string]string
		wantCode    int
		wantOutputs map[string]string
		wantStdout  string // substring
		wantStderr  string // substring
	}{
		{
			name:       "version",
			with:       map[string]string{"command": "version"},
			wantStdout: "podium ",
		},
		{
			name:  "validate a good spec",
			files: map[string]string{"podium.yaml": validSpec},
			with:  map[string]string{"command": "validate"},
		},
		{
			name:       "validate a spec named by the input",
			files:      map[string]string{"ml/podium.yaml": validSpec},
			with:       map[string]string{"command": "validate", "spec": "ml/podium.yaml"},
			wantStdout: "ml/podium.yaml",
		},
		{
			name:       "invalid spec: exit 2 and an error annotation on the file",
			files:      map[string]string{"podium.yaml": "version: 1\nmodel: iris\npipeline: []\nmetrics: m.json\n"},
			with:       map[string]string{"command": "validate"},
			wantCode:   2,
			wantStderr: "::error col=11,file=podium.yaml,line=3,title=podium::",
		},
		{
			name:        "fingerprint: paths from the arguments input, digest output",
			files:       map[string]string{"data/train.csv": data},
			with:        map[string]string{"command": "fingerprint", "arguments": "data/train.csv\n"},
			wantOutputs: map[string]string{"digest": dataDigest},
			wantStdout:  dataDigest,
		},
		{
			// Spliced into a script or a command line, this would have
			// split or expanded; as INPUT_SPEC it stays one path.
			name:       "injection text in an input stays one argument",
			with:       map[string]string{"command": "validate", "spec": `x\" --json "y $HOME $(id)`},
			wantCode:   2,
			wantStderr: `x\" --json "y $HOME $(id): no such file`,
		},
		{
			name:       "unknown command",
			with:       map[string]string{"command": "deploy"},
			wantCode:   2,
			wantStderr: `unknown command "deploy"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws := t.TempDir()
			writeFiles(t, ws, tt.files)
			res := runAction(t, action, ws, tt.with)
			if res.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			if !strings.Contains(res.stdout, tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, res.stdout)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, res.stderr)
			}
			for name, want := range tt.wantOutputs {
				if got := res.outputs[name]; got != want {
					t.Errorf("output %s = %q, want %q (all: %v)", name, got, want, res.outputs)
				}
			}
			// Nothing untrusted starts a workflow command: every "::" line
			// on either stream is one podium issued.
			for _, l := range strings.Split(res.stdout+res.stderr, "\n") {
				if strings.HasPrefix(l, "::") && !regexp.MustCompile(`^::(error|warning|notice|group|endgroup|add-mask|debug)[ :]`).MatchString(l) {
					t.Errorf("unexpected workflow command line: %q", l)
				}
			}
		})
	}
}

// Each step's action runs its own command with its own inputs.
func TestStepActionsRunTheirCommand(t *testing.T) {
	t.Parallel()
	requireActionWord(t)
	root := repoRoot(t)
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			meta := loadAction(t, filepath.Join(root, "actions", step, "action.yml"))
			lines := strings.Split(strings.TrimSpace(meta.run), "\n")
			if diff := cmp.Diff(`"$podium" action `+step, lines[len(lines)-1]); diff != "" {
				t.Errorf("the podium step's last line (-want +got):\n%s", diff)
			}
			// Each input reaches podium as INPUT_<NAME>, and only so.
			for name := range meta.inputs {
				key := "INPUT_" + strings.ToUpper(name)
				if name == "token" {
					key = "GITHUB_TOKEN"
				}
				if want := "${{ inputs." + name + " }}"; meta.env[key] != want {
					t.Errorf("env %s = %q, want %q", key, meta.env[key], want)
				}
			}
			if strings.Contains(meta.run, "${{") {
				t.Errorf("the script splices an expression: %q", meta.run)
			}
		})
	}
}
