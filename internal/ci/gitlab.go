package ci

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/podium-ml/podium/internal/atomicfile"
)

// GitLab's limits on a dotenv report (the defaults of the `dotenv_size` and
// `dotenv_variables` plan limits). A report over them is rejected whole, so
// podium refuses the write that would cross them, with a message that says
// why, rather than lose every output at upload time.
const (
	maxDotenvBytes     = 5 << 10
	maxDotenvVariables = 20
)

// Default file names, relative to the project directory.
const (
	defaultDotenvFile  = "podium.env"
	defaultSummaryFile = "podium-summary.md"
)

// GitLab is GitLab CI. Outputs go to a dotenv file the job publishes with
// `artifacts: reports: dotenv:`, so later jobs see them as variables; the
// summary goes to a Markdown file the job keeps as an artifact.
type GitLab struct {
	opts options

	mu      sync.Mutex
	section int
}

// NewGitLab returns the GitLab CI platform.
func NewGitLab(opts ...Option) *GitLab {
	return &GitLab{opts: newOptions(opts)}
}

func (g *GitLab) Name() string { return "gitlab-ci" }

// Input returns PODIUM_<NAME>: GitLab components pass their inputs to
// podium as job variables of that name.
func (g *GitLab) Input(name string) string { return podiumInput(g.opts.getenv, name) }

// DotenvName is the variable an output becomes in the dotenv report:
// PODIUM_OUT_ and the name upper-cased with '-' as '_' (`decision` becomes
// PODIUM_OUT_DECISION). The prefix keeps outputs apart from podium's
// inputs (PODIUM_<NAME>): a later job sees every earlier job's dotenv
// variables, and compare's `report` output would otherwise arrive as the
// next compare's --report. It also keeps them off a pipeline's own
// variables.
func DotenvName(name string) string {
	return "PODIUM_OUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// SetOutput sets DotenvName(name) in the dotenv file (PODIUM_DOTENV, default
// podium.env in the project directory), replacing an earlier value.
//
// GitLab reads a dotenv report one `KEY=VALUE` line at a time and strips
// surrounding whitespace, with no quoting or escapes. So a value with a
// newline, a carriage return or a NUL byte, or with leading or trailing
// whitespace, cannot be carried and is refused; nothing is encoded, so a
// later job reads exactly what podium wrote.
func (g *GitLab) SetOutput(name, value string) error {
	if err := checkOutputName(name); err != nil {
		return fmt.Errorf("failed to set output %q: %w", name, err)
	}
	if strings.ContainsAny(value, "\n\r\x00") {
		return fmt.Errorf("failed to set output %q: a GitLab dotenv value cannot hold a newline, carriage return or NUL byte", name)
	}
	if strings.TrimSpace(value) != value {
		return fmt.Errorf("failed to set output %q: GitLab strips leading and trailing whitespace from dotenv values", name)
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	path := g.path("PODIUM_DOTENV", defaultDotenvFile)
	lines, err := readDotenvLines(path)
	if err != nil {
		return fmt.Errorf("failed to set output %q: %w", name, err)
	}
	key := DotenvName(name)
	entry := key + "=" + value
	replaced := false
	for i, l := range lines {
		if k, _, _ := strings.Cut(l, "="); strings.TrimSpace(k) == key {
			lines[i], replaced = entry, true
		}
	}
	if !replaced {
		lines = append(lines, entry)
	}
	if len(lines) > maxDotenvVariables {
		return fmt.Errorf("failed to set output %q: %s would hold more than GitLab's %d dotenv variables", name, path, maxDotenvVariables)
	}
	data := strings.Join(lines, "\n") + "\n"
	if len(data) > maxDotenvBytes {
		return fmt.Errorf("failed to set output %q: %s would exceed GitLab's dotenv size limit of %d bytes", name, path, maxDotenvBytes)
	}
	if err := atomicfile.WriteFile(path, []byte(data), 0o644); err != nil {
		return fmt.Errorf("failed to set output %q: %w", name, err)
	}
	return nil
}

// readDotenvLines returns the non-empty lines of the dotenv file at path,
// or none when it does not exist yet.
func readDotenvLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 64<<10), maxDotenvBytes*4)
	for sc.Scan() {
		if l := sc.Text(); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

// dotenvLine is how GitLab's ParseDotenvArtifactService reads a line: the
// key up to the first '=', both sides stripped.
var dotenvLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*?)=(.*)$`) })

// dotenvKey is the variable-name rule GitLab applies to dotenv keys.
var dotenvKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_]+$`) })

