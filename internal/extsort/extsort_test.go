package extsort

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestKeyOrder(t *testing.T) {
	t.Parallel()
	vals := []float64{math.Inf(-1), -1e308, -1, -1e-300, 0, 1e-300, 1, 1e308, math.Inf(1)}
	for i := 1; i < len(vals); i++ {
		if Key(vals[i-1]) >= Key(vals[i]) {
			t.Errorf("Key(%v) >= Key(%v)", vals[i-1], vals[i])
		}
	}
	for _, v := range vals {
		if got := Value(Key(v)); got != v {
			t.Errorf("Value(Key(%v)) = %v", v, got)
		}
	}
	if Key(math.Copysign(0, -1)) != Key(0) {
		t.Error("Key(-0) != Key(0)")
	}
}

func TestRadixSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []uint64
	}{
		{"empty", nil},
		{"one", []uint64{7}},
		{"same high bytes", []uint64{0xAB00000000000003, 0xAB00000000000001, 0xAB00000000000002}},
		{"all equal", []uint64{5, 5, 5}},
		{"spread", []uint64{1 << 63, 3, 1<<40 + 1, 0, ^uint64(0), 1 << 40, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := append([]uint64(nil), tt.in...)
			RadixSort(got, make([]uint64, len(got)))
			want := append([]uint64(nil), tt.in...)
			slices.Sort(want)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("RadixSort() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRadixSortRandom sorts keys of every spread (the passes it takes
// depend on it) against slices.Sort.
func TestRadixSortRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, spread := range []uint{0, 1, 10, 11, 12, 22, 23, 40, 63, 64} {
		for _, n := range []int{2, 100, 5000} {
			base := rng.Uint64()
			in := make([]uint64, n)
			for i := range in {
				in[i] = base + rng.Uint64()>>(64-spread)*min(1, uint64(spread))
			}
			got := slices.Clone(in)
			RadixSort(got, make([]uint64, n))
			want := slices.Clone(in)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("spread %d bits, %d keys: RadixSort differs from slices.Sort", spread, n)
			}
		}
	}
}

// TestPackRoundTrip reads packed runs back through Gather and a merge.
func TestPackRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	var runs []Run
	var all []uint64
	for _, n := range []int{1, 7, 3000} {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = DecKey(rng.Int64N(1<<40) - 1<<39)
		}
		slices.Sort(keys)
		runs = append(runs, Pack(keys))
		all = append(all, keys...)
	}
	slices.Sort(all)
	gathered, err := Gather(runs, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(gathered)
	if diff := cmp.Diff(all, gathered); diff != "" {
		t.Errorf("Gather mismatch (-want +got):\n%s", diff)
	}
	var merged []uint64
	m := NewMerged(runs)
	for {
		k, ok := m.Peek()
		if !ok {
			break
		}
		for range m.Take(k) {
			merged = append(merged, k)
		}
	}
	if diff := cmp.Diff(all, merged); diff != "" {
		t.Errorf("merge mismatch (-want +got):\n%s", diff)
	}
}

// FuzzDecToKey: a decimal's DecKey at a scale, through DecToKey, is the
// Key of the float64 its text parses to, and the order of two decimals is
// the order of their keys.
func FuzzDecToKey(f *testing.F) {
	f.Add(int64(12345), int64(-7), uint8(3))
	f.Add(int64(1<<53-1), int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, a, b int64, scale uint8) {
		sc := int(scale % 16)
		lim := int64(1)<<53 - 1
		a, b = a%lim, b%lim
		conv := DecToKey(sc)
		for _, s := range []int64{a, b} {
			text := strconv.FormatInt(s, 10)
			if sc > 0 {
				neg := s < 0
				digits := strconv.FormatInt(max(s, -s), 10)
				for len(digits) <= sc {
					digits = "0" + digits
				}
				text = digits[:len(digits)-sc] + "." + digits[len(digits)-sc:]
				if neg {
					text = "-" + text
				}
			}
			v, err := strconv.ParseFloat(text, 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := conv(DecKey(s)); got != Key(v) {
				t.Errorf("DecToKey(%d)(DecKey(%d)) = %x, want Key(%s) = %x", sc, s, got, text, Key(v))
			}
		}
		if (a < b) != (DecKey(a) < DecKey(b)) || (a < b && conv(DecKey(a)) > conv(DecKey(b))) {
			t.Errorf("order of %d and %d not kept", a, b)
		}
	})
}

// TestCount: the histogram of packed runs counts each key once, in the
// bucket of its distance from lo, and a key outside the histogram is an
// error rather than a wrong count.
func TestCount(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var runs []Run
	want := make([]uint64, 600)
	lo := DecKey(-300)
	for _, n := range []int{1, 50, 2000} {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = DecKey(rng.Int64N(600) - 300)
			want[keys[i]-lo] += 3
		}
		slices.Sort(keys)
		runs = append(runs, Pack(keys))
	}
	got := make([]uint64, 600)
	if err := Count(runs, lo, got, 3); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("histogram (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		lo   uint64
		size int
		runs []Run
	}{
		{"keys below lo", lo + 1, 600, runs},
		{"keys past the end", lo, 599, runs},
		{"a run not packed", lo, 600, []Run{{Mem: []uint64{lo}, N: 1, Lo: lo, Hi: lo}}},
		{"a key past Hi", lo, 600, []Run{{Packed: Pack([]uint64{lo + 600}).Packed, N: 1, Lo: lo, Hi: lo}}},
		{"a truncated gap", lo, 600, []Run{{Packed: []byte{0x80}, N: 1, Lo: lo, Hi: lo}}},
		{"fewer keys than N", lo, 600, []Run{{Packed: Pack([]uint64{lo}).Packed, N: 2, Lo: lo, Hi: lo}}},
	} {
		if err := Count(tc.runs, tc.lo, make([]uint64, tc.size), 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestMem: keys and packed runs from a Mem hold what was written to
// them, side by side, until Free; keys are aligned.
func TestMem(t *testing.T) {
	t.Parallel()
	var m Mem
	defer m.Free()
	rng := rand.New(rand.NewPCG(1, 2))
	var runs []Run
	var want [][]uint64
	for i := range 50 {
		keys := make([]uint64, 1+rng.IntN(5000))
		for j := range keys {
			keys[j] = rng.Uint64N(1 << (1 + i%60))
		}
		slices.Sort(keys)
		r, ok := PackIn(&m, keys, func(int) bool { return i%7 != 3 })
		if i%7 == 3 {
			if ok {
				t.Fatal("kept a run the caller declined")
			}
			continue
		}
		runs, want = append(runs, r), append(want, keys)
		buf := m.Keys(1 + rng.IntN(3000))
		if uintptr(unsafe.Pointer(&buf[0]))%8 != 0 {
			t.Fatal("keys not aligned")
		}
		for j := range buf {
			buf[j] = ^uint64(0) // must not overwrite any run
		}
	}
	for i, r := range runs {
		got, err := Gather([]Run{r}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Fatalf("run %d (-want +got):\n%s", i, diff)
		}
		if r.Lo != want[i][0] || r.Hi != want[i][len(want[i])-1] {
			t.Fatalf("run %d: Lo, Hi = %d, %d", i, r.Lo, r.Hi)
		}
	}
	big := m.Keys(slabSize)
	big[len(big)-1] = 1
}
