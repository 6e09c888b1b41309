package drift

import (
	"math"
	"sort"
)

// Bins is the number of PSI bins of a numeric column: the reference's
// deciles.
const Bins = 10

// EmptyBinShare is the share an empty bin counts as, so ln(q/p) is finite.
const EmptyBinShare = 0.0001

// sortedStream is an ascending stream of keys, taken a group of equal keys
// at a time.
type sortedStream interface {
	Peek() (uint64, bool)
	Take(k uint64) int64
}

// numericStats walks the reference and current streams (n and m values,
// both > 0) together, once, and returns:
//
//   - ks: the two-sample Kolmogorov–Smirnov statistic
//     D = max over x of |F_ref(x) − F_cur(x)|, with F the empirical CDFs,
//     evaluated after each group of equal values (where D can change);
//   - psi: the population stability index over Bins bins cut at the
//     reference deciles. Edge j (j = 1..9) is the reference value of rank
//     ceil(j·n/10) (the inverse empirical CDF); bin 0 is (−∞, e1], bin j is
//     (e_j, e_j+1], bin 9 is (e9, +∞). Shares of empty bins count as
//     EmptyBinShare; PSI = Σ (q − p)·ln(q/p) over bins in order.
//
// Both statistics are exact: they need only the order of the values.
func numericStats(ref, cur sortedStream, n, m int64) (ks, psi float64) {
	w := newCDFWalk(n, m)
	for {
		rk, rok := ref.Peek()
		ck, cok := cur.Peek()
		var v uint64
		switch {
		case rok && cok:
			v = min(rk, ck)
		case rok:
			v = rk
		case cok:
			v = ck
		default:
			return w.result()
		}
		var dRef, dCur int64
		if rok && rk == v {
			dRef = ref.Take(v)
		}
		if cok && ck == v {
			dCur = cur.Take(v)
		}
		w.step(dRef, dCur)
	}
}

// histogramStats is numericStats over a histogram of the keys in order
// (a bucket a key, the reference's count in the low 32 bits, the
// current's in the high). Both walk a cdfWalk, so the results are the same.
func histogramStats(hist []uint64, n, m int64) (ks, psi float64) {
	w := newCDFWalk(n, m)
	for _, h := range hist {
		if h != 0 {
			w.step(int64(h&(1<<32-1)), int64(h>>32))
		}
	}
	return w.result()
}

// cdfWalk is the arithmetic numericStats and histogramStats share: it is
// told, key by key in order, how many reference and current values equal
// the key, and keeps the largest CDF gap (KS) and the counts at the
// decile edges of the reference (PSI).
type cdfWalk struct {
	edgeRank       [Bins]int64 // edgeRank[j] for j = 1..9
	cumRef, cumCur [Bins + 1]int64
	n, m           int64
	fn, fm         float64
	i, c           int64
	e              int
	ks             float64
}

func newCDFWalk(n, m int64) *cdfWalk {
	w := &cdfWalk{n: n, m: m, fn: float64(n), fm: float64(m), e: 1}
	for j := int64(1); j < Bins; j++ {
		w.edgeRank[j] = (j*n + Bins - 1) / Bins
	}
	// cumRef[j], cumCur[j]: values ≤ edge j; [0] = 0 and [Bins] = all.
	w.cumRef[Bins], w.cumCur[Bins] = n, m
	return w
}

func (w *cdfWalk) step(dRef, dCur int64) {
	w.i += dRef
	w.c += dCur
	if d := math.Abs(float64(w.i)/w.fn - float64(w.c)/w.fm); d > w.ks {
		w.ks = d
	}
	for w.e < Bins && w.i >= w.edgeRank[w.e] {
		w.cumRef[w.e], w.cumCur[w.e] = w.i, w.c
		w.e++
	}
}

func (w *cdfWalk) result() (ks, psi float64) {
	return w.ks, psiFromCounts(w.cumRef[:], w.cumCur[:], w.n, w.m)
}

