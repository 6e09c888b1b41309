package shipping

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/podium-ml/podium/internal/ci/inputs"
	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// hostile is an input value that would be a workflow command if it
// reached the log unescaped: a newline, then a line starting with "::".
const hostile = "x\n::warning title=pwn::y"

// injected matches a line of the log that the runner would read as the
// command hostile smuggles in.
var injected = regexp.MustCompile(`(?m)^\s*::warning title=pwn`)

// valueInputs are the inputs that take a free-form value: a path or a
// name. The others are booleans, numbers or the token.
func valueInputs(meta actionMeta) []string {
	var out []string
	for name, def := range meta.inputs {
		switch {
		case name == "token" || name == "command" || def == "true" || def == "false":
		case regexp.MustCompile(`^-?[0-9.]+$`).MatchString(def):
		default:
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// inputReaders maps each input to the first command (as typed after
// "podium") with the flag it sets.
func inputReaders(root *cobra.Command) map[string]string {
	out := map[string]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Runnable() && !sub.Hidden {
				path := strings.TrimPrefix(sub.CommandPath(), root.Name()+" ")
				sub.Flags().VisitAll(func(f *pflag.Flag) {
					if _, ok := out[inputs.InputName(f.Name)]; !ok {
						out[inputs.InputName(f.Name)] = path
					}
				})
			}
			walk(sub)
		}
	}
	walk(root)
	return out
}

// No input can issue a workflow command through podium's output: every
// path or name a command prints is escaped. Each free-form input of each
// step action (and of the root action, with the commands that read it)
// gets a newline followed by "::warning ...".
func TestInputsCannotInjectWorkflowCommands(t *testing.T) {
	t.Parallel()
	requireActionWord(t)
	root := repoRoot(t)
	type run struct{ action, input, command string }
	var shown atomic.Int32
	var runs []run
	for _, step := range steps {
		meta := loadAction(t, filepath.Join(root, "actions", step, "action.yml"))
		for _, in := range valueInputs(meta) {
			runs = append(runs, run{action: "actions/" + step, input: in})
		}
	}
	// The root action: each input with a command that reads it.
	rootMeta := loadAction(t, filepath.Join(root, "action.yml"))
	readers := inputReaders(podiumRoot(t))
	for _, in := range valueInputs(rootMeta) {
		cmd := readers[in]
		if in == "arguments" {
			cmd = "fingerprint"
		}
		if cmd == "" {
			t.Errorf("no command reads the root action's input %q", in)
			continue
		}
		runs = append(runs, run{action: ".", input: in, command: cmd})
	}
	// The commands that call the API reach a fake GitHub, never the
	// internet.
	fake := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	if len(runs) < 40 {
		t.Fatalf("only %d input cases: the action files did not load", len(runs))
	}
	for _, r := range runs {
		name := r.action + "/" + r.input
		if r.command != "" {
			name += "/" + strings.ReplaceAll(r.command, " ", "_")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ws := t.TempDir()
			writeFiles(t, ws, map[string]string{"podium.yaml": validSpec})
			with := map[string]string{r.input: hostile}
			if r.command != "" {
				with["command"] = r.command
			}
			res := runAction(t, filepath.Join(root, r.action, "action.yml"), ws, with, fake.Env()...)
			if injected.MatchString(res.stdout) || injected.MatchString(res.stderr) {
				t.Errorf("input %s reached the log as a workflow command:\nstdout:\n%s\nstderr:\n%s", r.input, res.stdout, res.stderr)
			}
			if strings.Contains(res.stdout+res.stderr, `x\n::warning title=pwn::y`) {
				shown.Add(1)
			}
		})
	}
	t.Cleanup(func() {
		// The value was printed, escaped, in most cases: the check above
		// looked at a log that held it.
		if n := shown.Load(); int(n) < len(runs)/2 {
			t.Errorf("only %d of %d runs printed the input (escaped)", n, len(runs))
		}
	})
}

// The case from the report: record succeeds and prints the record's path,
// which the out input chose.
func TestRecordOutPathIsEscaped(t *testing.T) {
	t.Parallel()
	requireActionWord(t)
	root := repoRoot(t)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"podium.yaml": `version: 1
model: iris
pipeline:
  - name: train
    run: "echo '{\"accuracy\": 0.9}' > metrics.json"
    outputs: [metrics.json]
metrics: metrics.json
gate:
  rules:
    - {metric: accuracy, direction: higher, min_value: 0.5}
`})
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-qm", "spec"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = ws
		cmd.Env = gittest.Env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if res := runAction(t, filepath.Join(root, "actions", "train", "action.yml"), ws, nil); res.code != 0 {
		t.Fatalf("train: exit %d\n%s", res.code, res.stderr)
	}
	res := runAction(t, filepath.Join(root, "actions", "record", "action.yml"), ws, map[string]string{"out": "rec" + hostile + ".json"})
	if res.code != 0 {
		t.Fatalf("record: exit %d\n%s", res.code, res.stderr)
	}
	if injected.MatchString(res.stdout) || injected.MatchString(res.stderr) {
		t.Errorf("the out input reached the log as a workflow command:\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	}
	// The output still names the file exactly: outputs are file commands,
	// which carry any value.
	if got, want := res.outputs["record"], "rec"+hostile+".json"; got != want {
		t.Errorf("record output %q, want %q", got, want)
	}
}
