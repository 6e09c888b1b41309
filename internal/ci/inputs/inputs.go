// Package inputs turns a CI step's inputs into podium's command line.
//
// A GitHub container action could map inputs to arguments with `args:` in
// action.yml, but the runner joins those arguments into one string for
// `docker run`, quoting with '"' and escaping only '"': an input ending in a
// backslash, or holding `\"`, splits into extra arguments. The runner also
// exports every input as INPUT_<NAME>, which needs no quoting at all. So
// podium's actions pass only fixed words as arguments (`action compare`) and
// podium reads the values itself, through ci.Platform.Input.
//
// `podium action <command>` works on every platform: GitHub reads
// INPUT_<NAME>, GitLab components and local shells set PODIUM_<NAME>.
package inputs

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/diag"
)

// Word is the first argument that asks for inputs to be read.
const Word = "action"

// Input names with a meaning of their own; no flag is named after them.
const (
	// CommandInput names the command when the arguments do not, as the
	// root action's `command` input does ("compare", "registry show").
	CommandInput = "command"
	// ArgsInput holds positional arguments, one per line. It is not
	// named `args`: act, and the runners built on it (Gitea, Forgejo),
	// replace a container action's runs.args with a step's `with.args`.
	ArgsInput = "arguments"
)

// RunDir is the run directory when the run_dir input is empty: .podium/run
// next to the spec, the rule `podium train` follows without --run-dir. The
// actions and components use the same rule, so a step that names no run
// directory reads the one train wrote.
const RunDir = ".podium/run"

// Error is a problem with the inputs: invalid input, exit code 2.
type Error struct{ msg string }

func (e *Error) Error() string        { return e.msg }
func (e *Error) Is(target error) bool { return target == diag.ErrInvalidInput }

func errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Expand rewrites `action [command...] [flags...]` into the command line the
// inputs describe: the command (from the arguments, else from the command
// input), then `--flag=value` for every flag of that command whose input
// (the flag name with '-' as '_') is set and that the arguments do not
// already give, then the arguments' own flags, then the args input's lines
// after "--". Any other argument list is returned unchanged.
//
// Each value becomes exactly one argument: nothing is split on spaces or
// passed through a shell.
func Expand(root *cobra.Command, p ci.Platform, args []string) ([]string, error) {
	if len(args) == 0 || args[0] != Word {
		return args, nil
	}
	rest := args[1:]
	var words []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		words, rest = append(words, rest[0]), rest[1:]
	}
	if len(words) == 0 {
		words = strings.Fields(p.Input(CommandInput))
	}
	if len(words) == 0 {
		return nil, errorf("%s: no command: give one (podium action compare) or set the %q input", Word, CommandInput)
	}
	cmd, _, err := root.Find(words)
	if err != nil || cmd == root || cmd.Name() == Word || !cmd.Runnable() {
		return nil, errorf("%s: unknown command %q; valid commands: %s", Word, strings.Join(words, " "), strings.Join(commandNames(root), ", "))
	}

	given := givenFlags(cmd, rest)
	out := append([]string(nil), words...)
	var problems []string
	visit := func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" || f.Name == "help" || given[f.Name] {
			return
		}
		name := InputName(f.Name)
		value := p.Input(name)
		if value == "" {
			return
		}
		switch f.Value.Type() {
		case "bool":
			if _, err := strconv.ParseBool(value); err != nil {
				problems = append(problems, fmt.Sprintf("input %q: %q is not true or false", name, value))
				return
			}
			out = append(out, "--"+f.Name+"="+value)
		case "stringArray", "stringSlice":
			for _, line := range lines(value) {
				out = append(out, "--"+f.Name+"="+line)
			}
		default:
			out = append(out, "--"+f.Name+"="+value)
		}
	}
	cmd.LocalFlags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if len(problems) > 0 {
		return nil, errorf("%s %s: %s", Word, cmd.CommandPath(), strings.Join(problems, "; "))
	}

	if runDir, ok := defaultRunDir(cmd, p, rest, given); ok {
		out = append(out, "--run-dir="+runDir)
	}
	out = append(out, rest...)
	if positional := lines(p.Input(ArgsInput)); len(positional) > 0 {
		if !contains(rest, "--") {
			out = append(out, "--")
		}
		out = append(out, positional...)
	}
	return out, nil
}

// defaultRunDir returns RunDir next to the spec for a command with a
// --run-dir flag that neither the arguments nor the inputs set, unless the
// candidate comes from a file (compare --candidate) instead.
func defaultRunDir(cmd *cobra.Command, p ci.Platform, args []string, given map[string]bool) (string, bool) {
	if cmd.Flags().Lookup("run-dir") == nil || given["run-dir"] || p.Input("run_dir") != "" {
		return "", false
	}
	if cmd.Flags().Lookup("candidate") != nil && (given["candidate"] || p.Input("candidate") != "") {
		return "", false
	}
	specPath := flagValue(args, "spec")
	if specPath == "" {
		specPath = p.Input("spec")
	}
	if specPath == "" {
		if f := cmd.Flags().Lookup("spec"); f != nil {
			specPath = f.DefValue
		}
	}
	if specPath == "" || specPath == "-" {
		specPath = "podium.yaml"
	}
	return filepath.ToSlash(filepath.Join(filepath.Dir(specPath), RunDir)), true
}

// flagValue returns the value args give the long flag name (--name=v or
// --name v), or "".
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// InputName is the input that sets flag: its name with '-' as '_', so that
// INPUT_<NAME> and PODIUM_<NAME> are valid shell variable names.
func InputName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// givenFlags returns the names of the flags args sets, long or short.
func givenFlags(cmd *cobra.Command, args []string) map[string]bool {
	given := make(map[string]bool)
	for _, a := range args {
		if a == "--" {
			break
		}
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a[2:], "=")
			given[name] = true
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if f := cmd.Flags().ShorthandLookup(a[1:2]); f != nil {
				given[f.Name] = true
			}
		}
	}
	return given
}

// lines splits a multi-line input into its non-blank lines, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// commandNames lists the runnable commands under root, as typed after
// "podium".
func commandNames(root *cobra.Command) []string {
	var names []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" || sub.Name() == Word {
				continue
			}
			if sub.Runnable() {
				names = append(names, strings.TrimPrefix(sub.CommandPath(), root.CommandPath()+" "))
			}
			walk(sub)
		}
	}
	walk(root)
	sort.Strings(names)
	return names
}
