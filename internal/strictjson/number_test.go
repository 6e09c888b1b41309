package strictjson

import (
	"math"
	"math/big"
	"strconv"
	"testing"
)

// FuzzNumber: what Number accepts is exactly the decimal written (checked
// with big.Rat where the exponent keeps that cheap), and every float64's
// shortest form is accepted.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0.1", "9007199254740993", "1e-400", "-0", "1.50", "12E2", "0.30000000000000004", "1e23"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		if len(lit) > 400 {
			return
		}
		v, msg := Number(lit)
		if msg == "" {
			if d, ok := decimal(lit); ok && d.exp > -400 && d.exp < 400 {
				a, okA := new(big.Rat).SetString(lit)
				b, _ := new(big.Rat).SetString(strconv.FormatFloat(v, 'e', -1, 64))
				if okA && a.Cmp(b) != 0 {
					t.Fatalf("Number(%q) = %v, which is not the value written", lit, v)
				}
			}
		}
		if x, err := strconv.ParseFloat(lit, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			for _, s := range []string{strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatFloat(x, 'e', -1, 64), strconv.FormatFloat(x, 'f', -1, 64)} {
				if _, msg := Number(s); msg != "" {
					t.Fatalf("Number(%q) of a float64's exact form: %s", s, msg)
				}
			}
		}
	})
}
