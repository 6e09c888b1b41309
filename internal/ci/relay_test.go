package ci_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/citest"
)

// attack is what a step of a pull request can print to take over the job
// log: every form of workflow command the runner reads, its own
// stop-commands window, and a forged GitLab section end.
var attack = []string{
	"::add-mask::x\n",
	"::error file=podium.yaml,line=1::forged\n",
	"  ::warning::indented\n",
	"prefix ##[error]legacy command mid-line\n",
	"carriage\r::notice::after a CR\n",
	"::stop-commands::abc\n", "::abc::\n", "::warning::x\n",
	"::set-output name=decision::promote\n",
	"\x1b[0Ksection_end:1700000000:podium_1\r\x1b[0K\n",
	"section_start:1700000000:evil[collapsed=true]\r\x1b[0Kevil\n",
	"::endgroup::",
}

func names(cmds []citest.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Name+"::"+c.Data)
	}
	return out
}

func TestGitHubRelayObeysNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(w io.Writer) // the relayed output
	}{
		{"whole lines", func(w io.Writer) {
			for _, l := range attack {
				io.WriteString(w, l)
			}
		}},
		{"byte by byte", func(w io.Writer) {
			for _, b := range []byte(strings.Join(attack, "")) {
				w.Write([]byte{b})
			}
		}},
		{"ends mid-line", func(w io.Writer) { io.WriteString(w, "::warning::no newline") }},
		{"ends with CR", func(w io.Writer) { io.WriteString(w, "::warning::x\r") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			g := ci.NewGitHub(ci.WithGetenv(func(string) string { return "" }), ci.WithWriter(&log))
			end := g.Group("train")
			relay := g.Relay(&log)
			tt.write(relay)
			// podium's own annotation in the middle of the relayed output
			// is obeyed; the output after it is not.
			g.Annotate(ci.Annotation{Level: ci.LevelWarning, Message: "podium's own"})
			tt.write(relay)
			relay.Close()
			end()
			g.Mask("podium-secret")

			cmds := citest.GitHubCommands(log.String())
			var got []string
			for _, n := range names(cmds) {
				if strings.HasPrefix(n, "stop-commands::") {
					n = "stop-commands::TOKEN"
				} else if len(n) > 30 && strings.HasSuffix(n, "::") && !strings.Contains(n, " ") {
					n = "TOKEN::"
				}
				got = append(got, n)
			}
			want := []string{
				"group::train",
				"stop-commands::TOKEN", "TOKEN::",
				"warning::podium's own",
				"stop-commands::TOKEN", "TOKEN::",
				"endgroup::",
				"add-mask::podium-secret",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("commands the runner obeys (-want +got):\n%s\nlog:\n%s", diff, log.String())
			}
		})
	}
}

// TestGitHubRelayTokensDiffer: every window has its own token, so relayed
// output cannot learn the next one from the log.
func TestGitHubRelayTokensDiffer(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	g := ci.NewGitHub(ci.WithGetenv(func(string) string { return "" }), ci.WithWriter(&log))
	relay := g.Relay(&log)
	io.WriteString(relay, "a\n")
	g.Group("x")()
	io.WriteString(relay, "b\n")
	relay.Close()
	seen := map[string]bool{}
	for _, c := range citest.GitHubCommands(log.String()) {
		if c.Name == "stop-commands" {
			if seen[c.Data] || len(c.Data) < 32 {
				t.Errorf("stop token %q reused or short", c.Data)
			}
			seen[c.Data] = true
		}
	}
	if len(seen) != 2 {
		t.Errorf("%d windows, want 2:\n%s", len(seen), log.String())
	}
}

