package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func f(v float64) *float64 { return &v }

const (
	digestA = "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
	digestB = "sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"
	digestM = "sha256:cccccccccccc3333333333333333333333333333333333333333333333333333"
	commit  = "0123456789abcdef0123456789abcdef01234567"
)

var rules = []spec.Rule{
	{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9), MinDelta: f(0.005)},
	{Metric: "latency_ms.p95", Direction: spec.Lower, MaxValue: f(50), Tolerance: f(2)},
	{Metric: "accuracy_by_location.*", Direction: spec.Higher, Tolerance: f(0.01)},
}

// compareDoc runs the real gate, so the goldens show its reasons.
func compareDoc(t testing.TB, rules []spec.Rule, cand, champ map[string]float64, version string) *rundir.Compare {
	t.Helper()
	res, err := gate.Evaluate(gate.Input{Rules: rules, Candidate: cand, Champion: champ})
	if err != nil {
		t.Fatal(err)
	}
	doc := &rundir.Compare{Model: "iris-classifier", Decision: res.Decision, Candidate: rundir.Candidate{Metrics: cand},
		Comparable: true, Warnings: res.Warnings}
	if champ != nil {
		doc.Champion = &rundir.Champion{Version: version, Metrics: champ}
	}
	for _, c := range res.Checks {
		doc.Checks = append(doc.Checks, rundir.Check{Metric: c.Metric, Direction: string(c.Direction), Champion: c.Champion,
			Candidate: c.Candidate, Delta: c.Delta, Passed: c.Passed, Reason: c.Reason,
			Rule: &rundir.Rule{Index: c.Rule, Metric: rules[c.Rule].Metric, Text: gate.Describe(rules[c.Rule])}})
	}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	return doc
}

func run() *rundir.Run {
	return &rundir.Run{
		Model:  "iris-classifier",
		Commit: commit,
		Params: map[string]any{"learning_rate": 0.05, "seed": 42.0, "max_depth": 6.0},
		Steps: []rundir.Step{
			{Name: "features", Status: rundir.StatusCached, DurationS: 0.012},
			{Name: "train", Status: rundir.StatusOK, DurationS: 83.4},
			{Name: "evaluate", Status: rundir.StatusOK, DurationS: 4.21},
		},
	}
}

func champion() *Champion {
	return &Champion{
		Version: "v2", Commit: commit, Source: "origin/main",
		PromotedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Params:     map[string]any{"learning_rate": 0.1, "seed": 42.0},
		Digests: Digests{
			Artifacts:      map[string]string{"model/": digestM},
			EvaluationData: map[string]string{"data/test.csv": digestA},
		},
	}
}

func history() []HistoryEntry {
	return []HistoryEntry{
		{Version: "v2", Commit: commit, Subject: "Promote iris-classifier v2", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
			Metrics: map[string]float64{"accuracy": 0.925}},
		{Version: "v1", Commit: strings.Repeat("f", 40), Subject: "Promote iris-classifier v1", Date: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
			Metrics: map[string]float64{"accuracy": 0.91}},
	}
}

var (
	champMetrics = map[string]float64{"accuracy": 0.925, "latency_ms.p95": 40, "accuracy_by_location.seattle": 0.93, "accuracy_by_location.new_york": 0.9}
	goodMetrics  = map[string]float64{"accuracy": 0.931, "latency_ms.p95": 41.3, "accuracy_by_location.seattle": 0.94, "accuracy_by_location.new_york": 0.90001}
	badMetrics   = map[string]float64{"accuracy": 0.927, "latency_ms.p95": 55, "accuracy_by_location.seattle": 0.94, "accuracy_by_location.new_york": 0.9}
)

type reportCase struct {
	name  string
	input func(t testing.TB) Input
	// links is how many links the rendered report may hold: the CI run.
	links int
}