// ParseDotenv reads a dotenv report as GitLab does: every line must be
// `KEY=VALUE` (no blank lines, no comments), key and value are stripped of
// surrounding whitespace, and keys are letters, digits and '_'. Later lines
// replace earlier ones.
func ParseDotenv(data string) (map[string]string, error) {
	out := make(map[string]string)
	for i, line := range strings.SplitAfter(data, "\n") {
		if line == "" {
			continue // after the final newline
		}
		m := dotenvLine().FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			return nil, fmt.Errorf("line %d: invalid format", i+1)
		}
		key, value := strings.TrimSpace(m[1]), strings.TrimSpace(m[2])
		if !dotenvKey().MatchString(key) {
			return nil, fmt.Errorf("line %d: invalid key %q", i+1, key)
		}
		out[key] = value
	}
	return out, nil
}

// AppendSummary appends Markdown to PODIUM_SUMMARY_FILE (default
// podium-summary.md in the project directory). GitLab has no job summary;
// a job publishes the file as an artifact or posts it to the MR.
func (g *GitLab) AppendSummary(markdown string) error {
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	path := g.path("PODIUM_SUMMARY_FILE", defaultSummaryFile)
	if err := appendFile(path, markdown); err != nil {
		return fmt.Errorf("failed to append to the summary file: %w", err)
	}
	return nil
}

// Mask does nothing: GitLab masks variables marked "masked" in the project
// settings, and podium's own redactor scrubs everything it prints.
func (g *GitLab) Mask(secret string) {}

// Annotate prints `file:line:col: level: title: message` to the job log.
// GitLab has no annotation API; this is the form editors and people read.
func (g *GitLab) Annotate(a Annotation) { writeAnnotation(g.opts.log, a) }

// Group prints a collapsible section: GitLab folds the lines between
// `section_start` and `section_end` markers with the same id.
func (g *GitLab) Group(title string) func() {
	g.mu.Lock()
	g.section++
	id := "podium_" + strconv.Itoa(g.section)
	g.mu.Unlock()
	fmt.Fprintf(g.opts.log, "\x1b[0Ksection_start:%d:%s[collapsed=true]\r\x1b[0K%s\n",
		g.opts.now().Unix(), id, plainLine(title))
	var once sync.Once
	return func() {
		once.Do(func() {
			fmt.Fprintf(g.opts.log, "\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", g.opts.now().Unix(), id)
		})
	}
}

// Relay returns a writer onto w that breaks GitLab section markers in
// what it relays (see relay.go), so a step cannot close podium's section
// or open its own.
func (g *GitLab) Relay(w io.Writer) io.WriteCloser { return &gitlabRelay{w: w} }

// Run reads the job's metadata from GitLab's predefined CI_* variables.
func (g *GitLab) Run() Run {
	env := g.opts.getenv
	r := Run{
		Provider:      g.Name(),
		Commit:        env("CI_COMMIT_SHA"),
		DefaultBranch: env("CI_DEFAULT_BRANCH"),
		Repository:    env("CI_PROJECT_PATH"),
		RunID:         env("CI_PIPELINE_ID"),
		RunURL:        cmp.Or(env("CI_JOB_URL"), env("CI_PIPELINE_URL")),
		Workflow:      env("CI_PIPELINE_NAME"),
		Job:           env("CI_JOB_NAME"),
		EventName:     env("CI_PIPELINE_SOURCE"),
		ServerURL:     strings.TrimSuffix(env("CI_SERVER_URL"), "/"),
		APIURL:        strings.TrimSuffix(env("CI_API_V4_URL"), "/"),
		ProjectID:     env("CI_PROJECT_ID"),
		Actor:         env("GITLAB_USER_LOGIN"),
		Protected:     env("CI_COMMIT_REF_PROTECTED") == "true",
	}
	if r.APIURL == "" && r.ServerURL != "" {
		r.APIURL = r.ServerURL + "/api/v4"
	}
	r.PullRequest, _ = strconv.Atoi(env("CI_MERGE_REQUEST_IID"))
	refName := env("CI_COMMIT_REF_NAME")
	switch tag := env("CI_COMMIT_TAG"); {
	case tag != "":
		r.Ref = "refs/tags/" + tag
	case r.PullRequest > 0:
		r.Ref = "refs/merge-requests/" + strconv.Itoa(r.PullRequest) + "/head"
		r.Branch = cmp.Or(env("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), refName)
	case refName != "":
		r.Ref = "refs/heads/" + refName
		r.Branch = refName
	}
	return r
}

// path returns the file named by the variable (or def), relative paths
// taken from the project directory, where GitLab looks for artifacts.
func (g *GitLab) path(variable, def string) string {
	p := cmp.Or(g.opts.getenv(variable), def)
	if dir := g.opts.getenv("CI_PROJECT_DIR"); dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p
}
