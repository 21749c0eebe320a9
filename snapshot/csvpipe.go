package snapshot

import (
	"encoding/csv"
	"errors"
	"io"
	"runtime"
	"strconv"
	"sync"
)

// Reading a CSV file on several cores
//
// Splitting records must run in order (a quoted cell may hold a line
// break), and so must the checks that need every earlier row (duplicates)
// and the sink; parsing the cells of a record (numbers, dates, strings)
// needs nothing but the record, and is most of the work. So one goroutine
// splits records and copies them, a chunk at a time, to workers that
// parse them, and takes the parsed chunks back in their order to accept
// them. Rows and rejections come out exactly as the one-goroutine reader
// gives them.

// chunkRecords is how many records a chunk holds (a variable for tests).
var chunkRecords = 1024

// csvChunk is a run of consecutive records copied out of the splitter's
// buffer, and, once a worker has parsed it, what they gave.
type csvChunk struct {
	name    string
	cols    *columns
	data    []byte  // the records' fields back to back
	ends    []int32 // where each field ends in data
	records []chunkRecord

	rows    []Snapshot
	present [][numFields]bool
	packed  []packedRow // with pack: rows packed by packFixed
	pack    bool
	grow    int // rows to make room for before accepting this chunk's, or 0
	out     []chunkOutcome
	done    chan struct{}
}

type chunkRecord struct {
	row    int
	fields int32  // one past its last field in ends
	line   bool   // its one field is a line without quotes, for the worker to split
	csvErr string // why the splitter could not read the record, or ""
}

// chunkOutcome is a record's result: row >= 0 is an index into rows;
// otherwise rej says why it was rejected.
type chunkOutcome struct {
	row int32
	rej Rejection
}

func (c *csvChunk) reset() {
	c.data, c.ends, c.records, c.out = c.data[:0], c.ends[:0], c.records[:0], c.out[:0]
	c.grow = 0
}

func (c *csvChunk) add(row int, fields [][]byte) {
	for _, f := range fields {
		c.data = append(c.data, f...)
		c.ends = append(c.ends, int32(len(c.data)))
	}
	c.records = append(c.records, chunkRecord{row: row, fields: int32(len(c.ends))})
}

// addLine adds a record without quotes, unsplit.
func (c *csvChunk) addLine(row int, line []byte) {
	c.data = append(c.data, line...)
	c.ends = append(c.ends, int32(len(c.data)))
	c.records = append(c.records, chunkRecord{row: row, fields: int32(len(c.ends)), line: true})
}

func (c *csvChunk) addError(row int, reason string) {
	c.records = append(c.records, chunkRecord{row: row, fields: int32(len(c.ends)), csvErr: reason})
}

// parse turns the chunk's records into rows and rejections, with p.
// record is scratch space, returned for the next call.
func (c *csvChunk) parse(p *rowParser, record [][]byte) [][]byte {
	if n := len(c.records); cap(c.rows) < n {
		c.rows = make([]Snapshot, 0, n)
		c.present = make([][numFields]bool, 0, n)
	}
	c.rows, c.present, c.packed = c.rows[:0], c.present[:0], c.packed[:0]
	first := int32(0)
	for _, r := range c.records {
		fields := c.ends[first:r.fields]
		if r.csvErr != "" {
			c.out = append(c.out, chunkOutcome{row: -1, rej: Rejection{File: c.name, Row: r.row, Field: "csv", Reason: r.csvErr}})
			first = r.fields
			continue
		}
		record = record[:0]
		start := int32(0)
		if first > 0 {
			start = c.ends[first-1]
		}
		if r.line {
			record = splitLine(record, c.data[start:fields[0]:fields[0]])
		} else {
			for _, end := range fields {
				record = append(record, c.data[start:end:end])
				start = end
			}
		}
		first = r.fields
		if len(record) != len(c.cols.fields) {
			c.out = append(c.out, chunkOutcome{row: -1, rej: cellCountRejection(c.name, c.cols, r.row, record)})
			continue
		}
		j := len(c.rows)
		c.rows = append(c.rows, Snapshot{})
		c.present = append(c.present, [numFields]bool{})
		if rej, ok := parseRecord(p, c.name, c.cols, r.row, record, &c.rows[j], &c.present[j]); !ok {
			c.rows, c.present = c.rows[:j], c.present[:j]
			c.out = append(c.out, chunkOutcome{row: -1, rej: rej})
			continue
		}
		if c.pack {
			c.packed = append(c.packed, packedRow{})
			if !packFixed(&c.rows[j], &c.packed[j]) {
				c.packed[j] = packedRow{whole: -1}
			}
		}
		c.out = append(c.out, chunkOutcome{row: int32(j)})
	}
	return record
}