var cases = []reportCase{
	{
		name: "promote",
		input: func(t testing.TB) Input {
			return Input{
				Compare: compareDoc(t, rules, goodMetrics, champMetrics, "v2"),
				Run:     run(), Branch: "feature/deeper-trees",
				RunURL:   "https://github.com/acme/iris/actions/runs/42",
				Champion: champion(), History: history(),
				Candidate: Digests{Artifacts: map[string]string{"model/": digestB}, EvaluationData: map[string]string{"data/test.csv": digestA}},
			}
		},
		links: 1,
	},
	{
		name: "reject",
		input: func(t testing.TB) Input {
			return Input{
				Compare: compareDoc(t, rules, badMetrics, champMetrics, "v2"),
				Run:     run(), Champion: champion(), History: history(),
				Candidate: Digests{EvaluationData: map[string]string{"data/test.csv": digestA}},
			}
		},
	},
	{
		name: "data-check",
		input: func(t testing.TB) Input {
			r := run()
			r.Data = &rundir.DataCheck{Schema: "data.schema.yaml", SchemaDigest: digestA, Checks: 31, Passed: 30, Warnings: 1,
				Violations: []rundir.DataViolation{{File: "data/weather.csv", Column: "precipitation", Check: "range",
					Severity: "warning", Count: 2, Message: "2 values outside [0, 131]"}}}
			return Input{
				Compare:   compareDoc(t, rules, goodMetrics, nil, ""),
				Run:       r,
				Candidate: Digests{EvaluationData: map[string]string{"data/test.csv": digestA}},
			}
		},
	},
	{
		name: "no-champion",
		input: func(t testing.TB) Input {
			return Input{
				Compare:   compareDoc(t, rules, goodMetrics, nil, ""),
				Run:       run(),
				Candidate: Digests{EvaluationData: map[string]string{"data/test.csv": digestA}},
			}
		},
	},
	{
		name: "not-comparable",
		input: func(t testing.TB) Input {
			doc := compareDoc(t, rules, goodMetrics, champMetrics, "v2")
			doc.Comparable = false
			doc.Warnings = append(doc.Warnings, "the evaluation data differs from the champion's (data/test.csv: sha256:aaaaaaaaaaaa… vs sha256:bbbbbbbbbbbb…): the metrics are not comparable")
			return Input{
				Compare: doc, Run: run(), Champion: champion(), History: history(),
				Candidate: Digests{EvaluationData: map[string]string{"data/test.csv": digestB}},
			}
		},
	},
	{
		// A PR that renamed the model and loosened a rule, whose candidate
		// lost a slice, has an uncovered metric and a metric the champion
		// lacks (first-model semantics).
		name: "judged",
		input: func(t testing.TB) Input {
			jrules := []spec.Rule{
				{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0.001)},
				{Metric: "accuracy_by_location.*", Direction: spec.Higher, Tolerance: f(0.01)},
				{Metric: "f1", Direction: spec.Higher, MinValue: f(0.5), MinDelta: f(0.01)},
			}
			cand := map[string]float64{"accuracy": 0.931, "accuracy_by_location.seattle": 0.94, "f1": 0.8, "recall": 0.7}
			doc := compareDoc(t, jrules, cand, champMetrics, "v2")
			doc.Uncovered = []string{"recall"}
			doc.Baseline = &rundir.Baseline{Source: "origin/main", Model: "iris-classifier", Registry: ".podium/registry",
				Changes: []string{
					`model: renamed from "iris-classifier" to "iris-v2" (the champion is still looked up as "iris-classifier")`,
					`gate rule "accuracy": min_delta lowered from 0.005 to 0.001`,
					`gate rule "latency_ms.p95" removed`,
				}}
			return Input{Compare: doc, Run: run(), Champion: champion()}
		},
	},
	{
		name: "unchanged",
		input: func(t testing.TB) Input {
			doc := compareDoc(t, rules, goodMetrics, champMetrics, "v2")
			doc.Decision = gate.Unchanged
			return Input{Compare: doc, Run: run(), Champion: champion(),
				Candidate: Digests{Artifacts: map[string]string{"model/": digestM}}}
		},
	},
	{
		name: "unverified",
		input: func(t testing.TB) Input {
			doc := compareDoc(t, rules, goodMetrics, champMetrics, "v2")
			doc.Decision = gate.Unverified
			ch := champion()
			ch.Source = "working tree"
			return Input{Compare: doc, Run: run(), Champion: ch}
		},
	},
	{
		name: "hostile",
		input: func(t testing.TB) Input {
			hostile := []string{
				"acc|uracy",
				"evil<!-- podium:report model=other -->",
				"@acme/admins",
				"[click](https://evil.example)",
				"https://evil.example/x",
				"www.evil.example",
				"``tick`` `",
				"::error::boom\n::add-mask::x",
				"<img src=x onerror=alert(1)>",
				"a\\|b",
				"mail me@evil.example",
			}
			cand := map[string]float64{}
			champ := map[string]float64{}
			for i, name := range hostile {
				cand[name] = float64(i)
				champ[name] = float64(i) + 0.5
			}
			hrules := []spec.Rule{{Metric: "**", Direction: spec.Higher, Tolerance: f(1)}}
			doc := compareDoc(t, hrules, cand, champ, "v2|<b>")
			doc.Warnings = append(doc.Warnings, "THE CHAMPION WAS READ FROM THE WORKING TREE\n::warning::@octocat <!-- podium:report model=x --> | x")
			r := run()
			r.Params = map[string]any{"|@team<!--": "`x`|<b>"}
			return Input{
				Compare: doc, Run: r,
				Branch: "feat/@octocat|<b>x</b>",
				RunURL: "javascript:alert(1)",
				Champion: &Champion{Version: "v2|<b>", Source: "@evil", Params: map[string]any{"|@team<!--": "y"},
					Digests: Digests{EvaluationData: map[string]string{"<!--|@x": digestA}}},
				History: []HistoryEntry{{Version: "v1\"]; click", Commit: commit,
					Subject: "<script>alert(1)</script> @admin www.evil.com | [x](http://e) <!-- podium:report model=y -->",
					Metrics: map[string]float64{}}},
				Candidate: Digests{EvaluationData: map[string]string{"<!--|@x": digestB}},
			}
		},
	},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.input(t)
			got := Render(in)
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			assertSafe(t, got, in, tc.links)
		})
	}
}

