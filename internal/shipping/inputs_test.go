package shipping

import (
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/ci/inputs"
	"github.com/podium-ml/podium/internal/cli"
)

// Inputs that are not flags: the root action's command and positional
// arguments, the API token (an environment variable, never a flag), and a
// component's stage and image.
var (
	actionOnlyInputs    = map[string]bool{inputs.CommandInput: true, inputs.ArgsInput: true, "token": true}
	componentOnlyInputs = map[string]bool{"stage": true, "image": true, "podium_image": true, "cache_paths": true}
)

// Flags with no input: --json prints a document for a terminal or script
// to read, and a step has neither. --allow-local-champion trusts a
// champion read from the working tree: for a local run, never for a CI
// step, which runs the change under test and can fetch the default branch.
var flagsWithoutInput = map[string]bool{"json": true, "allow-local-champion": true}

func podiumRoot(t *testing.T) *cobra.Command {
	t.Helper()
	p := &citest.Platform{}
	f := &cli.Factory{
		IO:       &cli.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
		Getenv:   func(string) string { return "" },
		Now:      time.Now,
		Platform: func() ci.Platform { return p },
	}
	return cli.NewCmdRoot(f)
}

// commandInputs returns the input names of a command's flags.
func commandInputs(t *testing.T, root *cobra.Command, path ...string) []string {
	t.Helper()
	cmd, _, err := root.Find(path)
	if err != nil || cmd == root {
		t.Fatalf("podium has no command %q", strings.Join(path, " "))
	}
	set := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" || f.Name == "help" || flagsWithoutInput[f.Name] {
			return
		}
		set[inputs.InputName(f.Name)] = true
	}
	cmd.LocalFlags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return sortedKeys(set)
}

// declaredInputs returns a file's input names minus the ones in skip.
func declaredInputs(m map[string]string, skip map[string]bool) []string {
	var out []string
	for name := range m {
		if !skip[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Every flag of a step's command is an input of its action and its
// component, and every input is a flag: the names cannot drift apart.
func TestStepInputsMatchFlags(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	cmdRoot := podiumRoot(t)
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			want := commandInputs(t, cmdRoot, step)
			action := loadAction(t, filepath.Join(root, "actions", step, "action.yml"))
			if diff := cmp.Diff(want, declaredInputs(action.inputs, actionOnlyInputs)); diff != "" {
				t.Errorf("actions/%s/action.yml inputs (-flags of podium %s +inputs):\n%s", step, step, diff)
			}
			comp := loadComponent(t, filepath.Join(root, "templates", step+".yml"))
			if diff := cmp.Diff(want, declaredInputs(comp.inputs, componentOnlyInputs)); diff != "" {
				t.Errorf("templates/%s.yml inputs (-flags of podium %s +inputs):\n%s", step, step, diff)
			}
			// The component passes each input as PODIUM_<NAME>, which the
			// runner does not expand: a `$` in an input stays a `$`.
			for _, name := range declaredInputs(comp.inputs, componentOnlyInputs) {
				v := "PODIUM_" + strings.ToUpper(name)
				if want := "$[[ inputs." + name + " ]]"; comp.variables[v] != want {
					t.Errorf("templates/%s.yml: variable %s = %q, want %q", step, v, comp.variables[v], want)
				}
				if comp.expand[v] {
					t.Errorf("templates/%s.yml: variable %s is expanded by the runner; want expand: false", step, v)
				}
			}
			// test and train run in the user's image, with the binary the
			// podium-binary job handed on, checked first.
			wantScript := []string{"podium action " + step}
			if step == "test" || step == "train" {
				wantScript = []string{"(cd .podium/bin && sha256sum -c podium.sha256)", ".podium/bin/podium action " + step}
				if diff := cmp.Diff([]string{"podium-binary", "podium-" + step}, comp.jobs); diff != "" {
					t.Errorf("templates/%s.yml: jobs (-want +got):\n%s", step, diff)
				}
				if !comp.required["image"] {
					t.Errorf("templates/%s.yml: the image input has a default; the user must choose the toolchain's image", step)
				}
			}
			if len(comp.script) < len(wantScript) {
				t.Fatalf("templates/%s.yml: script %q", step, comp.script)
			}
			if diff := cmp.Diff(wantScript, comp.script[len(comp.script)-len(wantScript):]); diff != "" {
				t.Errorf("templates/%s.yml: the script does not end as it should (-want +got):\n%s", step, diff)
			}
			// Each job starts without the summary and dotenv of earlier jobs.
			if !slices.Contains(comp.script, "rm -f podium-summary.md podium.env") {
				t.Errorf("templates/%s.yml: the script keeps earlier jobs' podium-summary.md and podium.env", step)
			}
			// No artifact path comes from an input: run_dir "" would make
			// it "/", the whole project.
			for _, a := range comp.artifacts {
				if strings.Contains(a, "$[[") || a == "/" || strings.HasPrefix(a, "/") {
					t.Errorf("templates/%s.yml: artifact path %q", step, a)
				}
			}
		})
	}
}