// psiFromCounts returns PSI over the bins whose cumulative counts are
// given (len = bins+1, starting at 0).
func psiFromCounts(cumRef, cumCur []int64, n, m int64) float64 {
	var psi float64
	for b := 0; b+1 < len(cumRef); b++ {
		psi += psiTerm(cumRef[b+1]-cumRef[b], cumCur[b+1]-cumCur[b], n, m)
	}
	return psi
}

// psiTerm is one bin's (q − p)·ln(q/p), for counts r of n and c of m.
func psiTerm(r, c, n, m int64) float64 {
	p, q := float64(r)/float64(n), float64(c)/float64(m)
	if r == 0 {
		p = EmptyBinShare
	}
	if c == 0 {
		q = EmptyBinShare
	}
	return (q - p) * math.Log(q/p)
}

// categoricalStats returns PSI over the categories (n and m values, both
// > 0): one bin per reference category, in byte order of the names, then
// one bin for every category the reference never had. newShare is the
// share of current values in that last bin; newCats lists those
// categories, most frequent first (ties by name), at most limit of them.
func categoricalStats(ref, cur map[string]int64, n, m int64, limit int) (psi, newShare float64, newCats []string) {
	names := make([]string, 0, len(ref))
	for name := range ref {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		psi += psiTerm(ref[name], cur[name], n, m)
	}
	var unseen int64
	var fresh []string
	for name, c := range cur {
		if _, ok := ref[name]; !ok {
			unseen += c
			fresh = append(fresh, name)
		}
	}
	psi += psiTerm(0, unseen, n, m)
	sort.Slice(fresh, func(i, j int) bool {
		if cur[fresh[i]] != cur[fresh[j]] {
			return cur[fresh[i]] > cur[fresh[j]]
		}
		return fresh[i] < fresh[j]
	})
	if len(fresh) > limit {
		fresh = fresh[:limit]
	}
	return psi, float64(unseen) / float64(m), fresh
}

// CriticalValue is the two-sample Kolmogorov–Smirnov critical value at
// significance alpha for samples of n and m: c(α)·sqrt((n+m)/(n·m)),
// c(α) = sqrt(−ln(α/2)/2) (1.358 at α = 0.05).
func CriticalValue(alpha, n, m float64) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) * math.Sqrt((n+m)/(n*m))
}

// KSPValue is the asymptotic two-sided p-value of a two-sample KS
// statistic d for samples of n and m: the Kolmogorov distribution's tail
// at λ = (sqrt(nₑ) + 0.12 + 0.11/sqrt(nₑ))·d, nₑ = n·m/(n+m) (Stephens'
// small-sample correction).
func KSPValue(d, n, m float64) float64 {
	en := math.Sqrt(n * m / (n + m))
	lambda := (en + 0.12 + 0.11/en) * d
	if lambda < 1e-3 {
		return 1
	}
	// Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²)
	var sum, prev float64
	for k := 1; k <= 100; k++ {
		term := math.Exp(-2 * float64(k*k) * lambda * lambda)
		if k%2 == 0 {
			sum -= term
		} else {
			sum += term
		}
		if term <= 1e-10*math.Abs(sum) || term == prev {
			break
		}
		prev = term
	}
	return min(1, max(0, 2*sum))
}

// shareDistances returns L∞ (the largest change of one category's share)
// and the Jensen–Shannon distance (base 2) between the reference and
// current shares; categories the reference lacks count as one.
func shareDistances(ref, cur map[string]int64, n, m int64) (linf, js float64) {
	fn, fm := float64(n), float64(m)
	var unseen int64
	var kl float64
	term := func(p, q float64) {
		linf = max(linf, math.Abs(p-q))
		mid := (p + q) / 2
		if p > 0 {
			kl += p / 2 * math.Log2(p/mid)
		}
		if q > 0 {
			kl += q / 2 * math.Log2(q/mid)
		}
	}
	// In the names' order, so the sum, and the last digits of JS, do not
	// depend on the maps' iteration order.
	names := make([]string, 0, len(ref))
	for name := range ref {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		term(float64(ref[name])/fn, float64(cur[name])/fm)
	}
	for name, c := range cur {
		if _, ok := ref[name]; !ok {
			unseen += c
		}
	}
	term(0, float64(unseen)/fm)
	return linf, math.Sqrt(max(0, kl))
}
