package table

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkDecimal holds ParseDecimal to strconv.ParseFloat, the exact path:
// the same float64 bit for bit, and for a plain decimal, mant/10^frac is
// the text's value exactly.
func checkDecimal(t *testing.T, s string) {
	t.Helper()
	v, mant, frac, st := ParseDecimal([]byte(s))
	trimmed := strings.Trim(s, " \t")
	want, err := strconv.ParseFloat(trimmed, 64)
	switch {
	case trimmed == "":
		if st != NumMissing {
			t.Errorf("ParseDecimal(%q) status %d, want missing", s, st)
		}
		return
	case err != nil && !strings.Contains(err.Error(), "out of range"):
		if st != NumBad {
			t.Errorf("ParseDecimal(%q) = %v status %d, want bad (%v)", s, v, st, err)
		}
		return
	case math.IsNaN(want):
		if st != NumMissing {
			t.Errorf("ParseDecimal(%q) status %d, want missing (NaN)", s, st)
		}
		return
	}
	if st != NumOK || math.Float64bits(v) != math.Float64bits(want) {
		t.Fatalf("ParseDecimal(%q) = %v (%b) status %d, want %v (%b)", s, v, math.Float64bits(v), st, want, math.Float64bits(want))
	}
	if frac < 0 {
		return
	}
	r, ok := new(big.Rat).SetString(trimmed)
	if !ok {
		t.Fatalf("ParseDecimal(%q): a plain decimal big.Rat cannot read", s)
	}
	got := new(big.Rat).SetFrac(big.NewInt(mant), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(frac)), nil))
	if got.Cmp(r) != 0 {
		t.Errorf("ParseDecimal(%q): mant %d frac %d is %v, want %v", s, mant, frac, got, r)
	}
}

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"0", "-0", "+0", "1", "-1", "12.50310", " 3.5\t", ".5", "5.", "-.5", "007", "0.000000000000001",
		"999999999999999", "9999999999999999", "123456789012345.6", "1.7976931348623157e308", "1e400", "-1e400",
		"1e-400", "NaN", "nan", "inf", "-Inf", "", "  ", "abc", "1.2.3", "--1", "+", "-", ".", "1_000", "0x1p3",
		"4503599627370497", "0.1", "0.3", "2.675", "1.0000000000000002",
	} {
		checkDecimal(t, s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		if rng.IntN(3) == 0 {
			b.WriteByte('-')
		}
		whole, frac := rng.IntN(12), rng.IntN(10)
		for range whole {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		if frac > 0 || whole == 0 {
			b.WriteByte('.')
			for range max(frac, 1) {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		checkDecimal(t, b.String())
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.5", "1e5", "999999999999999.9", " 7 ", "NaN", "x", ".", "+.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDecimal(t, s)
	})
}

func BenchmarkParseDecimal(b *testing.B) {
	cells := [][]byte{[]byte("12.50310"), []byte("-0.73521"), []byte("143.00000"), []byte("3.14159")}
	for i := 0; b.Loop(); i++ {
		ParseDecimal(cells[i&3])
	}
}
