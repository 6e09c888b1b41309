// Package report renders the gate's decision as the Markdown a reviewer
// reads on the pull request: the verdict first, then the metric table,
// warnings, a chart of the primary metric across champions, and the
// evidence (params, digests, steps) folded away. It renders; it does not
// send: the CLI posts the comment or writes the step summary.
package report

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podium-ml/podium/internal/gate"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

// MaxCommentLength is the most characters GitHub accepts in a PR comment.
const MaxCommentLength = 65536

// Marker is the hidden first line of every report for model: the comment
// helper finds its own comment by it and edits it in place.
func Marker(model string) string {
	return "<!-- podium:report model=" + markerModel(model) + " -->"
}

// Input is everything a report shows. Build it with FromRunDir: the
// report shows what the run directory holds, never a second reading of
// the registry or the files, so it cannot contradict compare.json.
type Input struct {
	Compare *rundir.Compare
	// Run is the candidate's run.json: params, commit and steps.
	Run *rundir.Run
	// Branch is the candidate's branch, when known.
	Branch string
	// RunURL links the CI run that produced the candidate.
	RunURL string
	// Champion adds what compare.json's champion holds beyond its metrics.
	Champion *Champion
	// Candidate holds the candidate's digests.
	Candidate Digests
	// History is the champion's history, newest first (as the registry
	// returns it), for the chart and the history table.
	History []HistoryEntry
}

// FromRunDir is the report's input from a run directory's documents
// (compare.json and, when training ran, run.json) and the CI job's
// branch and URL.
func FromRunDir(c *rundir.Compare, run *rundir.Run, branch, runURL string) Input {
	in := Input{Compare: c, Run: run, Branch: branch, RunURL: runURL}
	if d := c.Candidate.Digests; d != nil {
		in.Candidate = Digests{Artifacts: d.Artifacts, EvaluationData: d.EvaluationData}
	}
	if ch := c.Champion; ch != nil && (ch.Commit != "" || ch.Source != "" || ch.Digests != nil || ch.Params != nil) {
		in.Champion = &Champion{Version: ch.Version, Commit: ch.Commit, Source: ch.Source, Params: ch.Params}
		if ch.PromotedAt != nil {
			in.Champion.PromotedAt = *ch.PromotedAt
		}
		if d := ch.Digests; d != nil {
			in.Champion.Digests = Digests{Artifacts: d.Artifacts, EvaluationData: d.EvaluationData}
		}
	}
	for _, h := range c.History {
		e := HistoryEntry{Version: h.Version, Commit: h.Commit, Subject: h.Subject, Metrics: h.Metrics}
		if h.Date != nil {
			e.Date = *h.Date
		}
		in.History = append(in.History, e)
	}
	return in
}

// Champion is what the registry knew about the champion.
type Champion struct {
	Version    string
	Commit     string
	PromotedAt time.Time
	// Source is where it was read, e.g. "origin/main".
	Source  string
	Params  map[string]any
	Digests Digests
}

// Digests are "sha256:<hex>" digests by path as written in the spec.
type Digests struct {
	Artifacts      map[string]string
	EvaluationData map[string]string
}

// HistoryEntry is one past champion.
type HistoryEntry struct {
	Version string
	Commit  string
	Subject string
	Date    time.Time
	Metrics map[string]float64
}

// maxChartPoints bounds the chart: the latest champions and the candidate.
const maxChartPoints = 12

// Render returns the report's Markdown.
func Render(in Input) string {
	c := in.Compare
	var b strings.Builder
	b.WriteString(Marker(c.Model) + "\n")
	writeVerdict(&b, in)
	writeTable(&b, in)
	writeJudged(&b, in)
	if len(c.Warnings) > 0 {
		b.WriteString("\n> [!WARNING]\n")
		for _, w := range c.Warnings {
			b.WriteString("> - " + Text(w) + "\n")
		}
	}
	writeDirtyTree(&b, in)
	writeChart(&b, in)
	writeParams(&b, in)
	writeDigests(&b, in)
	writeData(&b, in)
	writeSteps(&b, in)
	writeHistory(&b, in)
	return b.String()
}