// The root action has an input for every flag of every command.
func TestRootInputsMatchFlags(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	cmdRoot := podiumRoot(t)
	set := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub.Runnable() {
				for _, in := range commandInputs(t, cmdRoot, strings.Fields(strings.TrimPrefix(sub.CommandPath(), cmdRoot.Name()+" "))...) {
					set[in] = true
				}
			}
			walk(sub)
		}
	}
	walk(cmdRoot)
	action := loadAction(t, filepath.Join(root, "action.yml"))
	if diff := cmp.Diff(sortedKeys(set), declaredInputs(action.inputs, actionOnlyInputs)); diff != "" {
		t.Errorf("action.yml inputs (-flags of all commands +inputs):\n%s", diff)
	}
}

// On GitLab an input is PODIUM_<NAME> and an output PODIUM_OUT_<NAME>
// (ci.DotenvName), and a later job sees the earlier jobs' outputs as
// variables: no input may be named out_<x>, or an output would read back
// as that input.
func TestNoInputLooksLikeAnOutput(t *testing.T) {
	t.Parallel()
	if got := ci.DotenvName("run-dir"); got != "PODIUM_OUT_RUN_DIR" {
		t.Fatalf("DotenvName(run-dir) = %q, want PODIUM_OUT_RUN_DIR", got)
	}
	cmdRoot := podiumRoot(t)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Runnable() && sub.Name() != "help" && sub.Name() != "completion" {
				for _, in := range commandInputs(t, cmdRoot, strings.Fields(strings.TrimPrefix(sub.CommandPath(), cmdRoot.Name()+" "))...) {
					if strings.HasPrefix("PODIUM_"+strings.ToUpper(in), "PODIUM_OUT_") {
						t.Errorf("%s: input %q is read from PODIUM_%s, which is where an output goes", sub.CommandPath(), in, strings.ToUpper(in))
					}
				}
			}
			walk(sub)
		}
	}
	walk(cmdRoot)
}

// component is the part of a GitLab component template the tests read.
type component struct {
	inputs map[string]string // name -> default
	types  map[string]string
	// required are the inputs with no default: the user must give them.
	required map[string]bool
	// variables, expand and script are those of its podium-<step> job.
	variables map[string]string
	expand    map[string]bool
	script    []string
	artifacts []string
	jobs      []string
}

func loadComponent(t *testing.T, path string) component {
	t.Helper()
	_, docs := decodeYAML(t, path)
	if len(docs) != 2 {
		t.Fatalf("%s: want a spec header and the jobs, got %d documents", path, len(docs))
	}
	c := component{inputs: map[string]string{}, types: map[string]string{}, required: map[string]bool{},
		variables: map[string]string{}, expand: map[string]bool{}}
	for name, v := range mapping(mapping(mapping(docs[0])["spec"])["inputs"]) {
		in := mapping(v)
		c.inputs[name] = str(in["default"])
		c.types[name] = str(in["type"])
		if _, ok := in["default"]; !ok {
			c.required[name] = true
		}
	}
	main := "podium-" + strings.TrimSuffix(filepath.Base(path), ".yml")
	for name, v := range mapping(docs[1]) {
		c.jobs = append(c.jobs, name)
		if name != main {
			continue
		}
		job := mapping(v)
		for k, val := range mapping(job["variables"]) {
			// KEY: value, or KEY: {value: ..., expand: false}.
			if m := mapping(val); m != nil {
				c.variables[k] = str(m["value"])
				c.expand[k], _ = m["expand"].(bool)
				continue
			}
			c.variables[k], c.expand[k] = str(val), true
		}
		for _, s := range job["script"].([]any) {
			c.script = append(c.script, strings.TrimSpace(str(s)))
		}
		for _, a := range mapping(job["artifacts"])["paths"].([]any) {
			c.artifacts = append(c.artifacts, str(a))
		}
	}
	sort.Strings(c.jobs)
	return c
}

