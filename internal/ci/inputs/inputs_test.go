package inputs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci/citest"
	"github.com/podium-ml/podium/internal/diag"
)

// testRoot is a small command tree shaped like podium's.
func testRoot() *cobra.Command {
	run := func(*cobra.Command, []string) error { return nil }
	root := &cobra.Command{Use: "podium", Args: cobra.ArbitraryArgs, RunE: run}
	compare := &cobra.Command{Use: "compare", RunE: run}
	compare.Flags().String("spec", "podium.yaml", "")
	compare.Flags().String("run-dir", "", "")
	compare.Flags().String("candidate", "", "")
	compare.Flags().BoolP("json", "j", false, "")
	compare.Flags().Bool("fail-on-reject", false, "")
	compare.Flags().String("secret-flag", "", "")
	_ = compare.Flags().MarkHidden("secret-flag")
	trigger := &cobra.Command{Use: "trigger", RunE: run}
	trigger.Flags().StringArray("input", nil, "")
	fingerprint := &cobra.Command{Use: "fingerprint", RunE: run}
	registry := &cobra.Command{Use: "registry"}
	show := &cobra.Command{Use: "show", RunE: run}
	show.Flags().String("model", "", "")
	registry.AddCommand(show)
	root.AddCommand(compare, trigger, fingerprint, registry)
	return root
}

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		inputs  map[string]string
		want    []string
		wantErr string
	}{
		{
			name: "not an action",
			args: []string{"compare", "--spec", "x"},
			want: []string{"compare", "--spec", "x"},
		},
		{
			name:   "command from the arguments, flags from inputs",
			args:   []string{"action", "compare"},
			inputs: map[string]string{"spec": "ml/podium.yaml", "run_dir": ".podium/run", "fail_on_reject": "true", "unrelated": "x"},
			want:   []string{"compare", "--fail-on-reject=true", "--run-dir=.podium/run", "--spec=ml/podium.yaml"},
		},
		{
			name:   "command from the command input",
			args:   []string{"action"},
			inputs: map[string]string{"command": "registry show", "model": "iris"},
			want:   []string{"registry", "show", "--model=iris"},
		},
		{
			name:   "arguments win over inputs",
			args:   []string{"action", "compare", "--spec", "a.yaml", "-j"},
			inputs: map[string]string{"spec": "b.yaml", "json": "false"},
			want:   []string{"compare", "--run-dir=.podium/run", "--spec", "a.yaml", "-j"},
		},
		{
			name:   "no run_dir: .podium/run next to the spec input",
			args:   []string{"action", "compare"},
			inputs: map[string]string{"spec": "ml/podium.yaml"},
			want:   []string{"compare", "--spec=ml/podium.yaml", "--run-dir=ml/.podium/run"},
		},
		{
			name: "no run_dir: .podium/run next to the spec argument",
			args: []string{"action", "compare", "--spec", "ml/x.yaml"},
			want: []string{"compare", "--run-dir=ml/.podium/run", "--spec", "ml/x.yaml"},
		},
		{
			name:   "a candidate file needs no run directory",
			args:   []string{"action", "compare"},
			inputs: map[string]string{"candidate": "metrics.json", "run_dir": ""},
			want:   []string{"compare", "--candidate=metrics.json"},
		},
		{
			name: "injection text stays one argument",
			args: []string{"action", "compare"},
			inputs: map[string]string{
				"run_dir": `x\" --json "y $(id) ; rm -rf ~`,
			},
			want: []string{"compare", `--run-dir=x\" --json "y $(id) ; rm -rf ~`},
		},
		{
			name:   "hidden flags are not inputs",
			args:   []string{"action", "compare"},
			inputs: map[string]string{"secret_flag": "x", "help": "true"},
			want:   []string{"compare", "--run-dir=.podium/run"},
		},
		{
			name:   "repeatable flag, one value per line",
			args:   []string{"action", "trigger"},
			inputs: map[string]string{"input": "model=iris\n\n  reason=drift  \n"},
			want:   []string{"trigger", "--input=model=iris", "--input=reason=drift"},
		},
		{
			name:   "positional arguments after --",
			args:   []string{"action", "fingerprint"},
			inputs: map[string]string{"arguments": "model/\n--not-a-flag\n", "args": "ignored"},
			want:   []string{"fingerprint", "--", "model/", "--not-a-flag"},
		},
		{
			name:    "bad boolean",
			args:    []string{"action", "compare"},
			inputs:  map[string]string{"fail_on_reject": "yes please"},
			wantErr: `action podium compare: input "fail_on_reject": "yes please" is not true or false`,
		},
		{
			name:    "no command",
			args:    []string{"action"},
			wantErr: `action: no command: give one (podium action compare) or set the "command" input`,
		},
		{
			name:    "unknown command",
			args:    []string{"action"},
			inputs:  map[string]string{"command": "deploy"},
			wantErr: `action: unknown command "deploy"; valid commands: compare, fingerprint, registry show, trigger`,
		},
		{
			name:    "a group is not a command",
			args:    []string{"action", "registry"},
			wantErr: `action: unknown command "registry"; valid commands: compare, fingerprint, registry show, trigger`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &citest.Platform{Inputs: tt.inputs}
			got, err := Expand(testRoot(), p, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Expand() error = %v, want %s", err, tt.wantErr)
				}
				if !errors.Is(err, diag.ErrInvalidInput) {
					t.Errorf("Expand() error %T is not invalid input", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Expand() (-want +got):\n%s", diff)
			}
		})
	}
}

// The expanded command line must parse to the values the inputs gave.
func TestExpandParses(t *testing.T) {
	t.Parallel()
	root := testRoot()
	p := &citest.Platform{Inputs: map[string]string{"run_dir": "a b\"c\\", "fail_on_reject": "true"}}
	args, err := Expand(root, p, []string{"action", "compare"})
	if err != nil {
		t.Fatal(err)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cmd.Flags().GetString("run-dir"); got != "a b\"c\\" {
		t.Errorf("--run-dir = %q", got)
	}
	if got, _ := cmd.Flags().GetBool("fail-on-reject"); !got {
		t.Error("--fail-on-reject is false")
	}
}
