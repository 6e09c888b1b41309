package strictjson

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Number parses a numeric literal and checks that it is finite and that a
// float64 holds it as written: an integer above 2^53 or a decimal with more
// significant digits than a float64 keeps would otherwise be rounded
// silently, and compare.json would show a value the file never had. The
// message is empty on success; it quotes at most a short prefix of lit.
func Number(lit string) (float64, string) {
	v, err := strconv.ParseFloat(lit, 64)
	var numErr *strconv.NumError
	if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) && (math.IsInf(v, 0)) {
		return 0, fmt.Sprintf("%s is out of the range of a 64-bit float", Short(lit))
	}
	if err != nil {
		return 0, fmt.Sprintf("%q is not a number", Short(lit))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Sprintf("%s is not a finite number", Short(lit))
	}
	if !Exact(lit, v) {
		return 0, fmt.Sprintf("%s cannot be kept exactly: a 64-bit float holds it as %s (at most 15-17 significant digits, integers up to 2^53); round it when writing the file",
			Short(lit), plain(v))
	}
	return v, ""
}

// plain renders v as its shortest decimal, without an exponent for an
// integer a reader would recognise (9007199254740992, not 9.007e+15).
func plain(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Exact reports whether v, parsed from the decimal literal lit, has the
// value lit wrote: lit and v's shortest decimal (which reads back as v)
// have the same digits and exponent. Only plain decimals are checked
// (other spellings YAML or CSV allow, such as hex, are taken as parsed).
// It runs in time linear in lit and allocates nothing big, whatever the
// exponent.
func Exact(lit string, v float64) bool {
	a, ok := decimal(lit)
	if !ok {
		return true
	}
	b, _ := decimal(strconv.FormatFloat(v, 'e', -1, 64))
	if a.digits == "" || b.digits == "" {
		return a.digits == b.digits
	}
	return a == b
}

// dec is a decimal as 0.digits × 10^exp with no leading or trailing zero
// digit; zero has no digits.
type dec struct {
	neg    bool
	digits string
	exp    int
}

// decimal parses [+-]digits[.digits][(e|E)[+-]digits].
func decimal(lit string) (dec, bool) {
	var d dec
	s := lit
	if s != "" && (s[0] == '-' || s[0] == '+') {
		d.neg = s[0] == '-'
		s = s[1:]
	}
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return d, false
	}
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expPart)
		if err != nil || expPart == "" {
			return d, false
		}
		exp = e
	}
	all := intPart + frac
	lead := len(all) - len(strings.TrimLeft(all, "0"))
	all = strings.TrimRight(all[lead:], "0")
	if all == "" {
		return dec{}, true
	}
	// The point sits after intPart: the value is 0.all × 10^(len(intPart)-lead+exp).
	d.digits = all
	d.exp = len(intPart) - lead + exp
	return d, true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
