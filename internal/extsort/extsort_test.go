package extsort

import (
	"math"
	"slices"
	"testing"

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