// csvWorkers is how many goroutines parse records; below two, the reader
// parses them itself.
func csvWorkers() int { return runtime.GOMAXPROCS(0) }

// readRecordsParallel reads the records after the header, as the loop in
// readCSVWith does, parsing them on workers. Only for a reader with a sink:
// rows are handed on, not kept.
func (rd *reader) readRecordsParallel(sp *csvSplitter, name string, cols *columns, size int64, workers int) error {
	todo := make(chan *csvChunk, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newRowParser()
			p.borrow = rd.table != nil // rows are packed before the chunk's data is reused
			var record [][]byte
			for c := range todo {
				record = c.parse(p, record)
				close(c.done)
			}
		}()
	}
	defer func() {
		close(todo)
		wg.Wait()
	}()

	// The rows are accepted in order on a goroutine of their own, so that
	// accepting one chunk (the table's appends, duplicate checks) and
	// splitting the next, each a sizeable share of the work no worker can
	// take, run side by side.
	inOrder := make(chan *csvChunk, 2*workers)
	free := make(chan *csvChunk, 3*workers+2)
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for c := range inOrder {
			<-c.done
			if c.grow > 0 {
				rd.grow(c.grow)
			}
			for _, o := range c.out {
				if o.row < 0 {
					rd.batch.Rejected = append(rd.batch.Rejected, o.rej)
					continue
				}
				var pre *packedRow
				if c.pack {
					pre = &c.packed[o.row]
				}
				rd.acceptPacked(&c.rows[o.row], &c.present[o.row], pre)
			}
			select {
			case free <- c:
			default:
			}
		}
	}()
	var cur *csvChunk
	send := func() {
		if cur == nil || len(cur.records) == 0 {
			return
		}
		cur.done = make(chan struct{})
		todo <- cur
		inOrder <- cur
		cur = nil
	}
	row := 1
	estimated := size <= 0
	var err error
	for {
		var line []byte
		var fields [][]byte
		line, fields, err = sp.readLineOrFields()
		if err == io.EOF {
			err = nil
			break
		}
		row++
		if cur == nil {
			select {
			case cur = <-free:
				cur.reset()
			default:
				cur = &csvChunk{name: name, cols: cols, pack: rd.table != nil}
			}
		}
		if err != nil {
			pe := (*csv.ParseError)(nil)
			if !errors.As(err, &pe) {
				break
			}
			cur.addError(row, pe.Err.Error()+" at line "+strconv.Itoa(pe.Line)+", column "+strconv.Itoa(pe.Column))
			err = nil
		} else {
			if !estimated && row >= 1025 {
				// Reserve room for the whole file once, from the bytes per
				// row so far; the acceptor does it, before this chunk's rows.
				estimated = true
				if perRow := sp.offset / int64(row); perRow > 0 {
					cur.grow = int(size/perRow) + 64
				}
			}
			if line != nil {
				cur.addLine(row, line)
			} else {
				cur.add(row, fields)
			}
		}
		if len(cur.records) == chunkRecords {
			send()
		}
	}
	send()
	close(inOrder)
	<-accepted
	return err
}
