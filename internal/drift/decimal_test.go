package drift

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompareDecimalKeys holds the decimal path (values kept as integers
// at a column's scale, runs packed in memory, a column sorted whole) to
// the exact one (every value a float64 Key, runs merged): the reports must
// be identical, KS and PSI bit for bit. The current file writes some
// values so they are not decimals at the reference's scale (more fraction
// digits, exponents, 17-digit integers, "1.500" for 1.5), which sends
// them, and every value of that column, through DecToKey.
func TestCompareDecimalKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	header := "d2,mixed,ints,big"
	cell := map[string]func(cur bool) string{
		"d2": func(bool) string { return strconv.FormatFloat(float64(rng.IntN(2000)-1000)/100, 'f', -1, 64) },
		"mixed": func(cur bool) string {
			v := float64(rng.IntN(20000)-10000) / 1000
			if !cur {
				return strconv.FormatFloat(v, 'f', 3, 64)
			}
			switch rng.IntN(6) {
			case 0:
				return strconv.FormatFloat(v, 'e', -1, 64)
			case 1:
				return strconv.FormatFloat(v+float64(rng.IntN(10))*1e-7, 'f', 7, 64)
			case 2:
				return strconv.FormatFloat(v, 'f', 5, 64) // "1.50000": the same value as "1.500"
			case 3:
				return "12345678901234567"
			case 4:
				return "-0"
			}
			return strconv.FormatFloat(v, 'f', -1, 64)
		},
		"ints": func(bool) string { return strconv.Itoa(rng.IntN(40) - 20) },
		"big":  func(bool) string { return strconv.FormatFloat(float64(rng.Int64N(1<<52))/1000, 'f', 3, 64) },
	}
	write := func(name string, rows int, cur bool) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for range rows {
			var cells []string
			for _, col := range strings.Split(header, ",") {
				c := cell[col](cur)
				if rng.IntN(50) == 0 {
					c = ""
				}
				cells = append(cells, c)
			}
			b.WriteString(strings.Join(cells, ",") + "\n")
		}
		path := filepath.Join(dir, name)
		writeFile(t, path, b.String())
		return path
	}
	ref, cur := write("reference.csv", 3000, false), write("current.csv", 2500, true)

	exact := compareFiles(t, ref, cur, Options{floatKeys: true, noGather: true, TempDir: dir})
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"counted (d2, ints) and sorted whole", Options{}},
		{"sorted whole", Options{noCount: true}},
		{"merged in memory", Options{noGather: true}},
		{"spilled, multi-pass merge", Options{Workers: 3, MemoryBudget: 1, fanIn: 3}},
		{"packed and spilled", Options{Workers: 2, MemoryBudget: 40 << 10, noGather: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			t.Parallel()
			o.TempDir = t.TempDir()
			got := compareFiles(t, ref, cur, o)
			if diff := cmp.Diff(exact, got); diff != "" {
				t.Errorf("decimal keys differ from float keys (-float +decimal):\n%s", diff)
			}
		})
	}
	for _, c := range exact.Columns {
		if c.KS == nil || *c.KS == 0 {
			t.Errorf("column %s: KS %v, want a difference to find", c.Name, optional(c.KS))
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCompare times a 200,000-row pair of 6 decimal columns and 2
// categorical ones, as bench/drift.sh's data (which also runs pandas).
func BenchmarkCompare(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for _, name := range []string{"reference.csv", "current.csv"} {
		var sb strings.Builder
		sb.WriteString("n0,n1,n2,n3,n4,n5,c0,c1\n")
		for range 200_000 {
			for j := range 6 {
				fmt.Fprintf(&sb, "%.5f,", rng.NormFloat64()*float64(j+1))
			}
			fmt.Fprintf(&sb, "cat%d,kind%d\n", rng.IntN(5), rng.IntN(12))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rf, _ := os.Open(filepath.Join(dir, "reference.csv"))
		cf, _ := os.Open(filepath.Join(dir, "current.csv"))
		if _, err := Compare(b.Context(), Input{Name: "r", R: rf}, Input{Name: "c", R: cf}, Options{}); err != nil {
			b.Fatal(err)
		}
		rf.Close()
		cf.Close()
	}
}