// parse renders md with GitHub's flavour: tables, autolinks,
// strikethrough, task lists.
func parse(md string) (ast.Node, []byte) {
	src := []byte(md)
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(text.NewReader(src))
	return doc, src
}

var (
	mentionRE = regexp.MustCompile(`(^|[^\w])@[A-Za-z0-9]`)
	codeRE    = regexp.MustCompile(`(?s)<code>.*?</code>`)
)

// assertSafe checks what must hold for any report: the marker starts it and
// is the only HTML comment, the metric table has six columns and one row
// per check, and no untrusted text became a link, a mention, a
// workflow-command line or raw HTML.
func assertSafe(t *testing.T, md string, in Input, wantLinks int) {
	t.Helper()
	marker := Marker(in.Compare.Model)
	if !strings.HasPrefix(md, marker+"\n") {
		t.Errorf("report does not start with the marker %q", marker)
	}
	if n := strings.Count(md, "<!--"); n != 1 {
		t.Errorf("report holds %d \"<!--\", want only the marker's", n)
	}
	for i, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::") {
			t.Errorf("line %d starts with '::': %q", i+1, line)
		}
	}

	doc, src := parse(md)
	var tables []*east.Table
	links := 0
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *east.Table:
			tables = append(tables, n)
		case *ast.Link, *ast.AutoLink, *ast.Image:
			links++
		case *ast.HTMLBlock:
			var raw bytes.Buffer
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				raw.Write(seg.Value(src))
			}
			if n.HasClosure() {
				closure := n.ClosureLine
				raw.Write(closure.Value(src))
			}
			s := strings.TrimSpace(raw.String())
			if !strings.HasPrefix(s, "<details><summary>") && s != "</details>" && s != marker {
				t.Errorf("unexpected HTML block %q", s)
			}
		case *ast.RawHTML:
			seg := n.Segments.At(0)
			t.Errorf("unexpected inline HTML %q", seg.Value(src))
		}
		return ast.WalkContinue, nil
	})
	if links != wantLinks {
		t.Errorf("report has %d links, want %d", links, wantLinks)
	}
	if len(tables) == 0 {
		t.Fatal("no table in the report")
	}
	main := tables[0]
	var rows [][]string
	for row := main.FirstChild(); row != nil; row = row.NextSibling() {
		var cells []string
		for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
			cells = append(cells, string(cellText(cell, src)))
		}
		rows = append(rows, cells)
	}
	if len(rows) != len(in.Compare.Checks)+1 {
		t.Fatalf("metric table has %d rows, want %d (header + one per check)", len(rows), len(in.Compare.Checks)+1)
	}
	for i, cells := range rows {
		if len(cells) != 6 {
			t.Errorf("metric table row %d has %d cells: %q", i, len(cells), cells)
		}
		if i > 0 {
			// The metric cell shows the name exactly (the code span keeps
			// it verbatim, pipes included).
			want := strings.ReplaceAll(strings.ReplaceAll(in.Compare.Checks[i-1].Metric, "\n", " "), "<!--", "<"+zwsp+"!--")
			if cells[0] != want {
				t.Errorf("row %d metric cell = %q, want %q", i, cells[0], want)
			}
		}
	}
	for _, tbl := range tables[1:] {
		width := -1
		for row := tbl.FirstChild(); row != nil; row = row.NextSibling() {
			if width >= 0 && row.ChildCount() != width {
				t.Errorf("a table's rows have %d and %d cells", width, row.ChildCount())
			}
			width = row.ChildCount()
		}
	}

	var html bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert([]byte(md), &html); err != nil {
		t.Fatal(err)
	}
	// GitHub does not link mentions inside code spans.
	prose := codeRE.ReplaceAllString(html.String(), "<code></code>")
	if m := mentionRE.FindString(prose); m != "" {
		t.Errorf("rendered report holds a mention %q", m)
	}
	for _, bad := range []string{"<script", "<img", "<b>", "javascript:"} {
		if strings.Contains(html.String(), bad) {
			t.Errorf("rendered report holds %q", bad)
		}
	}
}

