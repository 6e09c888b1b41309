package report

import (
	"fmt"
	"strings"
)

// writeData is the "Data" section: the data check podium train ran before
// any step (the spec's data section), when there was one. A run exists
// only when no check of error severity failed, so what is left to show is
// how many checks passed and the warnings.
func writeData(b *strings.Builder, in Input) {
	if in.Run == nil || in.Run.Data == nil {
		return
	}
	d := in.Run.Data
	fmt.Fprintf(b, "\n<details><summary>Data: %d of %d checks passed, %s</summary>\n\n",
		d.Passed, d.Checks, plural(d.Warnings, "1 warning", fmt.Sprintf("%d warnings", d.Warnings)))
	cached := ""
	if d.Cached {
		cached = " The result is cached: the schema and the data are unchanged since it ran."
	}
	fmt.Fprintf(b, "Checked against %s (%s) before any step ran.%s\n", Code(d.Schema), digest(d.SchemaDigest), cached)
	if len(d.Violations) > 0 {
		b.WriteString("\n| file | column | check | severity | rows | problem |\n|---|---|---|---|--:|---|\n")
		for _, v := range d.Violations {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %s |\n", CodeCell(v.File), CodeCell(v.Column), Text(v.Check),
				Text(v.Severity), v.Count, Text(v.Message))
		}
	}
	b.WriteString("\n</details>\n")
}