var (
	podiumUses  = regexp.MustCompile(`^podium-ml/podium(/actions/([a-z]+))?@([0-9a-f]{40})$`)
	stepOutputs = regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`)
)

// The example workflows use podium's actions with inputs and outputs
// that exist, all at one pinned commit.
func TestWorkflowsUsePodiumActionsCorrectly(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	pins := map[string]bool{}
	for _, file := range glob(t, root, workflowFiles...) {
		_, docs := decodeYAML(t, filepath.Join(root, file))
		for jobName, j := range mapping(mapping(docs[0])["jobs"]) {
			job := mapping(j)
			ids := map[string]actionMeta{}
			stepsList, _ := job["steps"].([]any)
			for _, s := range stepsList {
				step := mapping(s)
				m := podiumUses.FindStringSubmatch(str(step["uses"]))
				if m == nil {
					continue
				}
				pins[m[3]] = true
				path := filepath.Join(root, "action.yml")
				if m[2] != "" {
					path = filepath.Join(root, "actions", m[2], "action.yml")
				}
				meta := loadAction(t, path)
				for name := range mapping(step["with"]) {
					if _, ok := meta.inputs[name]; !ok {
						t.Errorf("%s: job %s: %s has no input %q", file, jobName, str(step["uses"]), name)
					}
				}
				for name, req := range meta.required {
					if _, ok := mapping(step["with"])[name]; req && !ok {
						t.Errorf("%s: job %s: %s needs input %q", file, jobName, str(step["uses"]), name)
					}
				}
				if id := str(step["id"]); id != "" {
					ids[id] = meta
				}
			}
			for _, m := range stepOutputs.FindAllStringSubmatch(nodeTextOf(t, j), -1) {
				if meta, ok := ids[m[1]]; ok && meta.outputs[m[2]] == "" {
					t.Errorf("%s: job %s: step %s has no output %q", file, jobName, m[1], m[2])
				}
			}
		}
	}
	if len(pins) != 1 {
		t.Errorf("the workflows pin podium at %d different commits, want one: %v", len(pins), sortedKeys(pins))
	}
}

func nodeTextOf(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			b.WriteString(x + "\n")
		}
	}
	walk(v)
	return b.String()
}

var componentRef = regexp.MustCompile(`^\$CI_SERVER_FQDN/podium-ml/podium/([a-z]+)@([0-9]+\.[0-9]+\.[0-9]+)$`)

// The GitLab example includes podium's components with inputs they
// declare, and its job overrides name jobs the components define.
func TestGitLabExampleUsesComponentsCorrectly(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, file := range glob(t, root, gitlabFiles...) {
		_, docs := decodeYAML(t, filepath.Join(root, file))
		doc := mapping(docs[0])
		jobs := map[string]bool{}
		versions := map[string]bool{}
		includes, _ := doc["include"].([]any)
		for _, inc := range includes {
			ref := str(mapping(inc)["component"])
			m := componentRef.FindStringSubmatch(ref)
			if m == nil {
				t.Errorf("%s: include %q is not a podium component", file, ref)
				continue
			}
			versions[m[2]] = true
			comp := loadComponent(t, filepath.Join(root, "templates", m[1]+".yml"))
			for _, j := range comp.jobs {
				jobs[j] = true
			}
			for name := range comp.required {
				if _, ok := mapping(mapping(inc)["inputs"])[name]; !ok {
					t.Errorf("%s: component %s needs input %q", file, m[1], name)
				}
			}
			for name, v := range mapping(mapping(inc)["inputs"]) {
				typ, ok := comp.types[name]
				if _, declared := comp.inputs[name]; !ok && !declared {
					t.Errorf("%s: component %s has no input %q", file, m[1], name)
				}
				if _, isBool := v.(bool); typ == "boolean" && !isBool {
					t.Errorf("%s: component %s input %q is a boolean, got %v", file, m[1], name, v)
				}
			}
		}
		if len(versions) != 1 {
			t.Errorf("%s: components at %d versions, want one", file, len(versions))
		}
		for name, v := range doc {
			job := mapping(v)
			if job == nil || !strings.HasPrefix(name, "podium-") {
				continue
			}
			if !jobs[name] {
				t.Errorf("%s: %s overrides a job no component defines", file, name)
			}
		}
	}
}
