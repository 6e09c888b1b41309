package drift

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompareLargeFile reads a 100 MB current file with a few bad rows,
// spilling sorted runs to disk. The current file is the reference's rows
// repeated, so every empirical distribution is the same and KS and PSI
// must be exactly 0: a value lost or counted twice anywhere in the blocks,
// runs or merges would show. Most of each row is a long quoted comment
// with a line break, escaped quotes and commas (not compared), so blocks
// are cut inside quoted fields, line numbers count the breaks, and the
// test stays quick under the race detector.
func TestCompareLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB")
	}
	t.Parallel()
	dir := t.TempDir()
	header := "n0,n1,n2,n3,n4,n5,comment,c0"
	compared := []string{"n0", "n1", "n2", "n3", "n4", "n5", "c0"}

	rng := rand.New(rand.NewPCG(1, 2))
	comments := make([]string, 16)
	for i := range comments {
		var b strings.Builder
		for b.Len() < 900 {
			b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), 1+rng.IntN(8)))
			switch rng.IntN(20) {
			case 0:
				b.WriteString(`, ""quoted"" `)
			case 1:
				b.WriteString(" ")
			}
		}
		comments[i] = `"` + b.String()[:450] + "\n" + b.String()[450:] + `"`
	}
	var rows []string
	for range 2000 {
		var b strings.Builder
		for j := range 6 {
			switch j % 3 {
			case 0:
				fmt.Fprintf(&b, "%.5f,", rng.NormFloat64())
			case 1:
				fmt.Fprintf(&b, "%d,", rng.IntN(50)) // ties
			default:
				fmt.Fprintf(&b, "%.3e,", rng.ExpFloat64()*1e6)
			}
		}
		fmt.Fprintf(&b, "%s,cat%d", comments[rng.IntN(len(comments))], rng.IntN(7))
		rows = append(rows, b.String())
	}
	refPath := filepath.Join(dir, "reference.csv")
	writeLines(t, refPath, header, rows, 1, nil)

	curPath := filepath.Join(dir, "current.csv")
	repeats := 0
	for size := 0; size < 100<<20; size += len(strings.Join(rows, "\n")) + 1 {
		repeats++
	}
	// Bad rows go in at the first record start at or after these lines.
	badAt := writeLines(t, curPath, header, rows, repeats, []string{
		"1,2,3",
		"x,1,2,3,4,5,\"c\",cat1",
		`1,2,3,4,5,6,"c" ,cat1`,
	}, 2, 77777, 200001)
	if fi, err := os.Stat(curPath); err != nil || fi.Size() < 100<<20 {
		t.Fatalf("current file is %v bytes (%v), want at least 100 MB", fi.Size(), err)
	}

	got := compareFiles(t, refPath, curPath, Options{Columns: compared, MemoryBudget: 1 << 20, TempDir: dir, MaxBadRows: 10})
	if got.Current.Rows != int64(repeats*len(rows)) || got.Reference.Rows != int64(len(rows)) {
		t.Errorf("rows = %d, %d; want %d, %d", got.Reference.Rows, got.Current.Rows, len(rows), repeats*len(rows))
	}
	wantBad := BadRows{Count: 3, First: []BadRow{
		{Line: badAt[0], Reason: "expected 8 fields, found 3"},
		{Line: badAt[1], Reason: `column "n0": "x" is not a number`},
		{Line: badAt[2], Reason: `extraneous or missing " in quoted-field`},
	}}
	if diff := cmp.Diff(wantBad, got.Current.BadRows); diff != "" {
		t.Errorf("bad rows mismatch (-want +got):\n%s", diff)
	}
	if len(got.Columns) != len(compared) {
		t.Fatalf("got %d columns, want %d", len(got.Columns), len(compared))
	}
	for _, c := range got.Columns {
		if c.PSI == nil || *c.PSI != 0 || (c.Kind == Numeric && (c.KS == nil || *c.KS != 0)) || c.Drifted {
			t.Errorf("column %s: KS %v PSI %v drifted %v, want exactly 0 and not drifted", c.Name, optional(c.KS), optional(c.PSI), c.Drifted)
		}
	}
}

func optional(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// writeLines writes the header and rows repeated times. Bad row i goes in
// at the first record start on or after line at[i] (line 1 is the header;
// rows may span lines); it returns the lines they landed on.
func writeLines(t *testing.T, path, header string, rows []string, repeated int, bad []string, at ...int64) []int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header + "\n")
	line := int64(2) // where the next record starts
	var landed []int64
	for range repeated {
		for _, r := range rows {
			if len(landed) < len(bad) && line >= at[len(landed)] {
				w.WriteString(bad[len(landed)] + "\n")
				landed = append(landed, line)
				line++
			}
			w.WriteString(r + "\n")
			line += int64(strings.Count(r, "\n")) + 1
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(landed) != len(bad) {
		t.Fatalf("only %d of %d bad rows written", len(landed), len(bad))
	}
	return landed
}
