package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/gittest"
	"github.com/podium-ml/podium/internal/registry"
)

// The verdict cannot be moved by the change under test: these run the
// binary as an attacker's pull request would.

const mainSpec = `version: 1
model: iris
gate:
  rules:
    - {metric: accuracy, direction: higher, min_delta: 0.01}
    - {metric: "acc_by_region.*", direction: higher, tolerance: 0.05}
`

func pointerJSON(t *testing.T, model string, metrics map[string]float64) string {
	t.Helper()
	data, err := registry.Marshal(&registry.Pointer{
		Model: model, Version: "v1", Metrics: metrics,
		Commit: strings.Repeat("a", 40), PromotedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// verdictRepo is an upstream whose main has a strong champion for iris,
// and a clone of branch pr (made by edit) as CI checks it out: shallow.
func verdictRepo(t *testing.T, edit func(dir string)) (clone string) {
	t.Helper()
	up := gittest.Init(t)
	gittest.WriteFile(t, up, "podium.yaml", mainSpec)
	gittest.WriteFile(t, up, ".podium/registry/iris.json", pointerJSON(t, "iris",
		map[string]float64{"accuracy": 0.9, "acc_by_region.us": 0.9, "acc_by_region.eu": 0.9}))
	gittest.Commit(t, up, "promote iris v1")
	gittest.Git(t, up, "checkout", "-q", "-b", "pr")
	edit(up)
	gittest.Commit(t, up, "the pull request")
	gittest.Git(t, up, "checkout", "-q", "main")
	clone = t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--depth=1", "--branch", "pr", "file://"+up, ".")
	return clone
}

type verdictDoc struct {
	Decision string `json:"decision"`
	Champion *struct {
		Version string             `json:"version"`
		Metrics map[string]float64 `json:"metrics"`
	} `json:"champion"`
	Checks []struct {
		Metric    string   `json:"metric"`
		Candidate *float64 `json:"candidate"`
		Passed    bool     `json:"passed"`
		Reason    string   `json:"reason"`
	} `json:"checks"`
	Uncovered []string `json:"uncovered"`
	History   []struct {
		Version string `json:"version"`
	} `json:"history"`
	Baseline *struct {
		Source   string   `json:"source"`
		Model    string   `json:"model"`
		Registry string   `json:"registry"`
		Changes  []string `json:"changes"`
	} `json:"baseline"`
}

func verdict(t *testing.T, res result) verdictDoc {
	t.Helper()
	var doc verdictDoc
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("compare --json printed no JSON document: %v\nstdout: %s\nstderr: %s", err, res.stdout, res.stderr)
	}
	return doc
}

// gitCounter returns an environment whose git logs each invocation's
// subcommand to the returned file.
func gitCounter(t *testing.T) (env []string, log string) {
	t.Helper()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$1\" >> '" + log + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env = baseEnv(t)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + dir + ":" + strings.TrimPrefix(kv, "PATH=")
		}
	}
	return env, log
}