func writeVerdict(b *strings.Builder, in Input) {
	c := in.Compare
	failed := 0
	var firstFailure string
	for _, ch := range c.Checks {
		if !ch.Passed {
			if failed == 0 {
				firstFailure = ch.Reason
			}
			failed++
		}
	}
	switch c.Decision {
	case gate.Promote:
		b.WriteString("### ✅ promote " + Code(c.Model) + "\n\n")
	case gate.Unchanged:
		b.WriteString("### ⏸️ unchanged " + Code(c.Model) + "\n\n")
		b.WriteString("The candidate's artifact is the champion's (same digest): it is not a new model, and there is nothing to propose. The checks below are shown for information.\n")
	case gate.Unverified:
		b.WriteString("### ⚠️ unverified " + Code(c.Model) + "\n\n")
		b.WriteString("**Not a promotion:** the default branch could not be read, so the champion came from the working tree, which this change can edit. Run where the default branch can be fetched, or pass `--allow-local-champion` to trust the working tree.\n\n")
	default:
		b.WriteString("### ❌ reject " + Code(c.Model) + "\n\n")
	}
	n := len(c.Checks)
	switch {
	case c.Decision == gate.Unchanged:
	case failed > 0:
		fmt.Fprintf(b, "%d of %d %s: %s", failed, n, plural(n, "check fails", "checks fail"), Text(firstFailure))
		if failed > 1 {
			fmt.Fprintf(b, " (and %d more)", failed-1)
		}
		b.WriteString(".\n")
	case c.Decision == gate.Reject:
		b.WriteString("The gate rejected the candidate.\n")
	case c.Champion == nil:
		fmt.Fprintf(b, "%s. There is no champion yet: only the absolute bounds were checked.\n", allPass(n))
	default:
		fmt.Fprintf(b, "%s against champion %s", allPass(n), Code(c.Champion.Version))
		if in.Champion != nil && in.Champion.Source != "" {
			b.WriteString(" (read from " + Code(in.Champion.Source) + ")")
		}
		b.WriteString(".\n")
	}
	if !c.Comparable {
		b.WriteString("\n⚠️ **Not comparable:** the candidate was evaluated on different data than the champion; see the warnings.\n")
	}
	var about []string
	if in.Run != nil && in.Run.Commit != "" {
		about = append(about, "Candidate "+Code(short(in.Run.Commit)))
	}
	if in.Branch != "" {
		about = append(about, "branch "+Code(in.Branch))
	}
	if u := safeURL(in.RunURL); u != "" {
		about = append(about, "[CI run]("+u+")")
	}
	if len(about) > 0 {
		b.WriteString("\n" + strings.Join(about, " · ") + "\n")
	}
}

