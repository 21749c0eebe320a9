package snapshot

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
)

// FuzzCSVSplitMatchesEncodingCSV checks that the splitter reads every input
// as encoding/csv does: the same records, the same parse errors at the same
// line and column, and the same records after an error.
//
//	go test ./snapshot/ -run '^$' -fuzz FuzzCSVSplit -fuzztime 60s
func FuzzCSVSplitMatchesEncodingCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"a,b\r\n1,2\r\n\r\n3,4",
		"a,\"b\nc\",d\n\"x\"\"y\",z\r",
		"a\"b,c\nx,y\n1,2,3\n",
		"\"a\"b,c\n\"unterminated\nmore\n",
		"x,\"\r\n\"\n,,\n\n\r\n\"\"",
		"\"a\",\"b\" ,c\n\"\n",
		"a\rb,c\r\r\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, small uint8) {
		var r io.Reader = bytes.NewReader(data)
		if small%2 == 1 {
			r = &oneByteReader{data: data} // lines split across reads
		}
		sp := newCSVSplitter(r)
		if small%4 >= 2 {
			sp.buf = make([]byte, 1+int(small)%7) // lines longer than the buffer
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		for i := 0; ; i++ {
			want, werr := cr.Read()
			got, gerr := sp.read()
			if werr == io.EOF || gerr == io.EOF {
				if werr != gerr {
					t.Fatalf("record %d: encoding/csv %v, splitter %v", i, werr, gerr)
				}
				return
			}
			if !sameParseError(werr, gerr) {
				t.Fatalf("record %d: encoding/csv error %v, splitter %v", i, werr, gerr)
			}
			if werr != nil {
				continue // the record is partial; only the error is used
			}
			gs := make([]string, len(got))
			for j, g := range got {
				gs[j] = string(g)
			}
			if !reflect.DeepEqual(want, gs) {
				t.Fatalf("record %d: encoding/csv %q, splitter %q", i, want, gs)
			}
			if sp.offset != cr.InputOffset() {
				t.Fatalf("record %d: offset %d, encoding/csv %d", i, sp.offset, cr.InputOffset())
			}
		}
	})
}

func sameParseError(a, b error) bool {
	var pa, pb *csv.ParseError
	if errors.As(a, &pa) != errors.As(b, &pb) {
		return false
	}
	if pa == nil {
		return a == b
	}
	return *pa == *pb
}

type oneByteReader struct{ data []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

// splitLine against a plain split on every kind of byte a line may hold,
// commas at every offset of its eight-byte words.
func TestSplitLine(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	alphabet := []byte(",,,-+.\x00\x01\x2b\x2d\x7f\x80\xac\xff ab")
	for range 100000 {
		line := make([]byte, rnd.IntN(40))
		for i := range line {
			line[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		want := bytes.Split(line, []byte(","))
		got := splitLine(nil, line)
		if len(got) != len(want) {
			t.Fatalf("%q: %q, want %q", line, got, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: %q, want %q", line, got, want)
			}
		}
	}
}
