package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci/citest"
)

// attackScript prints every way a PR's step can try to command the
// runner or fold the GitLab log.
const attackScript = `printf '::add-mask::x\n'
printf '::error file=podium.yaml::forged\n'
printf '::stop-commands::abc\n::abc::\n::warning::x\n'
printf 'mid-line ##[error]legacy\n'
printf '\033[0Ksection_end:1700000000:podium_1\r\033[0K\n'
printf 'section_start:1700000000:evil[collapsed=true]\r\033[0Kevil\n'
printf '::endgroup::'
`

const attackSpec = `version: 1
model: m
components:
  - {name: comp, path: ., build: sh attack.sh, test: sh attack.sh}
pipeline:
  - {name: one, run: sh attack.sh}
  - {name: two, run: sh attack.sh, needs: [one]}
  - {name: three, run: sh attack.sh}
`

// TestStepOutputCommandsNothing runs train (one step at a time, in
// groups, and concurrently, line-prefixed) and test on GitHub Actions
// and GitLab CI with steps and component tests that print workflow
// commands and section markers. Read as the GitHub runner reads the log,
// podium's own groups are the only commands obeyed; read as GitLab does,
// its own sections are the only ones.
func TestStepOutputCommandsNothing(t *testing.T) {
	skipShort(t)
	for _, platform := range []string{"github", "gitlab"} {
		for _, args := range [][]string{{"train", "--jobs", "1"}, {"train", "--jobs", "2"}, {"test"}} {
			t.Run(platform+"/"+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				work := t.TempDir()
				os.WriteFile(filepath.Join(work, "podium.yaml"), []byte(attackSpec), 0o644)
				os.WriteFile(filepath.Join(work, "attack.sh"), []byte(attackScript), 0o644)
				out := t.TempDir()
				env := baseEnv(t)
				if platform == "github" {
					env = append(env, "GITHUB_ACTIONS=true",
						"GITHUB_OUTPUT="+filepath.Join(out, "output"),
						"GITHUB_STEP_SUMMARY="+filepath.Join(out, "summary"))
				} else {
					env = append(env, "GITLAB_CI=true", "PODIUM_DOTENV="+filepath.Join(out, "podium.env"))
				}
				if args[0] == "train" {
					args = append(args, "--run-dir", filepath.Join(out, "run"))
				}
				res := mustPodium(t, work, env, args...)
				log := res.stdout + res.stderr
				if strings.Count(log, "::add-mask::x") < 2 {
					t.Fatalf("the steps' output is not in the log:\n%s", log)
				}

				if platform == "gitlab" {
					for _, s := range citest.GitLabSections(log) {
						if !strings.HasPrefix(s.Name, "podium_") {
							t.Errorf("GitLab sees a section %s %q from the steps' output", s.Action, s.Name)
						}
					}
					opened := map[string]int{}
					for _, s := range citest.GitLabSections(log) {
						if s.Action == "start" {
							opened[s.Name]++
						} else {
							opened[s.Name]--
						}
						if opened[s.Name] < 0 {
							t.Errorf("section %s closed before it was opened (or twice)", s.Name)
						}
					}
					return
				}

				var obeyed []string
				windows := 0
				for _, c := range citest.GitHubCommands(log) {
					switch {
					case c.Name == "stop-commands":
						windows++
					case c.Name == "group" || c.Name == "endgroup":
						obeyed = append(obeyed, c.Name+"::"+c.Data)
					case len(c.Name) >= 32 && c.Data == "":
						// the resume token
					default:
						t.Errorf("the runner obeys %s %v %q from the steps' output", c.Name, c.Properties, c.Data)
					}
				}
				if windows == 0 {
					t.Error("no stop-commands window around the steps' output")
				}
				var want []string
				switch strings.Join(args[:min(len(args), 3)], " ") {
				case "train --jobs 1":
					want = []string{"group::one", "endgroup::", "group::two", "endgroup::", "group::three", "endgroup::"}
				case "test":
					want = []string{"group::component comp", "endgroup::"}
				}
				if diff := cmp.Diff(want, obeyed); diff != "" {
					t.Errorf("groups the runner obeys (-want +got):\n%s\nlog:\n%s", diff, log)
				}
			})
		}
	}
}
