package table

// A fast path for the common record: no quotes, no spaces around numbers,
// numbers written as plain decimals. ScanPlain splits such a record and
// parses its numeric fields in one pass over the bytes, with no field
// slices kept for numbers; anything else it declines, and the caller reads
// that record with RecordParser and ParseDecimal, whose results ScanPlain's
// agree with exactly where it accepts a record (FuzzScanPlain checks).

// What ScanPlain does with a field.
const (
	PlainSkip   = iota // not read
	PlainNumber        // parsed as a plain decimal
	PlainText          // kept as bytes
)

// PlainCell is one field ScanPlain read.
type PlainCell struct {
	// Text is a PlainText field (pointing into the data).
	Text []byte
	// A PlainNumber field: the digits as an integer (abs), how many of
	// them follow the point, the sign; Missing when the field is empty.
	abs     uint64
	frac    int
	neg     bool
	Missing bool
}

// Decimal returns a PlainNumber field as ParseDecimal returns it: the
// value, the signed digits and the fraction digits.
func (c *PlainCell) Decimal() (v float64, mant int64, frac int) {
	// As fastDecimal: the digits and the power of ten are exact float64s,
	// so one division rounds correctly.
	v = float64(c.abs)
	if c.frac > 0 {
		v /= pow10[c.frac]
	}
	mant = int64(c.abs)
	if c.neg {
		v, mant = -v, -mant
	}
	return v, mant, c.frac
}

// Scaled returns a PlainNumber field's signed digits and fraction digits
// (Decimal without the division, for callers that keep decimals as
// integers).
func (c *PlainCell) Scaled() (mant int64, frac int) {
	mant = int64(c.abs)
	if c.neg {
		mant = -mant
	}
	return mant, c.frac
}

// plainStop marks the bytes that end a field in ScanPlain or make it
// decline the record.
var plainStop = [256]bool{',': true, '\n': true, '"': true, '\r': true}

// ScanPlain reads the record at data[i:] into cells (len(cells) ==
// len(kinds), a field each) when it is plain: exactly len(kinds) fields,
// no quote, a line end (LF or CRLF) after it, every PlainNumber field
// empty or [-+]digits[.digits] with 1 to 15 digits, no CR but in a CRLF.
// It returns where the next record starts, or ok false, having changed
// nothing the caller relies on, for any other record (a blank line
// included): RecordParser reads those.
func ScanPlain(data []byte, i int, kinds []uint8, cells []PlainCell) (next int, ok bool) {
	last := len(kinds) - 1
	if last < 0 || i >= len(data) || data[i] == '\n' || data[i] == '\r' {
		return 0, false
	}
	for f, kind := range kinds {
		var j int
		if kind == PlainNumber {
			c := &cells[f]
			j = i
			if j < len(data) && (data[j] == '-' || data[j] == '+') {
				c.neg = data[j] == '-'
				j++
			} else {
				c.neg = false
			}
			start := j
			var mant uint64
			mant, j = scanDigits(data, j, 0)
			digits := j - start
			frac := 0
			if j < len(data) && data[j] == '.' {
				start = j + 1
				mant, j = scanDigits(data, start, mant)
				frac = j - start
				digits += frac
			}
			switch {
			case j == i: // an empty field
				c.Missing = true
			case digits == 0 || digits > 15:
				return 0, false
			default:
				c.Missing = false
				c.abs, c.frac = mant, frac
			}
		} else {
			j = i
			for j < len(data) && !plainStop[data[j]] {
				j++
			}
			if kind == PlainText {
				cells[f].Text = data[i:j]
			}
		}
		// data[j] must end the field: a comma, or the line end after the
		// last field.
		if j >= len(data) {
			return 0, false
		}
		switch c := data[j]; {
		case f < last && c == ',':
			i = j + 1
		case f == last && c == '\n':
			return j + 1, true
		case f == last && c == '\r' && j+1 < len(data) && data[j+1] == '\n':
			return j + 2, true
		default:
			return 0, false
		}
	}
	return 0, false // not reached: the last field returns
}