func cellText(n ast.Node, src []byte) []byte {
	var out []byte
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			if t, ok := c.(*ast.Text); ok {
				out = append(out, t.Segment.Value(src)...)
			}
			if s, ok := c.(*ast.String); ok {
				out = append(out, s.Value...)
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

func TestHuman(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.931, "0.931"}, {0.93125, "0.9313"}, {0.005, "0.005"}, {41.3, "41.3"},
		{12345.6, "12346"}, {9.99996, "10"}, {-0.25, "-0.25"}, {1.5e-05, "1.5e-05"}, {2.5e12, "2.5e+12"},
	}
	for _, tt := range tests {
		if got := human(tt.v, 4); got != tt.want {
			t.Errorf("human(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if c, d := pair(f(0.92512), f(0.92514)); c != "0.92512" || d != "0.92514" {
		t.Errorf("pair = %s, %s: the values must differ when they do", c, d)
	}
	for v, want := range map[float64]string{0.006: "+0.006", -2: "-2", 0: "±0", 1e-7: "+1e-07"} {
		if got := signed(v); got != want {
			t.Errorf("signed(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, text, code, cell string
	}{
		{"plain", "accuracy", "accuracy", "`accuracy`", "`accuracy`"},
		{"pipe", "a|b", `a\|b`, "`a|b`", "`a\\|b`"},
		{"marker", "<!-- x -->", `&lt;\!-- x --&gt;`, "`<\u200b!-- x -->`", "`<\u200b!-- x -->`"},
		{"mention", "@org/team", "@\u200dorg/team", "`@org/team`", "`@org/team`"},
		{"backticks", "a`b", "a\\`b", "``a`b``", "``a`b``"},
		{"edge backtick", "`x", "\\`x", "`` `x ``", "`` `x ``"},
		{"newline", "a\n::x", "a ::x", "`a ::x`", "`a ::x`"},
		{"bidi", "a\u202eb", "ab", "`ab`", "`ab`"},
		{"empty", "", "", "` `", "` `"},
		{"autolinks", "see https://e.example or WWW.e.example", "see https\u200b://e.example or WWW\u200b.e.example",
			"`see https://e.example or WWW.e.example`", "`see https://e.example or WWW.e.example`"},
		{"markdown", "*a* _b_ [c](d) ![e](f) ~g~ $h$ #1 \\", `\*a\* \_b\_ \[c\]\(d\) \!\[e\]\(f\) \~g\~ \$h\$ \#1 \\`,
			"`*a* _b_ [c](d) ![e](f) ~g~ $h$ #1 \\`", "`*a* _b_ [c](d) ![e](f) ~g~ $h$ #1 \\`"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb", "`a\uFFFDb`", "`a\uFFFDb`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Text(tt.in); got != tt.text {
				t.Errorf("Text = %q, want %q", got, tt.text)
			}
			if got := Code(tt.in); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := CodeCell(tt.in); got != tt.cell {
				t.Errorf("CodeCell = %q, want %q", got, tt.cell)
			}
		})
	}
}

func TestMarker(t *testing.T) {
	t.Parallel()
	if got := Marker("iris-classifier"); got != "<!-- podium:report model=iris-classifier -->" {
		t.Errorf("Marker = %q", got)
	}
	if got := Marker("x --> <b>"); got != "<!-- podium:report model=x_--___b_ -->" {
		t.Errorf("Marker of a hostile name = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	in := cases[0].input(t)
	body := Render(in)
	marker := Marker("iris-classifier")
	full := utf8.RuneCountInString(body)

	if got := Truncate(body, full, "https://x.example/r"); got != body {
		t.Error("Truncate changed a body within the limit")
	}
	for limit := full - 1; limit > 250; limit -= 7 {
		got := Truncate(body, limit, "https://github.com/acme/iris/actions/runs/42")
		if n := utf8.RuneCountInString(got); n > limit {
			t.Fatalf("limit %d: got %d characters", limit, n)
		}
		if !strings.HasPrefix(got, marker+"\n") {
			t.Fatalf("limit %d: the marker was cut", limit)
		}
		if !strings.Contains(got, "[Read the full report](https://github.com/acme/iris/actions/runs/42).") {
			t.Fatalf("limit %d: no link to the full report:\n%s", limit, got)
		}
		if closeOpen(strings.TrimSuffix(got, "\n")) != "" {
			t.Fatalf("limit %d: left a fence or <details> open:\n%s", limit, got)
		}
	}
	if got := Truncate(body, 10, ""); utf8.RuneCountInString(got) != 10 {
		t.Errorf("tiny limit: %q", got)
	}
	// Characters, not bytes: 70,000 multi-byte runes.
	long := marker + "\n" + strings.Repeat("é", 70000)
	got := Truncate(long, MaxCommentLength, "javascript:alert(1)")
	if n := utf8.RuneCountInString(got); n > MaxCommentLength || n < MaxCommentLength-200 {
		t.Errorf("got %d characters, want just under %d", n, MaxCommentLength)
	}
	if strings.Contains(got, "javascript") || !strings.Contains(got, "cut to fit") {
		t.Errorf("note = %q", got[len(got)-200:])
	}
}

// FuzzRender puts arbitrary text where untrusted text goes and checks the
// invariants of assertSafe, and that a truncated comment stays in bounds.
func FuzzRender(fz *testing.F) {
	fz.Add("acc|uracy", "feat/@x", "<!-- podium:report model=y -->", "::error::x\n", "`")
	fz.Add("www.evil.example", "https://e.example", "[a](b)", "@org/team", "\\|")
	fz.Fuzz(func(t *testing.T, metric, branch, subject, warning, param string) {
		if len(metric)+len(branch)+len(subject)+len(warning)+len(param) > 1<<16 {
			return
		}
		cand := map[string]float64{metric: 1, "accuracy": 0.9}
		doc := compareDoc(t, []spec.Rule{{Metric: "*", Direction: spec.Higher, Tolerance: f(0.5)}}, cand,
			map[string]float64{metric: 1.2, "accuracy": 0.8}, "v1")
		doc.Warnings = append(doc.Warnings, warning)
		r := run()
		r.Params = map[string]any{param: param}
		r.Steps[0].Name = metric
		in := Input{Compare: doc, Run: r, Branch: branch, History: []HistoryEntry{{Version: "v1", Subject: subject, Metrics: map[string]float64{metric: 1}}},
			Champion: &Champion{Version: "v1", Source: branch, Params: map[string]any{}}}
		md := Render(in)
		// The metric cell shows oneLine(metric); assertSafe compares with
		// the name as given, so only check names that survive unchanged.
		if oneLine(metric) == metric && strings.TrimSpace(metric) == metric && metric != "" && !strings.Contains(metric, "`") {
			assertSafe(t, md, in, 0)
		} else if strings.Count(md, "<!--") != 1 {
			t.Fatalf("report holds %d \"<!--\"", strings.Count(md, "<!--"))
		}
		cut := Truncate(md, 400, "https://x.example/r")
		if utf8.RuneCountInString(cut) > 400 || !strings.HasPrefix(cut, Marker("iris-classifier")) {
			t.Fatalf("truncated comment out of bounds or without marker: %q", cut)
		}
	})
}

// BenchmarkRender renders a report with 1,000 checks, a full history and
// every details section, then cuts it for a comment.
func BenchmarkRender(b *testing.B) {
	cand, champ := map[string]float64{}, map[string]float64{}
	for i := range 1000 {
		name := fmt.Sprintf("accuracy_by_region.r%04d", i)
		cand[name] = 0.9 + float64(i%100)/1000
		champ[name] = 0.9
	}
	in := cases[0].input(b)
	in.Compare = compareDoc(b, []spec.Rule{{Metric: "*", Direction: spec.Higher, Tolerance: f(0.05)}}, cand, champ, "v2")
	b.ReportAllocs()
	for b.Loop() {
		_ = Truncate(Render(in), MaxCommentLength, "https://ci.example/run/1")
	}
}

// Token-shaped params are masked in the report as the record masks them:
// the report is published as a PR comment and a step summary.
func TestRenderMasksTokenShapedParams(t *testing.T) {
	t.Parallel()
	tok := "ghp_CANARY" + strings.Repeat("x", 30)
	key := "glpat-CANARY" + strings.Repeat("y", 12)
	tests := []struct {
		name     string
		champion *Champion
	}{
		{name: "no champion params"},
		{name: "changed from the champion's", champion: &Champion{Version: "v1", Params: map[string]any{"api": "old", "learning_rate": 0.1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run()
			r.Params = map[string]any{"api": tok, key: 1.0, "nested": map[string]any{"url": "https://u:hunter22@example.com"}, "learning_rate": 0.2}
			one := []spec.Rule{{Metric: "accuracy", Direction: spec.Higher}}
			got := Render(Input{
				Compare: compareDoc(t, one, map[string]float64{"accuracy": 0.95}, map[string]float64{"accuracy": 0.9}, "v1"),
				Run:     r, Champion: tt.champion,
			})
			for _, secret := range []string{"CANARY", "hunter22"} {
				if strings.Contains(got, secret) {
					t.Errorf("report holds %q:\n%s", secret, got)
				}
			}
			if !strings.Contains(got, "0.2") || strings.Count(got, "***") < 3 {
				t.Errorf("want learning_rate shown and three masked cells:\n%s", got)
			}
		})
	}
}

// TestRenderRunFacts: a dirty work tree is a caution naming the files, and
// a cached step shows the time of the run that produced its outputs.
func TestRenderRunFacts(t *testing.T) {
	t.Parallel()
	one := []spec.Rule{{Metric: "accuracy", Direction: spec.Higher}}
	doc := compareDoc(t, one, map[string]float64{"accuracy": 0.95}, nil, "")
	tests := []struct {
		name    string
		edit    func(*rundir.Run)
		want    []string
		notWant []string
	}{
		{
			name:    "clean tree, step ran",
			edit:    func(r *rundir.Run) { r.Worktree = &rundir.Worktree{Clean: true, Changed: []string{}} },
			want:    []string{"| `train` | ✅ ok | 1m23s |"},
			notWant: []string{"dirty work tree"},
		},
		{
			name: "dirty tree",
			edit: func(r *rundir.Run) {
				r.Worktree = &rundir.Worktree{Changed: []string{"pipeline/train.py", "podium.yaml"}}
			},
			want: []string{"> [!CAUTION]", "**Trained from a dirty work tree.** 2 tracked file(s)", "> - `pipeline/train.py`", "> - `podium.yaml`"},
		},
		{
			name: "cached step",
			edit: func(r *rundir.Run) {
				r.Steps[1] = rundir.Step{Name: "train", Status: rundir.StatusCached, DurationS: 0.016,
					CachedFrom: &rundir.CachedFrom{DurationS: 83.4, FinishedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}}
			},
			want:    []string{"| `train` | ♻️ cached | 1m23s (run 2026-03-04 05:06 UTC) |", "Steps (3, 1m28s)"},
			notWant: []string{"16ms"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run()
			tt.edit(r)
			got := Render(Input{Compare: doc, Run: r})
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("report holds %q:\n%s", w, got)
				}
			}
		})
	}
}
