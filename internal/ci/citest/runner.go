package citest

import (
	"regexp"
	"strings"
)

// Command is a workflow command the GitHub runner obeyed.
type Command struct {
	Name       string
	Properties map[string]string
	Data       string
}

// githubCommands are the commands the runner registers
// (ActionCommandManager's extensions plus stop-commands). A line naming
// another is not a command.
var githubCommands = map[string]bool{
	"stop-commands": true, "set-env": true, "set-output": true, "save-state": true,
	"add-mask": true, "add-path": true, "add-matcher": true, "remove-matcher": true,
	"warning": true, "error": true, "notice": true, "debug": true,
	"group": true, "endgroup": true, "echo": true,
}

// GitHubCommands reads log as the GitHub Actions runner reads a step's
// output (ActionCommandManager.TryProcessCommand and ActionCommand's
// TryParseV2 / TryParse) and returns the commands it obeys, in order:
//
//   - The output is split into lines at "\r\n", "\n" and "\r" (.NET's
//     StreamReader.ReadLine).
//   - A line whose text, leading whitespace trimmed, starts with
//     "::name props::data" is a command when name (case-insensitive) is
//     registered; else a line holding "##[name props]data" anywhere is a
//     legacy one.
//   - "::stop-commands::token" stops processing: every later command is
//     ignored until one named token, which resumes it. An empty token, or
//     one that names a registered command or pause-logging, is refused and
//     changes nothing.
//
// The stop and resume commands themselves are returned too, so a test
// can see the windows.
func GitHubCommands(log string) []Command {
	registered := map[string]bool{}
	for k := range githubCommands {
		registered[k] = true
	}
	var out []Command
	stopToken := ""
	lines := regexp.MustCompile(`\r\n|\n|\r`).Split(log, -1)
	for _, line := range lines {
		cmd, ok := parseV2(line, registered)
		if !ok {
			cmd, ok = parseV1(line, registered)
		}
		if !ok {
			continue
		}
		name := strings.ToLower(cmd.Name)
		if stopToken != "" {
			if strings.EqualFold(name, stopToken) {
				delete(registered, strings.ToLower(stopToken))
				stopToken = ""
				out = append(out, cmd)
			}
			continue
		}
		if name == "stop-commands" {
			tok := strings.ToLower(cmd.Data)
			if tok == "" || githubCommands[tok] || tok == "pause-logging" {
				continue
			}
			stopToken = tok
			registered[tok] = true
		}
		out = append(out, cmd)
	}
	return out
}

func parseV2(line string, registered map[string]bool) (Command, bool) {
	msg := strings.TrimLeft(line, " \t\v\f\u00a0")
	if !strings.HasPrefix(msg, "::") {
		return Command{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return Command{}, false
	}
	info := msg[2 : 2+end]
	name, props, _ := strings.Cut(info, " ")
	if !registered[strings.ToLower(name)] {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}, Data: unescape(msg[2+end+2:])}
	for _, p := range strings.Split(strings.TrimSpace(props), ",") {
		if k, v, ok := strings.Cut(p, "="); ok && k != "" && v != "" {
			cmd.Properties[k] = unescape(v)
		}
	}
	return cmd, true
}

func parseV1(line string, registered map[string]bool) (Command, bool) {
	i := strings.Index(line, "##[")
	if i < 0 {
		return Command{}, false
	}
	rb := strings.IndexByte(line[i:], ']')
	if rb < 0 {
		return Command{}, false
	}
	info := line[i+3 : i+rb]
	name, props, _ := strings.Cut(info, " ")
	if !registered[strings.ToLower(name)] {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}, Data: unescape(line[i+rb+1:])}
	for _, p := range strings.Split(props, ";") {
		if k, v, ok := strings.Cut(p, "="); ok && k != "" && v != "" {
			cmd.Properties[k] = unescape(v)
		}
	}
	return cmd, true
}

func unescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%3B", ";", "%5D", "]", "%25", "%").Replace(s)
}

// Section is a GitLab log section marker.
type Section struct {
	Action string // "start" or "end"
	Name   string
}

// gitlabSection is Gitlab::Regex.build_trace_section_regex: GitLab's log
// renderer treats every match, anywhere in the log, as a marker.
var gitlabSection = regexp.MustCompile(`section_((?:start)|(?:end)):(\d+):([a-zA-Z0-9_.-]+)(\[(?:\w+=\w+)(?:, ?(?:\w+=\w+))*\])?\r\x1b\[0K`)

// GitLabSections returns the section markers GitLab finds in log, in order.
func GitLabSections(log string) []Section {
	var out []Section
	for _, m := range gitlabSection.FindAllStringSubmatch(log, -1) {
		out = append(out, Section{Action: m[1], Name: m[3]})
	}
	return out
}
