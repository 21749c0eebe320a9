package risk

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/simulate"
	"github.com/churnwatch/churnwatch/snapshot"
)

// portfolioFile writes the 100k x 12 benchmark portfolio into dir.
func portfolioFile(b *testing.B, accounts, weeks int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "portfolio.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := simulate.WriteBenchmarkBook(f, accounts, weeks); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// peakHeap samples the in-use heap while a benchmark runs.
type peakHeap struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startPeakHeap() *peakHeap {
	p := &peakHeap{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > p.peak.Load() {
				p.peak.Store(ms.HeapInuse)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakHeap) report(b *testing.B) {
	close(p.stop)
	p.wg.Wait()
	b.ReportMetric(float64(p.peak.Load())/(1<<20), "peak-heap-MB")
}

const benchAccounts, benchWeeks = 100_000, 12

// parseAll reads every record of path with encoding/csv and nothing else:
// the floor the ingest target is stated against.
func parseAll(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	cr.ReuseRecord = true
	n := 0
	for {
		_, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != benchAccounts*benchWeeks+1 {
		b.Fatalf("%d records", n)
	}
}

// parseFloor times parseAll, best of two, so that a benchmark can report
// its cost as a multiple of the floor measured on the same machine at
// about the same time (the machine is shared, and its speed drifts).
func parseFloor(b *testing.B, path string) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 2 {
		start := time.Now()
		parseAll(b, path)
		best = min(best, time.Since(start))
	}
	runtime.GC()
	return best
}

func BenchmarkParseOnlyEncodingCSV100k(b *testing.B) {
	path := portfolioFile(b, benchAccounts, benchWeeks)
	runtime.GC()
	peak := startPeakHeap()
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		parseAll(b, path)
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	peak.report(b)
	b.ReportMetric(float64(benchAccounts*benchWeeks)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// BenchmarkIngestAndScore100k is the acceptance target: the work of
// `starter score` on a 100k-account x 12-week CSV (read it into a Table
// with the product's reader, score every account as of the latest week,
// rank) must cost at most twice parsing the file with encoding/csv
// (x-parse-floor <= 2).
func BenchmarkIngestAndScore100k(b *testing.B) {
	benchIngestAndScore(b, func(m Model, path string) (Report, snapshot.Batch) {
		t, batch, err := snapshot.ReadTable([]string{path})
		if err != nil {
			b.Fatal(err)
		}
		if t.Len() != benchAccounts*benchWeeks {
			b.Fatalf("%d rows", t.Len())
		}
		return m.NewTableReport(t, batch, time.Time{}), batch
	})
}

// BenchmarkIngestRowsAndScore100k is the same work through ReadFiles and
// NewReport, every row a Snapshot, as callers that need the rows do it.
func BenchmarkIngestRowsAndScore100k(b *testing.B) {
	benchIngestAndScore(b, func(m Model, path string) (Report, snapshot.Batch) {
		batch, err := snapshot.ReadFiles([]string{path})
		if err != nil {
			b.Fatal(err)
		}
		if len(batch.Rows) != benchAccounts*benchWeeks {
			b.Fatalf("%d rows", len(batch.Rows))
		}
		return m.NewReport(batch, time.Time{}), batch
	})
}

func benchIngestAndScore(b *testing.B, run func(Model, string) (Report, snapshot.Batch)) {
	m := DefaultModel()
	benchAgainstFloor(b, func(path string) {
		r, batch := run(m, path)
		if len(batch.Rejected) > 0 {
			b.Fatalf("%d rejected: %+v", len(batch.Rejected), batch.Rejected[:min(3, len(batch.Rejected))])
		}
		if len(r.Accounts) != benchAccounts {
			b.Fatalf("%d assessments", len(r.Accounts))
		}
	})
}

// benchAgainstFloor runs op on the 100k x 12 file and reports its time,
// CPU and peak heap against the encoding/csv parse floor.
func benchAgainstFloor(b *testing.B, op func(path string)) {
	path := portfolioFile(b, benchAccounts, benchWeeks)
	floor := parseFloor(b, path)
	peak := startPeakHeap()
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		op(path)
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	peak.report(b)
	reportAgainstFloor(b, floor, cpu)
}

func reportAgainstFloor(b *testing.B, floor time.Duration, cpu float64) {
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(benchAccounts*benchWeeks)/perOp.Seconds(), "rows/s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(float64(perOp)/float64(floor), "x-parse-floor")
}

func BenchmarkIngestOnly100k(b *testing.B) {
	benchAgainstFloor(b, func(path string) {
		batch, err := snapshot.ReadFiles([]string{path})
		if err != nil || len(batch.Rows) != benchAccounts*benchWeeks {
			b.Fatalf("%v: %d rows", err, len(batch.Rows))
		}
	})
}

// BenchmarkReadTable100k reads the same file into a snapshot.Table, the
// compact row store (about 140 bytes a row, no pointers) for callers that
// can score from it.
func BenchmarkReadTable100k(b *testing.B) {
	benchAgainstFloor(b, func(path string) {
		t, batch, err := snapshot.ReadTable([]string{path})
		if err != nil || t.Len() != benchAccounts*benchWeeks || len(batch.Rejected) > 0 {
			b.Fatalf("%v: %d rows", err, t.Len())
		}
	})
}

// BenchmarkScorePortfolio100k scores an already ingested 100k x 12 portfolio.
func BenchmarkScorePortfolio100k(b *testing.B) {
	path := portfolioFile(b, benchAccounts, benchWeeks)
	batch, err := snapshot.ReadFiles([]string{path})
	if err != nil {
		b.Fatal(err)
	}
	m := DefaultModel()
	runtime.GC()
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		if as := m.ScorePortfolio(batch.Rows, time.Time{}); len(as) != benchAccounts {
			b.Fatalf("%d assessments", len(as))
		}
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	b.ReportMetric(float64(benchAccounts*benchWeeks)*float64(b.N)/cpu, "account-weeks/cpu-s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// BenchmarkScore scores 12-week histories one account at a time, the way a
// scan or a replay does.
func BenchmarkScore(b *testing.B) {
	const accounts = 2000
	var buf bufferWriter
	if err := simulate.WriteBenchmarkBook(&buf, accounts, benchWeeks); err != nil {
		b.Fatal(err)
	}
	batch, err := snapshot.Read(&buf, "bench.csv")
	if err != nil || len(batch.Rejected) > 0 {
		b.Fatalf("%v %+v", err, batch.Rejected)
	}
	groups := GroupByAccount(batch.Rows)
	m := DefaultModel()
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	weeks := 0
	for i := 0; b.Loop(); i++ {
		g := groups[i%len(groups)]
		a := m.ScoreSorted(g, time.Time{})
		if a.Tier == "" {
			b.Fatal("no tier")
		}
		weeks += len(g)
	}
	b.ReportMetric(float64(weeks)/b.Elapsed().Seconds(), "account-weeks/s")
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(weeks)/cpu, "account-weeks/cpu-s")
	}
}

// bufferWriter is an in-memory file for the small benchmarks.
type bufferWriter struct {
	data []byte
	off  int
}

func (w *bufferWriter) Write(p []byte) (int, error) {
	w.data = append(w.data, p...)
	return len(p), nil
}
func (w *bufferWriter) Read(p []byte) (int, error) {
	if w.off >= len(w.data) {
		return 0, io.EOF
	}
	n := copy(p, w.data[w.off:])
	w.off += n
	return n, nil
}

// BenchmarkScoreTable100k scores an already read 100k x 12 Table, the
// scoring half of BenchmarkIngestAndScore100k.
func BenchmarkScoreTable100k(b *testing.B) {
	path := portfolioFile(b, benchAccounts, benchWeeks)
	t, batch, err := snapshot.ReadTable([]string{path})
	if err != nil {
		b.Fatal(err)
	}
	m := DefaultModel()
	runtime.GC()
	b.ReportAllocs()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		if r := m.NewTableReport(t, batch, time.Time{}); len(r.Accounts) != benchAccounts {
			b.Fatalf("%d assessments", len(r.Accounts))
		}
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	b.ReportMetric(float64(benchAccounts*benchWeeks)*float64(b.N)/cpu, "account-weeks/cpu-s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}
