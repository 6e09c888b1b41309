package table

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// What ParseNumber found in a cell.
const (
	NumOK = iota
	NumMissing
	NumBad
)

// ParseNumber parses a numeric cell: surrounding spaces are ignored, an
// empty cell or NaN is missing.
func ParseNumber(b []byte) (float64, int) {
	v, _, _, st := ParseDecimal(b)
	return v, st
}

// ParseDecimal is ParseNumber that also returns, for a plain decimal
// ([-+]digits[.digits], at most 15 digits), its digits as an integer and
// how many of them follow the point: v = mant / 10^frac exactly as
// decimals go. frac is -1 for any other number.
func ParseDecimal(b []byte) (v float64, mant int64, frac int, status int) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return 0, 0, -1, NumMissing
	}
	if v, mant, frac, ok := fastDecimal(b); ok {
		return v, mant, frac, NumOK
	}
	// The string aliases the block only for the call; ParseFloat copies it
	// into any error it returns, and the error is dropped.
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return v, 0, -1, NumOK // ±Inf or 0: still ordered
		}
		return 0, 0, -1, NumBad
	}
	if math.IsNaN(v) {
		return 0, 0, -1, NumMissing
	}
	return v, 0, -1, NumOK
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanDigits appends the decimal digits of b from i on to mant and returns
// it with where they end. It is small enough to inline into the loops
// that parse numbers a row at a time.
func scanDigits(b []byte, i int, mant uint64) (uint64, int) {
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	return mant, i
}

// fastDecimal parses the common plain decimal ([-+]digits[.digits], at most
// 15 digits) several times faster than ParseFloat, and as exactly: the
// digits and the power of ten are both exact float64s, so one IEEE division
// rounds correctly (Clinger's fast path, which ParseFloat also takes after
// a slower scan). Anything else is left to ParseFloat.
func fastDecimal(b []byte) (v float64, signed int64, frac int, ok bool) {
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i++
	}
	if len(b)-i > 16 {
		return 0, 0, -1, false // more than 15 digits and a point
	}
	// The integer part, then the fraction: two tight loops, no state.
	start := i
	mant, i := scanDigits(b, i, 0)
	digits := i - start
	if i < len(b) {
		if b[i] != '.' {
			return 0, 0, -1, false
		}
		start = i + 1
		if mant, i = scanDigits(b, start, mant); i < len(b) {
			return 0, 0, -1, false
		}
		frac = i - start
		digits += frac
	}
	if digits == 0 || digits > 15 {
		return 0, 0, -1, false
	}
	v = float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	signed = int64(mant)
	if neg {
		v, signed = -v, -signed
	}
	return v, signed, frac, true
}
