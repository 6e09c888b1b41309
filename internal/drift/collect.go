package drift

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/podium-ml/podium/internal/extsort"
	"github.com/podium-ml/podium/internal/table"
)

// collector gathers every compared column's values from both files: one
// goroutine per file cuts blocks, Workers goroutines parse them. Each worker keeps its own buffers and
// category counts, so the hot path takes no locks; results are combined
// at the end. Rows are independent, so the order blocks are parsed in
// does not change any result.
type collector struct {
	files   []*fileState
	kinds   []Kind
	opts    Options
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
	cells   []float64 // one row's numeric values, before it is accepted
	status  []int8
}

// workerFile is a worker's data for one file, by compared column.
type workerFile struct {
	keys    [][]uint64
	runs    [][]extsort.Run
	missing []int64
	cats    []map[string]*int64 // nil for numeric columns
	catOver []bool              // more than MaxCategories seen
}

func newCollector(files []*fileState, kinds []Kind, opts Options, tmp *extsort.TempFiles) *collector {
	p := &collector{files: files, kinds: kinds, opts: opts, tmp: tmp,
		rows: make([]int64, len(files)), bad: make([]badRows, len(files))}
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
		capKeys = max(capKeys, int(opts.MemoryBudget/8/int64(opts.Workers*len(files)*numeric)))
	}
	for range opts.Workers {
		w := &worker{p: p, rows: make([]int64, len(files)), bad: make([]badRows, len(files)),
			cells: make([]float64, len(kinds)), status: make([]int8, len(kinds))}
		for range files {
			wf := workerFile{keys: make([][]uint64, len(kinds)), runs: make([][]extsort.Run, len(kinds)),
				missing: make([]int64, len(kinds)), cats: make([]map[string]*int64, len(kinds)), catOver: make([]bool, len(kinds))}
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
			return nil
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

// parse reads every record of a block into the worker's buffers.
func (w *worker) parse(b *table.Block) error {
	f := w.p.files[b.File]
	wf := &w.perFile[b.File]
	kinds := w.p.kinds
	for _, bl := range b.Bad {
		w.bad[b.File].add(bl.Line, bl.Reason)
	}
	w.parser.Reset(b.Data, b.Line)
	for {
		fields, line, problem, ok := w.parser.Next()
		if !ok {
			return nil
		}
		if problem != "" {
			w.bad[b.File].add(line, problem)
			continue
		}
		if len(fields) != len(f.header) {
			w.bad[b.File].add(line, fmt.Sprintf("expected %d fields, found %d", len(f.header), len(fields)))
			continue
		}
		// Parse the numbers first: a row with a bad one is left out whole.
		bad := ""
		for fi, raw := range fields {
			c := f.colOf[fi]
			if c < 0 || kinds[c] != Numeric {
				continue
			}
			v, st := parseNumber(raw)
			if st == numBad {
				bad = fmt.Sprintf("column %q: %s is not a number", f.header[fi], quoteCell(raw))
				break
			}
			w.cells[c], w.status[c] = v, int8(st)
		}
		if bad != "" {
			w.bad[b.File].add(line, bad)
			continue
		}
		w.rows[b.File]++
		for fi, raw := range fields {
			c := f.colOf[fi]
			if c < 0 {
				continue
			}
			if kinds[c] == Categorical {
				if len(raw) == 0 {
					wf.missing[c]++
					continue
				}
				w.count(wf, c, raw)
				continue
			}
			if w.status[c] == numMissing {
				wf.missing[c]++
				continue
			}
			keys := wf.keys[c]
			if len(keys) == cap(keys) {
				// Grow by doubling up to the spill size, never past it, so
				// small files stay small and large ones stay in budget.
				grown := make([]uint64, len(keys), min(w.capKeys, max(1024, 2*cap(keys))))
				copy(grown, keys)
				keys = grown
			}
			keys = append(keys, extsort.Key(w.cells[c]))
			wf.keys[c] = keys
			if len(keys) >= w.capKeys {
				if err := w.spillColumn(wf, c); err != nil {
					return err
				}
			}
		}
	}
}

// count adds one categorical value. The map holds pointers so a category
// already seen costs a lookup, which does not allocate, and no assignment,
// which would copy the key.
func (w *worker) count(wf *workerFile, c int, raw []byte) {
	m := wf.cats[c]
	if n := m[string(raw)]; n != nil {
		*n++
		return
	}
	if len(m) >= MaxCategories {
		wf.catOver[c] = true
		return
	}
	n := int64(1)
	m[string(raw)] = &n
}

func (w *worker) spillColumn(wf *workerFile, c int) error {
	if w.spill == nil {
		s, err := w.p.tmp.Create()
		if err != nil {
			return err
		}
		w.spill = s
	}
	keys := wf.keys[c]
	if len(w.tmpKeys) < len(keys) {
		w.tmpKeys = make([]uint64, w.capKeys)
	}
	r, err := w.spill.Spill(keys, w.tmpKeys)
	if err != nil {
		return err
	}
	wf.runs[c] = append(wf.runs[c], r)
	wf.keys[c] = keys[:0]
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
	var streams [2]*extsort.Merged
	var counts [2]int64
	var tmp []uint64 // radix sort scratch for the runs still in memory
	for fi := range p.files {
		var runs []extsort.Run
		for _, w := range p.workers {
			wf := &w.perFile[fi]
			if keys := wf.keys[c]; len(keys) > 0 {
				if len(tmp) < len(keys) {
					tmp = make([]uint64, len(keys))
				}
				extsort.RadixSort(keys, tmp)
				runs = append(runs, extsort.Run{Mem: keys, N: int64(len(keys))})
			}
			runs = append(runs, wf.runs[c]...)
			if fi == 0 {
				col.Missing.Reference += wf.missing[c]
			} else {
				col.Missing.Current += wf.missing[c]
			}
		}
		runs, err := extsort.Compact(runs, p.tmp, cmp.Or(p.opts.fanIn, extsort.MaxFanIn))
		if err != nil {
			return err
		}
		for _, r := range runs {
			counts[fi] += r.N
		}
		streams[fi] = extsort.NewMerged(runs)
	}
	col.Values = Pair{Reference: counts[0], Current: counts[1]}
	if counts[0] == 0 || counts[1] == 0 {
		return nil
	}
	ks, psi := numericStats(streams[0], streams[1], counts[0], counts[1])
	for _, s := range streams {
		if err := s.Err(); err != nil {
			return err
		}
	}
	col.KS, col.PSI = &ks, &psi
	return nil
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