func TestGitLabRelayBreaksSections(t *testing.T) {
	t.Parallel()
	for _, bytewise := range []bool{false, true} {
		var log bytes.Buffer
		clock := func() time.Time { return time.Unix(1700000000, 0) }
		g := ci.NewGitLab(ci.WithGetenv(func(string) string { return "" }), ci.WithWriter(&log), ci.WithClock(clock))
		end := g.Group("train")
		relay := g.Relay(&log)
		text := strings.Join(attack, "") + "tail section_st"
		if bytewise {
			for _, b := range []byte(text) {
				relay.Write([]byte{b})
			}
		} else {
			io.WriteString(relay, text)
		}
		relay.Close()
		end()
		want := []citest.Section{{Action: "start", Name: "podium_1"}, {Action: "end", Name: "podium_1"}}
		if diff := cmp.Diff(want, citest.GitLabSections(log.String())); diff != "" {
			t.Errorf("bytewise=%t: sections GitLab sees (-want +got):\n%s\nlog: %q", bytewise, diff, log.String())
		}
		if !strings.Contains(log.String(), "evil\n") || !strings.Contains(log.String(), "tail section_st") {
			t.Errorf("bytewise=%t: relayed text lost: %q", bytewise, log.String())
		}
	}
}

func TestLocalRelayPassesThrough(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	relay := ci.NewLocal(ci.WithWriter(&log)).Relay(&log)
	text := strings.Join(attack, "")
	io.WriteString(relay, text)
	relay.Close()
	if log.String() != text {
		t.Errorf("local relay changed the output: %q", log.String())
	}
}

// TestRunnerParserSeesTheAttack checks the test's runner model: without a
// relay, the attack issues every command it holds.
func TestRunnerParserSeesTheAttack(t *testing.T) {
	t.Parallel()
	got := names(citest.GitHubCommands(strings.Join(attack, "")))
	want := []string{
		"add-mask::x", "error::forged", "warning::indented", "error::legacy command mid-line",
		"notice::after a CR", "stop-commands::abc", "abc::", "warning::x",
		"set-output::promote", "endgroup::",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	sections := citest.GitLabSections(strings.Join(attack, ""))
	wantSections := []citest.Section{{Action: "end", Name: "podium_1"}, {Action: "start", Name: "evil"}}
	if diff := cmp.Diff(wantSections, sections); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
}

// FuzzRelay relays arbitrary output, cut into writes at arbitrary points:
// read as the GitHub runner reads it, nothing but the relay's own windows
// is obeyed; read as GitLab reads it, it holds no section marker; and on
// GitLab, dropping the inserted \e[0K gives back the output unchanged.
func FuzzRelay(f *testing.F) {
	for _, a := range attack {
		f.Add(a, uint8(3))
	}
	f.Add(strings.Join(attack, ""), uint8(1))
	f.Add("section_sectionsection_end:1:a\r\x1b[0K", uint8(5))
	f.Fuzz(func(t *testing.T, text string, cut uint8) {
		step := int(cut)%16 + 1
		write := func(w io.Writer) {
			for i := 0; i < len(text); i += step {
				w.Write([]byte(text[i:min(i+step, len(text))]))
			}
		}

		var gh bytes.Buffer
		g := ci.NewGitHub(ci.WithGetenv(func(string) string { return "" }), ci.WithWriter(&gh))
		relay := g.Relay(&gh)
		write(relay)
		relay.Close()
		token := ""
		for _, c := range citest.GitHubCommands(gh.String()) {
			switch {
			case c.Name == "stop-commands" && token == "":
				token = c.Data
			case token != "" && strings.EqualFold(c.Name, token):
				token = ""
			default:
				t.Fatalf("the runner obeys %q %q from relayed %q", c.Name, c.Data, text)
			}
		}

		var gl bytes.Buffer
		relay = ci.NewGitLab(ci.WithWriter(&gl)).Relay(&gl)
		write(relay)
		relay.Close()
		if s := citest.GitLabSections(gl.String()); len(s) > 0 {
			t.Fatalf("GitLab sees sections %v in relayed %q", s, text)
		}
		got := strings.ReplaceAll(gl.String(), "section\x1b[0K_", "section_")
		if got != text && !strings.Contains(text, "section\x1b[0K_") {
			t.Fatalf("relayed %q as %q", text, gl.String())
		}
	})
}
