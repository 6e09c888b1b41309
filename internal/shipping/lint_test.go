package shipping

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The rules podium's shipped workflows and actions follow (RELIABILITY 12,
// 34, 35): least privilege, pinned dependencies, no credentials left in the
// checkout, no expressions expanded inside shell scripts.

var (
	// A remote action or reusable workflow pinned to a full commit SHA.
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$`)
	// A container image pinned by digest.
	pinnedImage = regexp.MustCompile(`^docker://[^@]+@sha256:[0-9a-f]{64}$`)
	// The version comment that must follow a SHA pin.
	versionComment = regexp.MustCompile(`^# v[0-9]+(\.[0-9]+)*\b`)
	// Input names that are valid shell variable names as INPUT_<NAME>.
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// child returns the value node of key in mapping node n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// pairs returns the key and value nodes of mapping node n.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

// checkUses applies the pinning rule to one `uses:` value.
func checkUses(t *testing.T, file string, uses *yaml.Node) {
	t.Helper()
	v := uses.Value
	switch {
	case strings.HasPrefix(v, "./"):
		// A local action or workflow: pinned by this commit.
	case strings.HasPrefix(v, "docker://"):
		if !pinnedImage.MatchString(v) {
			t.Errorf("%s: image %q is not pinned by @sha256 digest", pos(file, uses), v)
		}
	default:
		if !pinnedUses.MatchString(v) {
			t.Errorf("%s: %q is not pinned to a 40-hex commit SHA", pos(file, uses), v)
		} else if !versionComment.MatchString(uses.LineComment) {
			t.Errorf("%s: %q has no version comment (# vX.Y.Z) after its SHA", pos(file, uses), v)
		}
	}
}

func TestWorkflowRules(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, file := range glob(t, root, workflowFiles...) {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			nodes, _ := decodeYAML(t, filepath.Join(root, file))
			doc := nodes[0]

			// Top-level permissions: nothing, or read access to contents.
			perms := child(doc, "permissions")
			switch {
			case perms == nil:
				t.Errorf("%s: no top-level permissions (want permissions: {})", file)
			case perms.Kind == yaml.MappingNode && len(perms.Content) == 0:
			case perms.Kind == yaml.MappingNode && len(perms.Content) == 2 &&
				perms.Content[0].Value == "contents" && perms.Content[1].Value == "read":
			default:
				t.Errorf("%s: top-level permissions must be {} or {contents: read}", pos(file, perms))
			}

			// No pull_request_target: it runs with a write token on
			// code from forks.
			on := child(doc, "on")
			if on == nil {
				t.Fatalf("%s: no on:", file)
			}
			if strings.Contains(nodeText(on), "pull_request_target") {
				t.Errorf("%s: pull_request_target is not allowed", pos(file, on))
			}

			jobs := child(doc, "jobs")
			if jobs == nil || len(jobs.Content) == 0 {
				t.Fatalf("%s: no jobs", file)
			}
			topConcurrency := child(doc, "concurrency") != nil
			for _, kv := range pairs(jobs) {
				name, job := kv[0].Value, kv[1]
				jp := child(job, "permissions")
				switch {
				case jp == nil:
					t.Errorf("%s: job %s has no permissions of its own", pos(file, kv[0]), name)
				case jp.Kind != yaml.MappingNode:
					// write-all, read-all: every scope at once.
					t.Errorf("%s: job %s: permissions: %s; list the scopes it needs", pos(file, jp), name, jp.Value)
				}
				if child(job, "timeout-minutes") == nil && child(job, "uses") == nil {
					t.Errorf("%s: job %s has no timeout-minutes", pos(file, kv[0]), name)
				}
				if !topConcurrency && child(job, "concurrency") == nil {
					t.Errorf("%s: job %s has no concurrency group (nor has the workflow)", pos(file, kv[0]), name)
				}
				if u := child(job, "uses"); u != nil {
					checkUses(t, file, u)
				}
				steps := child(job, "steps")
				if steps == nil {
					continue
				}
				for _, step := range steps.Content {
					if u := child(step, "uses"); u != nil {
						checkUses(t, file, u)
						if strings.HasPrefix(u.Value, "actions/checkout@") {
							pc := child(child(step, "with"), "persist-credentials")
							if pc == nil || pc.Value != "false" {
								t.Errorf("%s: actions/checkout without persist-credentials: false", pos(file, u))
							}
						}
					}
					if r := child(step, "run"); r != nil && strings.Contains(r.Value, "${{") {
						t.Errorf("%s: run: expands ${{ }}; pass values through env:", pos(file, r))
					}
				}
			}
		})
	}
}

