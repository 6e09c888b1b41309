package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podium-ml/podium/internal/scm/scmtest"
)

// TestRedirectKeepsCredentialsHome makes the fake API answer one request
// of `podium trigger` (a GET, the POST that starts the run; on GitLab the
// pipeline API with PRIVATE-TOKEN, the trigger API with the trigger or job
// token in the body) with a redirect to 127.0.0.2: podium fails, names
// the host and why, and the other origin receives nothing. The same
// redirect within the API's origin is followed and the run starts.
func TestRedirectKeepsCredentialsHome(t *testing.T) {
	skipShort(t)
	type target struct {
		name, method, path string
		code               int
	}
	cases := []struct {
		host    string
		env     func(gh *scmtest.GitHub, gl *scmtest.GitLab) []string
		targets []target
	}{
		{"github", func(gh *scmtest.GitHub, _ *scmtest.GitLab) []string { return gh.Env() }, []target{
			{"GET repository", "GET", "/repos/octo/models", http.StatusMovedPermanently},
			{"GET workflow", "GET", "/repos/octo/models/actions/workflows/retrain.yml", http.StatusFound},
			{"POST dispatch", "POST", "/repos/octo/models/actions/workflows/retrain.yml/dispatches", http.StatusTemporaryRedirect},
		}},
		{"gitlab", func(_ *scmtest.GitHub, gl *scmtest.GitLab) []string { return gl.Env() }, []target{
			{"GET project", "GET", "/projects/42", http.StatusMovedPermanently},
			{"POST pipeline", "POST", "/projects/42/pipeline", http.StatusPermanentRedirect},
		}},
		{"gitlab trigger token", func(_ *scmtest.GitHub, gl *scmtest.GitLab) []string {
			return append(gl.Env(), "PODIUM_TRIGGER_TOKEN="+gl.TriggerToken)
		}, []target{
			{"POST trigger", "POST", "/projects/42/trigger/pipeline", http.StatusTemporaryRedirect},
		}},
		{"gitlab job token", func(_ *scmtest.GitHub, gl *scmtest.GitLab) []string { return gl.JobEnv() }, []target{
			{"GET project", "GET", "/projects/42", http.StatusTemporaryRedirect},
			{"POST trigger", "POST", "/projects/42/trigger/pipeline", http.StatusPermanentRedirect},
		}},
	}
	for _, tc := range cases {
		for _, tg := range tc.targets {
			for _, foreignHost := range []bool{true, false} {
				name := tc.host + "/" + tg.name + "/same origin"
				if foreignHost {
					name = tc.host + "/" + tg.name + "/other origin"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					foreign := scmtest.NewForeign(t)
					var gh *scmtest.GitHub
					var gl *scmtest.GitLab
					var apiURL string
					var inject func(method, pattern string, faults ...scmtest.Fault)
					var runs func() int
					var secrets []string
					if tc.host == "github" {
						gh = scmtest.NewGitHub(t, scmtest.GitHubOptions{})
						apiURL, inject = gh.URL, gh.Inject
						runs = func() int { return len(gh.Dispatches()) }
						secrets = []string{gh.Token}
					} else {
						gl = scmtest.NewGitLab(t, scmtest.GitLabOptions{TriggerToken: "glptt-CANARYredirect0123456789"})
						apiURL, inject = gl.URL, gl.Inject
						runs = func() int { return len(gl.Pipelines()) }
						secrets = []string{gl.Token, gl.JobToken, gl.TriggerToken}
					}
					to := apiURL + tg.path
					if foreignHost {
						to = foreign.URL + "/api" + tg.path
					}
					inject(tg.method, tg.path, scmtest.Fault{Status: tg.code, Header: map[string]string{"Location": to}})
					env := append(baseEnv(t), tc.env(gh, gl)...)
					res := podium(t, t.TempDir(), env, "trigger", "--workflow", "retrain.yml")

					if !foreignHost {
						if res.code != 0 || runs() != 1 {
							t.Fatalf("a redirect within the origin: exit %d, %d runs; want 0 and 1\nstderr: %s", res.code, runs(), res.stderr)
						}
						return
					}
					if res.code != 1 {
						t.Errorf("exit %d, want 1\nstderr: %s", res.code, res.stderr)
					}
					host := strings.TrimPrefix(foreign.URL, "http://")
					if !strings.Contains(res.stderr, "to http://"+host) || !strings.Contains(res.stderr, "credentials") {
						t.Errorf("stderr does not name %s and why:\n%s", host, res.stderr)
					}
					if n := runs(); n != 0 {
						t.Errorf("%d runs started", n)
					}
					for _, r := range foreign.Requests() {
						t.Errorf("the other origin received %s %s", r.Method, r.Path)
						for _, s := range secrets {
							if s != "" && (strings.Contains(fmt.Sprint(r.Header), s) || strings.Contains(r.Body, s)) {
								t.Errorf("... carrying a token (%.8s…)", s)
							}
						}
					}
				})
			}
		}
	}
}

// TestGzipBombFailsClearly answers `podium trigger`'s workflow lookup with
// 512 MiB of JSON gzipped to a few hundred KiB: podium fails with the cap
// in the message, and its peak RSS stays far below the bomb.
func TestGzipBombFailsClearly(t *testing.T) {
	skipShort(t)
	const bombMiB = 512
	member := func(data []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		return b.Bytes()
	}
	var bomb bytes.Buffer
	chunk := member(bytes.Repeat([]byte{'a'}, 1<<20))
	bomb.Write(member([]byte(`{"id":1,"name":"`)))
	for range bombMiB {
		bomb.Write(chunk)
	}
	bomb.Write(member([]byte(`"}`)))

	gh := scmtest.NewGitHub(t, scmtest.GitHubOptions{})
	gh.Inject("GET", "/repos/octo/models/actions/workflows/retrain.yml", scmtest.Fault{
		Status: 200, Header: map[string]string{"Content-Encoding": "gzip"}, Body: bomb.String(),
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, podiumBin, "trigger", "--workflow", "retrain.yml", "--ref", "main")
	cmd.Dir = t.TempDir()
	cmd.Env = append(baseEnv(t), gh.Env()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("podium trigger: %v, want exit 1\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "larger than the 32 MiB limit (measured after decompression)") {
		t.Errorf("stderr does not name the limit:\n%s", stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this platform")
	}
	t.Logf("peak RSS %d MiB for a %d MiB bomb of %d KiB", ru.Maxrss>>10, bombMiB, bomb.Len()>>10)
	// Maxrss is in KiB on Linux.
	if rss := ru.Maxrss >> 10; rss > 256 {
		t.Errorf("peak RSS %d MiB reading a %d MiB bomb (%d KiB compressed); want under 256 MiB", rss, bombMiB, bomb.Len()>>10)
	}
	if n := len(gh.Dispatches()); n != 0 {
		t.Errorf("%d runs started", n)
	}
}