func allPass(n int) string {
	switch n {
	case 1:
		return "The check passes"
	case 2:
		return "Both checks pass"
	}
	return fmt.Sprintf("All %d checks pass", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeJudged shows what decides the verdict beyond the table: how this
// change alters the judgement against the default branch's spec, the
// metrics no rule covers, and the rules that checked bounds only because
// the champion has no value (first-model semantics).
func writeJudged(b *strings.Builder, in Input) {
	c := in.Compare
	if bl := c.Baseline; bl != nil && len(bl.Changes) > 0 {
		b.WriteString("\n#### How this model is judged changed in this PR\n\n")
		fmt.Fprintf(b, "The champion was looked up as %s in %s, as the spec on %s says, not as this change's spec says.\n\n",
			Code(bl.Model), Code(bl.Registry), Code(bl.Source))
		for _, ch := range bl.Changes {
			b.WriteString("- " + Text(ch) + "\n")
		}
	}
	var bare []string
	if c.Champion != nil {
		for _, ch := range c.Checks {
			if ch.Champion == nil && ch.Candidate != nil {
				bare = append(bare, Code(ch.Metric))
			}
		}
	}
	if len(bare) > 0 {
		fmt.Fprintf(b, "\nThe champion has no value for %s: as for a first model, only the absolute bounds (min_value, max_value) were checked.\n", joinLimited(bare, 10))
	}
	if len(c.Uncovered) > 0 {
		names := make([]string, len(c.Uncovered))
		for i, n := range c.Uncovered {
			names[i] = Code(n)
		}
		fmt.Fprintf(b, "\nNo gate rule covers %s; %s nothing.\n", joinLimited(names, 20), plural(len(names), "it decides", "they decide"))
	}
}

// joinLimited joins at most limit items and says how many more there are.
func joinLimited(items []string, limit int) string {
	if len(items) <= limit {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:limit], ", ") + fmt.Sprintf(" and %d more", len(items)-limit)
}

func writeTable(b *strings.Builder, in Input) {
	c := in.Compare
	b.WriteString("\n| Metric | Champion | Candidate | Δ | Rule | Result |\n")
	b.WriteString("| :-- | --: | --: | --: | :-- | :-: |\n")
	for _, ch := range c.Checks {
		champ, cand := pair(ch.Champion, ch.Candidate)
		delta := "—"
		if ch.Delta != nil {
			delta = signed(*ch.Delta)
		}
		// The rule's words are gate.Describe's, stored by compare; a
		// compare.json from before checks carried rules shows the direction.
		rule := directionText(ch.Direction)
		if ch.Rule != nil && ch.Rule.Text != "" {
			rule = Text(ch.Rule.Text)
		}
		result := "✅ pass"
		if !ch.Passed {
			result = "❌ fail"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", CodeCell(ch.Metric), champ, cand, delta, rule, result)
	}
}

func directionText(d string) string {
	switch d {
	case string(spec.Higher):
		return "higher"
	case string(spec.Lower):
		return "lower"
	}
	return Text(d)
}

func writeChart(b *strings.Builder, in Input) {
	c := in.Compare
	// The primary metric is the first rule's first check.
	metric := ""
	for _, ch := range c.Checks {
		if ch.Rule != nil && ch.Rule.Index == 0 {
			metric = ch.Metric
			break
		}
	}
	if metric == "" && len(c.Checks) > 0 {
		metric = c.Checks[0].Metric
	}
	cand, ok := c.Candidate.Metrics[metric]
	if !ok {
		return
	}
	type point struct {
		label string
		v     float64
	}
	var points []point
	for i := len(in.History) - 1; i >= 0; i-- {
		h := in.History[i]
		if v, ok := h.Metrics[metric]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			points = append(points, point{h.Version, v})
		}
	}
	if len(points) == 0 && c.Champion != nil {
		if v, ok := c.Champion.Metrics[metric]; ok {
			points = append(points, point{c.Champion.Version, v})
		}
	}
	if len(points) == 0 {
		return // one point makes no chart
	}
	if len(points) > maxChartPoints-1 {
		points = points[len(points)-(maxChartPoints-1):]
	}
	points = append(points, point{"candidate", cand})
	labels := make([]string, len(points))
	values := make([]string, len(points))
	for i, p := range points {
		labels[i] = `"` + mermaidLabel(p.label, 16) + `"`
		values[i] = strconv.FormatFloat(p.v, 'f', -1, 64)
	}
	title := mermaidLabel(metric, 60)
	b.WriteString("\n<details><summary>📈 Primary metric across champions</summary>\n\n")
	b.WriteString("```mermaid\nxychart-beta\n")
	fmt.Fprintf(b, "    title \"%s: champions and the candidate\"\n", title)
	fmt.Fprintf(b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	fmt.Fprintf(b, "    y-axis \"%s\"\n", title)
	fmt.Fprintf(b, "    line [%s]\n", strings.Join(values, ", "))
	b.WriteString("```\n\n</details>\n")
}

func writeParams(b *strings.Builder, in Input) {
	if in.Run == nil || len(in.Run.Params) == 0 && (in.Champion == nil || len(in.Champion.Params) == 0) {
		return
	}
	cand := in.Run.Params
	if in.Champion == nil || in.Champion.Params == nil {
		b.WriteString("\n<details><summary>Params (the champion's are not recorded)</summary>\n\n")
		b.WriteString("| Param | Candidate |\n| :-- | :-- |\n")
		for _, k := range keys(cand) {
			fmt.Fprintf(b, "| %s | %s |\n", CodeCell(redact.Shaped(k)), CodeCell(shownParam(cand[k])))
		}
		b.WriteString("\n</details>\n")
		return
	}
	champ := in.Champion.Params
	var rows []string
	for _, k := range union(keys(cand), keys(champ)) {
		cv, inCand := cand[k]
		hv, inChamp := champ[k]
		cs, hs := "—", "—"
		if inCand {
			cs = CodeCell(shownParam(cv))
		}
		if inChamp {
			hs = CodeCell(shownParam(hv))
		}
		if inCand && inChamp && param(cv) == param(hv) {
			continue
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s |\n", CodeCell(redact.Shaped(k)), hs, cs))
	}
	fmt.Fprintf(b, "\n<details><summary>Params changed (%d)</summary>\n\n", len(rows))
	if len(rows) == 0 {
		b.WriteString("The candidate was trained with the champion's params.\n")
	} else {
		b.WriteString("| Param | Champion | Candidate |\n| :-- | :-- | :-- |\n")
		b.WriteString(strings.Join(rows, ""))
	}
	b.WriteString("\n</details>\n")
}

// shownParam is param with a token-shaped value masked: the report is
// published (PR comment, step summary), and a param that holds a token by
// mistake must not be, as the record masks it too.
func shownParam(v any) string { return redact.Shaped(param(v)) }

// param renders a param value as JSON (strings quoted, so "1" and 1
// differ), with <, > and & left readable.
func param(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func writeDigests(b *strings.Builder, in Input) {
	var champ Digests
	if in.Champion != nil {
		champ = in.Champion.Digests
	}
	type kind struct {
		name       string
		champ, can map[string]string
	}
	kinds := []kind{
		{"evaluation data", champ.EvaluationData, in.Candidate.EvaluationData},
		{"artifact", champ.Artifacts, in.Candidate.Artifacts},
	}
	var rows []string
	for _, k := range kinds {
		for _, p := range union(keys(k.champ), keys(k.can)) {
			hd, cd := k.champ[p], k.can[p]
			same := "—"
			switch {
			case hd != "" && cd != "" && hd == cd:
				same = "same"
			case hd != "" && cd != "":
				same = "changed"
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", k.name, CodeCell(p), digest(hd), digest(cd), same))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n<details><summary>Data and artifact digests</summary>\n\n")
	b.WriteString("| Kind | Path | Champion | Candidate | |\n| :-- | :-- | :-- | :-- | :-- |\n")
	b.WriteString(strings.Join(rows, ""))
	b.WriteString("\n</details>\n")
}

// digest shortens "sha256:<64 hex>" to its first 12 hex digits, as git
// shortens commits; the full digests are in compare.json and the record.
func digest(d string) string {
	if d == "" {
		return "—"
	}
	if hex, ok := strings.CutPrefix(d, "sha256:"); ok && len(hex) > 12 {
		d = "sha256:" + hex[:12]
	}
	return CodeCell(d)
}

// writeDirtyTree warns, loudly, that the candidate was trained from a work
// tree that differed from its commit: the commit the report names would
// not reproduce the model, and propose refuses it without --allow-dirty.
func writeDirtyTree(b *strings.Builder, in Input) {
	if in.Run == nil || in.Run.Worktree == nil || in.Run.Worktree.Clean {
		return
	}
	wt := in.Run.Worktree
	b.WriteString("\n> [!CAUTION]\n")
	fmt.Fprintf(b, "> **Trained from a dirty work tree.** %d tracked file(s) differed from the commit when training started, so the commit does not reproduce this model:\n", len(wt.Changed))
	for _, c := range wt.Changed {
		b.WriteString("> - " + CodeCell(c) + "\n")
	}
	if wt.Truncated {
		b.WriteString("> - and more\n")
	}
}

// writeSteps lists the steps. A cached step shows the time of the run that
// produced its outputs: that is what the model cost, not the lookup.
func writeSteps(b *strings.Builder, in Input) {
	if in.Run == nil || len(in.Run.Steps) == 0 {
		return
	}
	var total float64
	for _, s := range in.Run.Steps {
		if s.CachedFrom != nil {
			total += s.CachedFrom.DurationS
		} else {
			total += s.DurationS
		}
	}
	fmt.Fprintf(b, "\n<details><summary>Steps (%d, %s)</summary>\n\n", len(in.Run.Steps), duration(total))
	b.WriteString("| Step | Status | Duration |\n| :-- | :-- | --: |\n")
	for _, s := range in.Run.Steps {
		d := duration(s.DurationS)
		if cf := s.CachedFrom; cf != nil {
			d = fmt.Sprintf("%s (run %s)", duration(cf.DurationS), cf.FinishedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", CodeCell(s.Name), status(s.Status), d)
	}
	b.WriteString("\n</details>\n")
}

func status(s string) string {
	switch s {
	case rundir.StatusOK:
		return "✅ ok"
	case rundir.StatusCached:
		return "♻️ cached"
	case rundir.StatusSkipped:
		return "⏭️ skipped"
	case rundir.StatusFailed:
		return "❌ failed"
	case rundir.StatusTimeout:
		return "⏱️ timeout"
	case rundir.StatusInterrupted:
		return "🛑 interrupted"
	}
	return CodeCell(s)
}

func duration(seconds float64) string {
	if math.IsNaN(seconds) || seconds < 0 || seconds > 1e9 {
		return "—"
	}
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func writeHistory(b *strings.Builder, in Input) {
	if len(in.History) == 0 {
		return
	}
	metric := ""
	if len(in.Compare.Checks) > 0 {
		metric = in.Compare.Checks[0].Metric
	}
	b.WriteString("\n<details><summary>Champion history</summary>\n\n")
	header := "| Version | Promoted | Commit | Message |"
	align := "| :-- | :-- | :-- | :-- |"
	if metric != "" {
		header += " " + CodeCell(metric) + " |"
		align += " --: |"
	}
	b.WriteString(header + "\n" + align + "\n")
	for _, h := range in.History {
		date := "—"
		if !h.Date.IsZero() {
			date = h.Date.UTC().Format(time.DateOnly)
		}
		row := fmt.Sprintf("| %s | %s | %s | %s |", CodeCell(h.Version), date, CodeCell(short(h.Commit)), Text(h.Subject))
		if metric != "" {
			v := "—"
			if x, ok := h.Metrics[metric]; ok {
				v = human(x, 4)
			}
			row += " " + v + " |"
		}
		b.WriteString(row + "\n")
	}
	b.WriteString("\n</details>\n")
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// pair formats a champion and candidate value with the same number of
// significant digits, enough to tell them apart when they differ.
func pair(champ *float64, candp *float64) (string, string) {
	if candp == nil {
		if champ == nil {
			return "—", "missing"
		}
		return human(*champ, 4), "missing"
	}
	cand := *candp
	if champ == nil {
		return "—", human(cand, 4)
	}
	digits := 4
	for digits < 17 && *champ != cand && human(*champ, digits) == human(cand, digits) {
		digits++
	}
	return human(*champ, digits), human(cand, digits)
}

// human formats v for people: digits significant digits, no exponent in
// the everyday range, trailing zeros dropped.
func human(v float64, digits int) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v == 0:
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e9 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', digits, 64)
	}
	exp := int(math.Floor(math.Log10(a)))
	s := strconv.FormatFloat(v, 'f', max(digits-1-exp, 0), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// signed formats a delta with its sign: "+0.006", "-2", "±0".
func signed(d float64) string {
	switch {
	case d > 0:
		return "+" + human(d, 3)
	case d < 0:
		return human(d, 3)
	}
	return "±0"
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	sort.Strings(out)
	return slices.Compact(out)
}