func gitCalls(t *testing.T, log string) []string {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

// TestVerdictPRCannotChooseItsChampion: a PR that renames the model,
// moves the registry and lowers min_delta is still compared with main's
// champion (found with main's spec), and the report says what it changed.
// Before, its champion was null: promote.
func TestVerdictPRCannotChooseItsChampion(t *testing.T) {
	skipShort(t)
	t.Parallel()
	clone := verdictRepo(t, func(dir string) {
		gittest.WriteFile(t, dir, "podium.yaml", strings.NewReplacer(
			"model: iris", "model: iris-v2\nregistry: {path: elsewhere}",
			"min_delta: 0.01", "min_delta: 0",
		).Replace(mainSpec))
	})
	gittest.WriteFile(t, clone, "cand.json", `{"accuracy": 0.85, "acc_by_region": {"us": 0.9, "eu": 0.9}}`)
	env, log := gitCounter(t)
	res := podium(t, clone, env, "compare", "--candidate", "cand.json", "--json", "--report", "report.md", "--fail-on-reject")
	if res.code != 3 {
		t.Fatalf("exit %d, want 3 (reject)\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	doc := verdict(t, res)
	if doc.Decision != "reject" || doc.Champion == nil || doc.Champion.Metrics["accuracy"] != 0.9 {
		t.Fatalf("decision %q against %+v, want reject against main's champion", doc.Decision, doc.Champion)
	}
	if b := doc.Baseline; b == nil || b.Source != "origin/main" || b.Model != "iris" || b.Registry != ".podium/registry" {
		t.Fatalf("baseline = %+v, want iris in .podium/registry from origin/main", doc.Baseline)
	}
	want := []string{
		`model: renamed from "iris" to "iris-v2" (the champion is still looked up as "iris", as on origin/main)`,
		`registry.path: moved from ".podium/registry" to "elsewhere" (the champion is still read from ".podium/registry", as on origin/main)`,
		`gate rule "accuracy": min_delta lowered from 0.01 to 0`,
	}
	if strings.Join(doc.Baseline.Changes, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(doc.Baseline.Changes, "\n"), strings.Join(want, "\n"))
	}
	md, err := os.ReadFile(filepath.Join(clone, "report.md"))
	if err != nil || !strings.Contains(string(md), "#### How this model is judged changed in this PR") ||
		!strings.Contains(string(md), `min\_delta lowered from 0.01 to 0`) {
		t.Errorf("the report lacks the section (%v):\n%s", err, md)
	}
	// The shallow clone lacks origin/main: one fetch, and every file read
	// through one cat-file --batch after it (the rest: the top level, the
	// default branch, whether the clone is shallow, the pointer's history,
	// the cat-file that found origin/main missing, and the log started
	// before it was known to be missing).
	calls := gitCalls(t, log)
	if n := strings.Count(strings.Join(calls, " "), "fetch"); n != 1 {
		t.Errorf("git calls %v: %d fetches, want 1", calls, n)
	}
	if len(calls) > 8 || strings.Count(strings.Join(calls, " "), "cat-file") != 2 {
		t.Errorf("compare ran %d git processes: %v", len(calls), calls)
	}

	// In a full clone with origin/main present, compare needs four (three
	// in CI, which names the default branch), run at once: the pointer's
	// log starts with the others, for the model the PR's spec names. Here
	// the PR renamed the model, so the log runs again for main's.
	full := t.TempDir()
	up := strings.TrimPrefix(gittest.Git(t, clone, "remote", "get-url", "origin"), "file://")
	gittest.Git(t, full, "clone", "-q", "--branch", "pr", up, ".")
	gittest.WriteFile(t, full, "cand.json", `{"accuracy": 0.85, "acc_by_region": {"us": 0.9, "eu": 0.9}}`)
	env, log = gitCounter(t)
	res = podium(t, full, env, "compare", "--candidate", "cand.json", "--json")
	if doc := verdict(t, res); doc.Decision != "reject" {
		t.Errorf("full clone: decision %q, want reject", doc.Decision)
	}
	// The processes run alongside each other: order varies.
	calls = gitCalls(t, log)
	slices.Sort(calls)
	if strings.Join(calls, " ") != "cat-file log log rev-parse symbolic-ref" {
		t.Errorf("full clone, model renamed: git calls %v, want cat-file, log twice, rev-parse, symbolic-ref", calls)
	}
	same := t.TempDir()
	gittest.Git(t, same, "clone", "-q", "--branch", "main", up, ".")
	gittest.Git(t, same, "checkout", "-q", "-b", "pr2")
	gittest.WriteFile(t, same, "cand.json", `{"accuracy": 0.85, "acc_by_region": {"us": 0.9, "eu": 0.9}}`)
	env, log = gitCounter(t)
	res = podium(t, same, env, "compare", "--candidate", "cand.json", "--json")
	if doc := verdict(t, res); doc.Decision != "reject" || len(doc.History) != 1 {
		t.Errorf("full clone: decision %q, history %+v; want reject, and v1 in the history", doc.Decision, doc.History)
	}
	calls = gitCalls(t, log)
	slices.Sort(calls)
	if strings.Join(calls, " ") != "cat-file log rev-parse symbolic-ref" {
		t.Errorf("full clone: git calls %v, want cat-file, log, rev-parse, symbolic-ref", calls)
	}
}

// TestVerdictFallbackIsUnverified: with no default branch to read, the
// champion comes from the working tree the PR controls; a pass is then
// unverified (exit 3 with --fail-on-reject), and only
// --allow-local-champion turns it into promote.
func TestVerdictFallbackIsUnverified(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", mainSpec)
	gittest.WriteFile(t, dir, ".podium/registry/iris.json", pointerJSON(t, "iris", map[string]float64{"accuracy": 0.1}))
	gittest.WriteFile(t, dir, "cand.json", `{"accuracy": 0.95, "acc_by_region": {"us": 0.9}}`)
	gittest.Commit(t, dir, "no remote")
	res := podium(t, dir, baseEnv(t), "compare", "--candidate", "cand.json", "--json", "--fail-on-reject")
	if doc := verdict(t, res); res.code != 3 || doc.Decision != "unverified" {
		t.Errorf("exit %d decision %q, want 3 unverified\nstderr: %s", res.code, doc.Decision, res.stderr)
	}
	res = podium(t, dir, baseEnv(t), "compare", "--candidate", "cand.json", "--json", "--fail-on-reject", "--allow-local-champion")
	if doc := verdict(t, res); res.code != 0 || doc.Decision != "promote" {
		t.Errorf("--allow-local-champion: exit %d decision %q, want 0 promote\nstderr: %s", res.code, doc.Decision, res.stderr)
	}
}

// TestVerdictMissingSlices: a candidate that dropped the eu slice fails
// the glob's rule, and a slice named eu/west is covered by acc_by_region.*
// (path.Match stopped at '/'). Before: promote with a warning.
func TestVerdictMissingSlices(t *testing.T) {
	skipShort(t)
	t.Parallel()
	clone := verdictRepo(t, func(string) {})
	gittest.WriteFile(t, clone, "cand.json", `{"accuracy": 0.95, "recall": 0.5, "acc_by_region": {"us": 0.9, "eu/west": 0.5}}`)
	res := podium(t, clone, baseEnv(t), "compare", "--candidate", "cand.json", "--json")
	doc := verdict(t, res)
	if res.code != 0 || doc.Decision != "reject" {
		t.Fatalf("exit %d decision %q, want 0 reject\nstderr: %s", res.code, doc.Decision, res.stderr)
	}
	got := map[string]string{}
	for _, c := range doc.Checks {
		if !c.Passed {
			got[c.Metric] = c.Reason
		}
	}
	want := map[string]string{
		"acc_by_region.eu":      "acc_by_region.eu missing: the champion has it (0.9) but the candidate does not (set missing: ignore on the rule to allow it)",
		"acc_by_region.eu/west": "acc_by_region.eu/west 0.5: the champion has no value: change not checked (first-model rule: bounds only)",
	}
	if got["acc_by_region.eu"] != want["acc_by_region.eu"] {
		t.Errorf("failed checks = %q, want the lost eu slice to fail", got)
	}
	seen := false
	for _, c := range doc.Checks {
		seen = seen || c.Metric == "acc_by_region.eu/west"
	}
	if !seen {
		t.Errorf("acc_by_region.eu/west escaped the rule acc_by_region.*: checks %+v", doc.Checks)
	}
	if strings.Join(doc.Uncovered, ",") != "recall" {
		t.Errorf("uncovered = %q, want [recall]", doc.Uncovered)
	}

	// missing: ignore on the rule lets the slice go, with a warning.
	ignore := verdictRepo(t, func(dir string) {
		gittest.WriteFile(t, dir, "podium.yaml", strings.Replace(mainSpec, "tolerance: 0.05}", "tolerance: 0.05, missing: ignore}", 1))
	})
	gittest.WriteFile(t, ignore, "cand.json", `{"accuracy": 0.95, "acc_by_region": {"us": 0.9}}`)
	res = podium(t, ignore, baseEnv(t), "compare", "--candidate", "cand.json", "--json")
	if doc := verdict(t, res); doc.Decision != "promote" || !strings.Contains(strings.Join(doc.Baseline.Changes, "\n"), "missing metrics now ignored") {
		t.Errorf("missing: ignore: decision %q, changes %q; want promote, and the loosening listed", doc.Decision, doc.Baseline.Changes)
	}
}

// TestVerdictStrictPointer: a champion pointer with a case-variant key
// ("ArtifACts", which encoding/json matched to artifacts after the schema
// ignored it) is invalid input naming the key.
func TestVerdictStrictPointer(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := t.TempDir()
	gittest.WriteFile(t, dir, "podium.yaml", mainSpec)
	gittest.WriteFile(t, dir, "cand.json", `{"accuracy": 0.95, "acc_by_region": {"us": 0.9}}`)
	ptr := strings.Replace(pointerJSON(t, "iris", map[string]float64{"accuracy": 0.9}), `"commit"`, `"ArtifACts": {"m": "md5:x"}, "commit"`, 1)
	gittest.WriteFile(t, dir, "champ.json", ptr)
	res := podium(t, dir, baseEnv(t), "compare", "--candidate", "cand.json", "--champion", "champ.json")
	if res.code != 2 || !strings.Contains(res.stderr, `ArtifACts: key "ArtifACts" is not "artifacts": field names are case-sensitive`) {
		t.Errorf("exit %d, stderr %q; want 2 naming the key", res.code, res.stderr)
	}
}

// TestVerdictNumbersExactOrRefused: an integer above 2^53 is refused, not
// rounded into compare.json, and a 20 MB literal is quoted by a prefix.
func TestVerdictNumbersExactOrRefused(t *testing.T) {
	skipShort(t)
	t.Parallel()
	dir := t.TempDir()
	gittest.WriteFile(t, dir, "podium.yaml", mainSpec)
	gittest.WriteFile(t, dir, "champ.yaml", "accuracy: 0.9\nacc_by_region:\n  us: 0.9\n")
	gittest.WriteFile(t, dir, "big.json", `{"accuracy": 9007199254740993, "acc_by_region": {"us": 0.9}}`)
	res := podium(t, dir, baseEnv(t), "compare", "--candidate", "big.json", "--champion", "champ.yaml", "--json")
	if res.code != 2 || !strings.Contains(res.stderr, "9007199254740993 cannot be kept exactly: a 64-bit float holds it as 9007199254740992") {
		t.Errorf("exit %d, stderr %q; want 2 refusing the value", res.code, res.stderr)
	}
	gittest.WriteFile(t, dir, "huge.json", `{"accuracy": 0.`+strings.Repeat("9", 20<<20)+`, "acc_by_region": {"us": 0.9}}`)
	res = podium(t, dir, baseEnv(t), "compare", "--candidate", "huge.json", "--champion", "champ.yaml")
	if res.code != 2 || len(res.stderr) > 1000 || !strings.Contains(res.stderr, "(20971522 bytes)") {
		t.Errorf("exit %d, %d bytes of stderr (%.300q); want 2 and a short message", res.code, len(res.stderr), res.stderr)
	}
}
