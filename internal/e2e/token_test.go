package e2e

import (
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// Canary tokens: shaped like real ones, so any pattern-based masking
// would catch them too, and unique enough to grep for.
const (
	githubCanary = "ghp_CANARY0e2e1a2b3c4d5e6f7a8b9c0d1e2f3a"
	gitlabCanary = "glpat-CANARYe2e0a1b2c3d4e5f6"
)

// credential matches a header with an unmasked value.
var credential = regexp.MustCompile(`(?i)(authorization:\s*(bearer|token|basic)|private-token:|job-token:)\s*[^*\s]`)

// leaks returns the forms of token that must never be printed.
func leaks(token string) []string {
	return []string{
		token,
		strings.TrimSuffix(base64.StdEncoding.EncodeToString([]byte(token)), "="),
		base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token)),
	}
}

// assertNoToken checks every stream and every file podium wrote (outputs,
// step summary, run directory: compare.json, the record, logs) for the
// token.
func assertNoToken(t *testing.T, token string, transcript []result, dirs ...string) {
	t.Helper()
	check := func(where, text string) {
		t.Helper()
		// The GitHub runner consumes "::add-mask::<secret>" lines and
		// hides the secret from then on: that is the one place a secret
		// may be written.
		text = strings.ReplaceAll(text, "::add-mask::"+token+"\n", "")
		for _, leak := range leaks(token) {
			if strings.Contains(text, leak) {
				t.Errorf("the token (%s…) appears in %s", leak[:8], where)
			}
		}
		// A server that echoes the request's headers puts their names in
		// the error podium reports; the credential itself must be masked.
		if m := credential.FindString(text); m != "" {
			t.Errorf("a credential appears in %s: %q", where, m)
		}
	}
	for i, res := range transcript {
		check("the stdout of command "+string(rune('0'+i)), res.stdout)
		check("the stderr of command "+string(rune('0'+i)), res.stderr)
	}
	files := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			check(p, string(data))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files == 0 {
		t.Error("no file was checked for the token")
	}
}

// TestTokenNeverPrinted makes the fake echo the request's credentials in
// every error it answers, until podium gives up: the token appears in no
// stream, output, summary, report or record.
func TestTokenNeverPrinted(t *testing.T) {
	skipShort(t)
	for _, host := range []struct {
		name string
		new  func(t *testing.T) fakeHost
	}{
		{"github", func(t *testing.T) fakeHost { return newGitHub(t, githubCanary, seedFiles(t)) }},
		{"gitlab", func(t *testing.T) fakeHost { return newGitLab(t, gitlabCanary, seedFiles(t)) }},
	} {
		t.Run(host.name, func(t *testing.T) {
			t.Parallel()
			h := host.new(t)
			work, pr, sha := candidate(t, h)
			out := t.TempDir()
			env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", out)...)
			runDir := filepath.Join(t.TempDir(), "run")
			var transcript []result
			transcript = append(transcript, mustPodium(t, work, env, "train", "--run-dir", runDir))
			transcript = append(transcript, mustPodium(t, work, env, "compare", "--run-dir", runDir))
			transcript = append(transcript, mustPodium(t, work, env, "record", "--run-dir", runDir))
			transcript = append(transcript, mustPodium(t, work, env, "report", "--run-dir", runDir, "--out", filepath.Join(runDir, "report.md")))

			// A 500 that is retried, then 401s that end each command.
			echo := []scmtest.Fault{scmtest.EchoToken(500)}
			for range 20 {
				echo = append(echo, scmtest.EchoToken(401))
			}
			h.inject("*", "*", echo...)
			for _, args := range [][]string{
				{"report", "--run-dir", runDir, "--comment"},
				{"propose", "--run-dir", runDir},
				{"trigger", "--workflow", "retrain.yml"},
			} {
				res := podium(t, work, env, args...)
				if res.code != 1 {
					t.Errorf("podium %s: exit %d, want 1 (the API keeps failing)\n%s", args[0], res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, "401") {
					t.Errorf("podium %s: the error does not carry the API's status:\n%s", args[0], res.stderr)
				}
				transcript = append(transcript, res)
			}
			if h.count("*", "*") == 0 {
				t.Fatal("podium sent no request")
			}
			assertNoToken(t, h.token(), transcript, out, runDir)
		})
	}
}

// TestProposeRequests counts the requests one propose makes on GitHub: a
// first run that opens the PR and a rerun that finds it. The number does
// not depend on the files changed (the tree is written in one request);
// the scm/github tests check that at the Host level for 1 and 20 files.
func TestProposeRequests(t *testing.T) {
	skipShort(t)
	h := newGitHub(t, githubCanary, seedFiles(t))
	work, pr, sha := candidate(t, h)
	env := append(baseEnv(t), h.ciEnv(pr, sha, "improve", t.TempDir())...)
	runDir := filepath.Join(t.TempDir(), "run")
	mustPodium(t, work, env, "train", "--run-dir", runDir)
	mustPodium(t, work, env, "compare", "--run-dir", runDir)

	before := h.count("*", "*")
	mustPodium(t, work, env, "propose", "--run-dir", runDir)
	first := h.count("*", "*") - before
	mustPodium(t, work, env, "propose", "--run-dir", runDir)
	second := h.count("*", "*") - before - first
	t.Logf("propose on GitHub: %d requests to open the PR, %d to find and update it", first, second)
	for _, r := range h.requests()[before:] {
		t.Logf("  %s %s", r.Method, r.Path)
	}
	if first > maxProposeRequests || second > maxProposeRequests {
		t.Errorf("propose made %d and %d requests, want at most %d each", first, second, maxProposeRequests)
	}
}

// maxProposeRequests bounds one propose on GitHub: default branch, two
// file reads, ProposeChange and the status.
const maxProposeRequests = 16
