package drift

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/podium-ml/podium/internal/extsort"
	"github.com/podium-ml/podium/internal/table"
)

// collector gathers every compared column's values from both files: one
// goroutine per file cuts blocks, Workers goroutines parse them. Each
// worker keeps its own buffers and category counts, so the hot path takes
// no locks; a full buffer is sorted and packed (or spilled), and results
// are combined at the end. Rows are independent, so the order blocks are
// parsed in does not change any result.
type collector struct {
	files []*fileState
	kinds []Kind
	// scales[c] is the scale numeric column c's plain decimals are kept
	// at (as integers, DecKey); -1 keeps every value as a float64 Key.
	scales []int
	opts   Options
	// packed counts the bytes of packed runs in memory, against
	// packBudget; past it, sorted runs go to temporary files.
	packed     atomic.Int64
	packBudget int64
	// gatherKeys bounds the keys a column goroutine sorts whole in memory
	// instead of merging runs.
	gatherKeys int64
	// arenas are the column goroutines' buffers for sortedStats, made
	// by prepareColumns.
	arenas  chan []uint64
	mem     extsort.Mem // holds the arenas
	tmp     *extsort.TempFiles
	workers []*worker
	// combined results, by file
	rows []int64
	bad  []badRows
}

// worker is one parsing goroutine's state.
type worker struct {
	p       *collector
	parser  table.RecordParser
	perFile []workerFile
	capKeys int      // a buffer is sorted and spilled at this many keys
	tmpKeys []uint64 // radix sort scratch, made at the first spill
	spill   *extsort.SpillFile
	rows    []int64
	bad     []badRows
	cells   []uint64 // one row's numeric keys, before it is accepted
	status  []int8
	float   []bool // the key is a float64 Key in a column of decimals
	plain   []table.PlainCell
	mem     extsort.Mem // holds the packed runs, until the collector's free
	bufMem  extsort.Mem // holds the full-sized buffers, until finish
}

// workerFile is a worker's data for one file, by compared column.
type workerFile struct {
	// keys and runs hold a column's values in its own key space (DecKey
	// at its scale, or Key); fkeys and fruns the values of a decimal
	// column that are not decimals at its scale, as Keys.
	keys    [][]uint64
	runs    [][]extsort.Run
	fkeys   [][]uint64
	fruns   [][]extsort.Run
	missing []int64
	cats    []map[string]*int64 // nil for numeric columns
	recent  [][]category        // the first of cats, compared directly
	catOver []bool              // more than MaxCategories seen
}

func newCollector(files []*fileState, kinds []Kind, scales []int, opts Options, tmp *extsort.TempFiles) *collector {
	p := &collector{files: files, kinds: kinds, scales: scales, opts: opts, tmp: tmp,
		rows: make([]int64, len(files)), bad: make([]badRows, len(files))}
	// A third of the budget for the buffers being filled, the rest for
	// packed runs; once parsing is done, a column goroutine may sort up to
	// its share of the budget whole.
	raw := opts.MemoryBudget / 3
	p.packBudget = opts.MemoryBudget - raw
	p.gatherKeys = opts.MemoryBudget / 8 / int64(opts.Workers)
	numeric := 0
	for _, k := range kinds {
		if k == Numeric {
			numeric++
		}
	}
	// Each worker's buffer for a file's column holds this many keys before
	// it is sorted and spilled.
	capKeys := 1 << 12
	if numeric > 0 {
		capKeys = max(capKeys, int(raw/8/int64(opts.Workers*len(files)*numeric)))
	}
	for range opts.Workers {
		w := &worker{p: p, rows: make([]int64, len(files)), bad: make([]badRows, len(files)),
			cells: make([]uint64, len(kinds)), status: make([]int8, len(kinds)), float: make([]bool, len(kinds))}
		for range files {
			wf := workerFile{keys: make([][]uint64, len(kinds)), runs: make([][]extsort.Run, len(kinds)),
				fkeys: make([][]uint64, len(kinds)), fruns: make([][]extsort.Run, len(kinds)),
				missing: make([]int64, len(kinds)), cats: make([]map[string]*int64, len(kinds)), catOver: make([]bool, len(kinds)),
				recent: make([][]category, len(kinds))}
			for c, k := range kinds {
				if k == Categorical {
					wf.cats[c] = map[string]*int64{}
				}
			}
			w.perFile = append(w.perFile, wf)
		}
		w.capKeys = capKeys
		p.workers = append(p.workers, w)
	}
	return p
}