// nodeText re-encodes a node, to search it as text.
func nodeText(n *yaml.Node) string {
	out, err := yaml.Marshal(n)
	if err != nil {
		return ""
	}
	return string(out)
}

func TestActionRules(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	for _, file := range glob(t, root, actionFiles...) {
		nodes, _ := decodeYAML(t, filepath.Join(root, file))
		doc := nodes[0]
		runs := child(doc, "runs")
		// Composite: podium runs on the job's machine, next to the toolchain
		// the job set up, and writes files as the job's user (a container
		// action cannot see the job's toolchain and writes as root).
		if u := child(runs, "using"); u == nil || u.Value != "composite" {
			t.Errorf("%s: runs.using must be composite", file)
		}
		steps := child(runs, "steps")
		if steps == nil || len(steps.Content) == 0 {
			t.Errorf("%s: no runs.steps", file)
			continue
		}
		for _, st := range steps.Content {
			if u := child(st, "uses"); u != nil {
				t.Errorf("%s: a step uses %q; podium's steps run its own scripts", pos(file, u), u.Value)
			}
			if sh := child(st, "shell"); sh == nil || sh.Value != "bash" {
				t.Errorf("%s: a step's shell is not bash", pos(file, st))
			}
			// Values reach the script as environment variables: an
			// expression in the script would be spliced into bash source.
			run := child(st, "run")
			if run == nil || strings.Contains(run.Value, "${{") {
				t.Errorf("%s: the step's script is missing or splices an expression", pos(file, st))
				continue
			}
			if !strings.Contains(run.Value, "setup.sh") {
				t.Errorf("%s: the step does not install podium with actions/setup/setup.sh", pos(file, run))
			}
		}
		for _, kv := range pairs(child(doc, "inputs")) {
			if !snakeCase.MatchString(kv[0].Value) {
				t.Errorf("%s: input %q is not snake_case", pos(file, kv[0]), kv[0].Value)
			}
			if kv[0].Value == "args" {
				t.Errorf("%s: an input named args: act and the runners built on it replace runs.args with it", pos(file, kv[0]))
			}
			if d := child(kv[1], "description"); d == nil || d.Value == "" {
				t.Errorf("%s: input %q has no description", pos(file, kv[0]), kv[0].Value)
			}
		}
		for _, kv := range pairs(child(doc, "outputs")) {
			if d := child(kv[1], "description"); d == nil || d.Value == "" {
				t.Errorf("%s: output %q has no description", pos(file, kv[0]), kv[0].Value)
			}
			if v := child(kv[1], "value"); v == nil || !strings.HasPrefix(v.Value, "${{ steps.") {
				t.Errorf("%s: output %q takes no step's output", pos(file, kv[0]), kv[0].Value)
			}
		}
		if child(doc, "branding") == nil {
			t.Errorf("%s: no branding (the Marketplace shows it)", file)
		}
	}
}

// GitLab components: inputs reach the job as variables, never spliced
// into the script, where a shell would read them.
func TestTemplateRules(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	interp := regexp.MustCompile(`\$\[\[\s*inputs\.`)
	for _, file := range glob(t, root, templateFiles...) {
		nodes, _ := decodeYAML(t, filepath.Join(root, file))
		if len(nodes) != 2 {
			t.Errorf("%s: a component is a spec header, ---, and the jobs; got %d documents", file, len(nodes))
			continue
		}
		inputs := child(child(nodes[0], "spec"), "inputs")
		if inputs == nil {
			t.Errorf("%s: no spec: inputs:", file)
		}
		for _, kv := range pairs(inputs) {
			if !snakeCase.MatchString(kv[0].Value) {
				t.Errorf("%s: input %q is not snake_case", pos(file, kv[0]), kv[0].Value)
			}
			if d := child(kv[1], "description"); d == nil || d.Value == "" {
				t.Errorf("%s: input %q has no description", pos(file, kv[0]), kv[0].Value)
			}
		}
		for _, kv := range pairs(nodes[1].Content[0]) {
			for _, key := range []string{"script", "before_script", "after_script"} {
				s := child(kv[1], key)
				if s != nil && interp.MatchString(nodeText(s)) {
					t.Errorf("%s: job %s: %s interpolates an input; pass it through variables:", pos(file, s), kv[0].Value, key)
				}
			}
		}
	}
}