// free releases the memory runs and arenas are held in: nothing read
// from the collector's runs may be used after.
func (p *collector) free() {
	p.mem.Free()
	for _, w := range p.workers {
		w.mem.Free()
		w.bufMem.Free() // when run failed before finish
	}
}

func (p *collector) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	blocks := make(chan *table.Block)
	var readers sync.WaitGroup
	for i, f := range p.files {
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			b := f.first
			for b != nil {
				b.File = i
				select {
				case blocks <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
				var err error
				if b, err = f.reader.Next(); err != nil {
					return f.readError(err)
				}
			}
			return nil
		})
	}
	go func() {
		readers.Wait()
		close(blocks)
	}()
	for _, w := range p.workers {
		g.Go(func() error {
			for b := range blocks {
				if ctx.Err() != nil {
					// Drain, giving the buffers back, so a reader waiting
					// for one can see the cancellation and finish.
					p.files[b.File].reader.Release(b)
					continue
				}
				err := w.parse(b)
				p.files[b.File].reader.Release(b)
				if err != nil {
					return err
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return w.finish()
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for fi := range p.files {
		for _, w := range p.workers {
			p.rows[fi] += w.rows[fi]
			p.bad[fi].merge(&w.bad[fi])
		}
	}
	return nil
}

// parse reads every record of a block into the worker's buffers. A plain
// record (table.ScanPlain) is split and its numbers parsed in one pass;
// any other goes through the general parser.
func (w *worker) parse(b *table.Block) error {
	f := w.p.files[b.File]
	wf := &w.perFile[b.File]
	for _, bl := range b.Bad {
		w.bad[b.File].add(bl.Line, bl.Reason)
	}
	if len(w.plain) < len(f.plainKinds) {
		w.plain = make([]table.PlainCell, len(f.plainKinds))
	}
	cells := w.plain[:len(f.plainKinds)]
	data, line := b.Data, b.Line
	for pos := 0; pos < len(data); {
		if next, ok := table.ScanPlain(data, pos, f.plainKinds, cells); ok {
			pos = next
			line++
			w.rows[b.File]++
			for _, fc := range f.numeric {
				cell := &cells[fc.field]
				if cell.Missing {
					wf.missing[fc.col]++
					continue
				}
				k, float := w.p.cellKey(fc.col, cell)
				// The common case inline: room in the buffer, no spill.
				if keys := wf.keys[fc.col]; !float && len(keys)+1 < cap(keys) {
					wf.keys[fc.col] = append(keys, k)
					continue
				}
				if err := w.add(wf, fc.col, k, float); err != nil {
					return err
				}
			}
			for _, fc := range f.categorical {
				if raw := cells[fc.field].Text; len(raw) == 0 {
					wf.missing[fc.col]++
				} else {
					w.count(wf, fc.col, raw)
				}
			}
			continue
		}
		w.parser.Reset(data[pos:], line)
		fields, line0, problem, ok := w.parser.Next()
		rest, nextLine := w.parser.Rest()
		pos, line = len(data)-len(rest), nextLine
		if !ok {
			break // blank lines ended the block
		}
		if err := w.record(b.File, fields, line0, problem); err != nil {
			return err
		}
	}
	return nil
}

// record reads one record the general parser split.
func (w *worker) record(fi int, fields [][]byte, line int64, problem string) error {
	f := w.p.files[fi]
	wf := &w.perFile[fi]
	if problem != "" {
		w.bad[fi].add(line, problem)
		return nil
	}
	if len(fields) != len(f.header) {
		w.bad[fi].add(line, fmt.Sprintf("expected %d fields, found %d", len(f.header), len(fields)))
		return nil
	}
	// Parse the numbers first: a row with a bad one is left out whole.
	for _, fc := range f.numeric {
		raw := fields[fc.field]
		v, mant, frac, st := table.ParseDecimal(raw)
		if st == numBad {
			w.bad[fi].add(line, fmt.Sprintf("column %q: %s is not a number", f.header[fc.field], quoteCell(raw)))
			return nil
		}
		w.status[fc.col] = int8(st)
		w.cells[fc.col], w.float[fc.col] = w.p.key(fc.col, v, mant, frac)
	}
	w.rows[fi]++
	for _, fc := range f.numeric {
		c := fc.col
		if w.status[c] == numMissing {
			wf.missing[c]++
			continue
		}
		if err := w.add(wf, c, w.cells[c], w.float[c]); err != nil {
			return err
		}
	}
	for _, fc := range f.categorical {
		if raw := fields[fc.field]; len(raw) == 0 {
			wf.missing[fc.col]++
		} else {
			w.count(wf, fc.col, raw)
		}
	}
	return nil
}

// maxScaled[e] is the largest mantissa that, times 10^e, stays below 2^53,
// where DecToKey is exact.
var maxScaled = func() (m [23]int64) {
	p := int64(1)
	for e := range m {
		m[e] = (1<<53 - 1) / p
		if e < 18 {
			p *= 10
		} else {
			p = math.MaxInt64
		}
	}
	return m
}()

// pow10i holds the powers of ten an int64 holds.
var pow10i = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// key returns a numeric cell's key in column c's key space, or its
// float64 Key and float=true when the column keeps decimals and this
// value is not one at the column's scale.
func (p *collector) key(c int, v float64, mant int64, frac int) (key uint64, float bool) {
	sc := p.scales[c]
	if sc < 0 {
		return extsort.Key(v), false
	}
	if frac >= 0 && frac <= sc {
		e := sc - frac
		if a := mant; (a >= 0 && a <= maxScaled[e]) || (a < 0 && -a <= maxScaled[e]) {
			return extsort.DecKey(mant * pow10i[e]), false
		}
	}
	return extsort.Key(v), true
}

// cellKey is key for a cell ScanPlain parsed; a decimal column's
// decimal needs no float64.
func (p *collector) cellKey(c int, cell *table.PlainCell) (key uint64, float bool) {
	if sc := p.scales[c]; sc >= 0 {
		mant, frac := cell.Scaled()
		if frac <= sc {
			e := sc - frac
			if a := mant; (a >= 0 && a <= maxScaled[e]) || (a < 0 && -a <= maxScaled[e]) {
				return extsort.DecKey(mant * pow10i[e]), false
			}
		}
	}
	v, mant, frac := cell.Decimal()
	return p.key(c, v, mant, frac)
}

// add appends a key to a column's buffer, spilling it when full.
func (w *worker) add(wf *workerFile, c int, k uint64, float bool) error {
	bufs := wf.keys
	if float {
		bufs = wf.fkeys
	}
	keys := bufs[c]
	if len(keys) == cap(keys) {
		// Grow by doubling up to 8192 keys, then to the spill size, so
		// small files stay small, large ones stay in budget, and the
		// heap sees little garbage (each collection stops the parsers).
		var grown []uint64
		if size := max(1024, 2*cap(keys)); size <= 8192 && size < w.capKeys {
			grown = make([]uint64, len(keys), size)
		} else {
			grown = w.bufMem.Keys(w.capKeys)[:len(keys)] // off the heap
		}
		copy(grown, keys)
		keys = grown
	}
	keys = append(keys, k)
	bufs[c] = keys
	if len(keys) >= w.capKeys {
		return w.spillColumn(wf, c, float)
	}
	return nil
}

// finish sorts the keys left in the buffers into runs and lets the
// buffers go, so the memory is free for the statistics.
func (w *worker) finish() error {
	for fi := range w.perFile {
		wf := &w.perFile[fi]
		for c := range wf.keys {
			for _, float := range []bool{false, true} {
				if err := w.spillColumn(wf, c, float); err != nil {
					return err
				}
			}
			wf.keys[c], wf.fkeys[c] = nil, nil
		}
	}
	w.bufMem.Free()
	w.tmpKeys = nil
	return nil
}

// count adds one categorical value. The first few categories of a column
// are found by comparing bytes, cheaper than hashing for the usual column
// of a handful of categories; the rest in the map, which holds pointers so
// a category already seen costs a lookup, which does not allocate, and no
// assignment, which would copy the key.
func (w *worker) count(wf *workerFile, c int, raw []byte) {
	for _, e := range wf.recent[c] {
		// Length and first byte tell most categories apart without a
		// call to compare the bytes.
		if len(e.name) == len(raw) && e.name[0] == raw[0] && e.name == string(raw) {
			*e.n++
			return
		}
	}
	m := wf.cats[c]
	if n := m[string(raw)]; n != nil {
		*n++
		return
	}
	if len(m) >= MaxCategories {
		wf.catOver[c] = true
		return
	}
	n := new(int64(1))
	name := string(raw)
	m[name] = n
	if len(wf.recent[c]) < recentCategories {
		wf.recent[c] = append(wf.recent[c], category{name, n})
	}
}

// recentCategories is how many of a column's categories count compares
// directly before it hashes.
const recentCategories = 8

type category struct {
	name string
	n    *int64
}

// spillColumn sorts a column's buffer into a run: packed in memory while
// the budget lasts, else in a temporary file.
func (w *worker) spillColumn(wf *workerFile, c int, float bool) error {
	bufs, runs := wf.keys, wf.runs
	if float {
		bufs, runs = wf.fkeys, wf.fruns
	}
	keys := bufs[c]
	if len(keys) == 0 {
		return nil
	}
	if len(w.tmpKeys) < len(keys) {
		w.tmpKeys = make([]uint64, max(len(keys), w.capKeys))
	}
	extsort.RadixSort(keys, w.tmpKeys)
	r, packed := extsort.PackIn(&w.mem, keys, func(size int) bool {
		if w.p.packed.Add(int64(size)) <= w.p.packBudget {
			return true
		}
		w.p.packed.Add(-int64(size))
		return false
	})
	if packed {
		runs[c] = append(runs[c], r)
		bufs[c] = keys[:0]
		return nil
	}
	if w.spill == nil {
		s, err := w.p.tmp.Create()
		if err != nil {
			return err
		}
		w.spill = s
	}
	r, err := w.spill.Spill(keys, w.tmpKeys)
	if err != nil {
		return err
	}
	runs[c] = append(runs[c], r)
	bufs[c] = keys[:0]
	return nil
}

// columns computes every column's statistics from the workers' data,
// a column per goroutine, Workers at a time.
func (p *collector) columns(ctx context.Context, cols []string) ([]Column, error) {
	out := make([]Column, len(cols))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Workers)
	for c, name := range cols {
		g.Go(func() error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			col := Column{Name: name, Kind: p.kinds[c]}
			var err error
			if p.kinds[c] == Numeric {
				err = p.numericColumn(&col, c)
			} else {
				p.categoricalColumn(&col, c)
			}
			out[c] = col
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *collector) numericColumn(col *Column, c int) error {
	// A decimal column with values that are not decimals at its scale
	// compares every value as a float64 Key.
	var conv func(uint64) uint64
	for _, w := range p.workers {
		for fi := range w.perFile {
			if sc := p.scales[c]; sc >= 0 && len(w.perFile[fi].fruns[c]) > 0 {
				conv = extsort.DecToKey(sc)
			}
		}
	}
	var runs [2][]extsort.Run
	var counts [2]int64
	for fi := range p.files {
		for _, w := range p.workers {
			wf := &w.perFile[fi]
			for _, r := range wf.runs[c] {
				r.Conv = conv
				runs[fi] = append(runs[fi], r)
			}
			runs[fi] = append(runs[fi], wf.fruns[c]...)
			wf.runs[c], wf.fruns[c] = nil, nil // freed as the column ends
			if fi == 0 {
				col.Missing.Reference += wf.missing[c]
			} else {
				col.Missing.Current += wf.missing[c]
			}
		}
		for _, r := range runs[fi] {
			counts[fi] += r.N
		}
	}
	col.Values = Pair{Reference: counts[0], Current: counts[1]}
	if counts[0] == 0 || counts[1] == 0 {
		return nil
	}
	var ks, psi float64
	var err error
	if p.gathered(counts) {
		arena := <-p.arenas
		ks, psi, err = p.sortedStats(runs, counts, arena)
		p.arenas <- arena
	} else {
		ks, psi, err = p.mergedStats(runs, counts)
	}
	if err != nil {
		return err
	}
	col.KS, col.PSI = &ks, &psi
	return nil
}

// gathered says whether a column of counts keys is gathered whole in
// memory (sortedStats) rather than merged.
func (p *collector) gathered(counts [2]int64) bool {
	return 2*counts[0]+counts[1] <= p.gatherKeys && !p.opts.noGather
}

// prepareColumns makes the buffers the column goroutines gather keys
// into: one arena each, three times the most keys one file has in a
// gathered column, made once instead of a column at a time, before the
// heap is collected for the column phase: that phase then allocates
// almost nothing, so no collection runs while it sorts (a collection has
// to stop tight loops, which costs more than the collection itself).
func (p *collector) prepareColumns() {
	most := int64(0)
	for c, k := range p.kinds {
		if k != Numeric {
			continue
		}
		var counts [2]int64
		for fi := range p.files {
			for _, w := range p.workers {
				wf := &w.perFile[fi]
				for _, rs := range [][]extsort.Run{wf.runs[c], wf.fruns[c]} {
					for _, r := range rs {
						counts[fi] += r.N
					}
				}
			}
		}
		if p.gathered(counts) {
			most = max(most, counts[0], counts[1])
		}
	}
	if most == 0 {
		return
	}
	p.arenas = make(chan []uint64, p.opts.Workers)
	for range p.opts.Workers {
		p.arenas <- p.mem.Keys(int(3 * most))
	}
}

// sortedStats computes a column's statistics from its runs gathered and
// sorted whole in arena, when they fit in the budget: cheaper than
// merging them. Keys that lie close together (decimals at one scale, say
// 5 digits between -5 and 5) are counted into a histogram instead,
// cheaper still.
func (p *collector) sortedStats(runs [2][]extsort.Run, counts [2]int64, arena []uint64) (ks, psi float64, err error) {
	if lo, size, ok := p.countable(runs, counts, int64(len(arena))); ok {
		return p.countedStats(runs, counts, lo, arena[:size])
	}
	m := int64(len(arena) / 3)
	var sorted [2][]uint64
	for fi := range runs {
		keys, err := extsort.Gather(runs[fi], arena[int64(fi)*m:int64(fi)*m:int64(fi+1)*m])
		if err != nil {
			return 0, 0, err
		}
		extsort.RadixSort(keys, arena[2*m:])
		sorted[fi] = keys
	}
	ks, psi = numericStats(extsort.NewSliceStream(sorted[0]), extsort.NewSliceStream(sorted[1]), counts[0], counts[1])
	return ks, psi, nil
}

// countable says whether a column's runs are counted into a histogram
// (countedStats) rather than sorted: every run packed and not converted,
// the range of the keys at most limit and at most four times the keys
// counted (past that, scanning the buckets costs more than sorting), and
// no count that could overflow a bucket's 32 bits.
func (p *collector) countable(runs [2][]extsort.Run, counts [2]int64, limit int64) (lo uint64, size int64, ok bool) {
	if p.opts.noCount || counts[0] >= 1<<32 || counts[1] >= 1<<32 {
		return 0, 0, false
	}
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, rs := range runs {
		for _, r := range rs {
			if r.N == 0 {
				continue
			}
			if r.Packed == nil || r.Conv != nil {
				return 0, 0, false
			}
			lo, hi = min(lo, r.Lo), max(hi, r.Hi)
		}
	}
	if lo > hi || hi-lo >= uint64(min(limit, 4*(counts[0]+counts[1]))) {
		return 0, 0, false
	}
	return lo, int64(hi-lo) + 1, true
}

// countedStats computes a column's statistics from a histogram of its
// keys in hist: a bucket a key from lo, the reference's count in the low
// 32 bits, the current's in the high.
func (p *collector) countedStats(runs [2][]extsort.Run, counts [2]int64, lo uint64, hist []uint64) (ks, psi float64, err error) {
	clear(hist)
	for fi, inc := range []uint64{1, 1 << 32} {
		if err := extsort.Count(runs[fi], lo, hist, inc); err != nil {
			return 0, 0, err
		}
	}
	ks, psi = histogramStats(hist, counts[0], counts[1])
	return ks, psi, nil
}

// mergedStats computes a column's statistics by merging its runs.
func (p *collector) mergedStats(runs [2][]extsort.Run, counts [2]int64) (ks, psi float64, err error) {
	var streams [2]*extsort.Merged
	for fi := range runs {
		rs, err := extsort.Compact(runs[fi], p.tmp, cmp.Or(p.opts.fanIn, extsort.MaxFanIn))
		if err != nil {
			return 0, 0, err
		}
		streams[fi] = extsort.NewMerged(rs)
	}
	ks, psi = numericStats(streams[0], streams[1], counts[0], counts[1])
	for _, s := range streams {
		if err := s.Err(); err != nil {
			return 0, 0, err
		}
	}
	return ks, psi, nil
}

func (p *collector) categoricalColumn(col *Column, c int) {
	var cats [2]map[string]int64
	var counts [2]int64
	over := false
	for fi := range p.files {
		cats[fi] = map[string]int64{}
		for _, w := range p.workers {
			wf := &w.perFile[fi]
			for name, n := range wf.cats[c] {
				cats[fi][name] += *n
				counts[fi] += *n
			}
			over = over || wf.catOver[c]
			if fi == 0 {
				col.Missing.Reference += wf.missing[c]
			} else {
				col.Missing.Current += wf.missing[c]
			}
		}
		over = over || len(cats[fi]) > MaxCategories
	}
	col.Values = Pair{Reference: counts[0], Current: counts[1]}
	if over || counts[0] == 0 || counts[1] == 0 {
		if over {
			col.Values = Pair{} // the counts stopped at the limit
		}
		return
	}
	psi, share, fresh := categoricalStats(cats[0], cats[1], counts[0], counts[1], maxNewCategories)
	linf, js := shareDistances(cats[0], cats[1], counts[0], counts[1])
	col.PSI, col.NewShare, col.LInf, col.JS = &psi, &share, &linf, &js
	for _, name := range fresh {
		col.NewCategories = append(col.NewCategories, printable(name))
	}
}

// badRows keeps a count and the first MaxBadRowLines rows by line.
type badRows struct {
	count int64
	first []BadRow
}

func (b *badRows) add(line int64, reason string) {
	b.count++
	i, _ := slices.BinarySearchFunc(b.first, line, func(r BadRow, l int64) int {
		return int(min(max(r.Line-l, -1), 1))
	})
	if i >= MaxBadRowLines {
		return
	}
	b.first = slices.Insert(b.first, i, BadRow{Line: line, Reason: reason})
	if len(b.first) > MaxBadRowLines {
		b.first = b.first[:MaxBadRowLines]
	}
}

func (b *badRows) merge(o *badRows) {
	for _, r := range o.first {
		b.add(r.Line, r.Reason)
	}
	b.count += o.count - int64(len(o.first))
}

func (b *badRows) result() BadRows {
	return BadRows{Count: b.count, First: append([]BadRow{}, b.first...)}
}

// quoteCell shows a cell in a message: quoted, cut to 40 bytes.
func quoteCell(b []byte) string {
	const limit = 40
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + "..."
	}
	return strconv.Quote(string(b))
}

// printable makes a category safe to print: valid UTF-8, no control
// characters (a category is data, and data may hold anything).
func printable(s string) string {
	if utf8.ValidString(s) && !containsControl(s) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func containsControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}
