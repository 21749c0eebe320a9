package snapshot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// readJSON reads an array of objects (streamed element by element) or a
// sequence of objects. Row is the 1-based index of the object.
func (rd *reader) readJSON(r io.Reader, name string, f format) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	warned := make(map[string]bool)
	if f == formatJSONArray {
		tok, err := dec.Token()
		if err == io.EOF {
			rd.warn("%s: empty file, no rows", name)
			return nil
		}
		if err != nil {
			if !isJSONSyntax(err) {
				return err
			}
			rd.reject(Source{File: name, Row: 1}, "json", "not a JSON array: "+err.Error())
			return nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			rd.reject(Source{File: name, Row: 1}, "json", "not a JSON array of objects")
			return nil
		}
	}
	for row := 1; ; row++ {
		if f == formatJSONArray && !dec.More() {
			if _, err := dec.Token(); err != nil {
				if err != io.EOF && !isJSONSyntax(err) {
					return err
				}
				rd.warn("%s: after row %d: %v", name, row-1, err)
			}
			return nil
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF && f == formatJSONStream {
			return nil
		}
		if err == io.EOF { // inside an array that never closed
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			if !isJSONSyntax(err) {
				return err
			}
			// A JSON syntax error cannot be stepped over: say where reading stopped.
			rd.reject(Source{File: name, Row: row}, "json", err.Error()+"; the rest of the file was not read")
			return nil
		}
		rd.readObject(raw, Source{File: name, Row: row}, warned)
	}
}

// readNDJSON reads one object per line, so a broken line is rejected alone
// and the lines after it still go through. Blank lines are not rows.
func (rd *reader) readNDJSON(br *bufio.Reader, name string) error {
	warned := make(map[string]bool)
	row := 0
	for {
		line, long, err := readLineCapped(br)
		if long {
			row++
			rd.reject(Source{File: name, Row: row}, "json", lineTooLong{"line", maxLineBytes}.Error())
		} else if len(bytes.TrimSpace(line)) > 0 {
			row++
			rd.readObject(line, Source{File: name, Row: row}, warned)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLineCapped is br.ReadBytes('\n') for a line of at most maxLineBytes
// (and its newline); of a longer one it keeps nothing, reads on to its end
// and reports long.
func readLineCapped(br *bufio.Reader) (line []byte, long bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if !long && len(line)+len(frag) > maxLineBytes+1 {
			long, line = true, nil
		}
		if !long {
			line = append(line, frag...)
		}
		if err != bufio.ErrBufferFull {
			return line, long, err
		}
	}
}

func isJSONSyntax(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF)
}

// readObject reads one row object; every key is matched like a CSV header.
func (rd *reader) readObject(raw []byte, src Source, warned map[string]bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		rd.reject(src, "json", "invalid JSON: "+err.Error())
		return
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		rd.reject(src, "json", "row is not a JSON object")
		return
	}
	var row Snapshot
	s := &row
	var present [numFields]bool
	s.Source = src
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			rd.reject(src, "json", "invalid JSON: "+err.Error())
			return
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			field := strings.TrimSpace(key)
			if field == "" {
				field = "json"
			}
			rd.reject(src, field, "invalid JSON: "+err.Error())
			return
		}
		f := lookupField(key)
		v, kind := jsonScalar(val)
		if f == fExtra {
			name := strings.TrimSpace(key)
			if name == "" {
				name = "(empty name)"
			}
			if !warned[name] {
				warned[name] = true
				rd.warn("%s: unknown field %q is kept with each row but not used", src.File, name)
			}
			if v != "" {
				if s.Extra == nil {
					s.Extra = make(map[string]string, 2)
				}
				s.Extra[name] = v
			}
			continue
		}
		if kind != "" {
			rd.reject(src, Fields[f], "expected a string, number or boolean, got "+kind)
			return
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		present[f] = true
		if reason := cellTooLong(f, len(v)); reason != "" {
			rd.reject(src, Fields[f], reason)
			return
		}
		if reason := rd.p.set(s, f, v); reason != "" {
			rd.reject(src, Fields[f], reason)
			return
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		rd.reject(src, "json", "invalid JSON: "+err.Error())
		return
	}
	*rd.next() = row
	rd.accept(rd.last(), &present)
}

// jsonScalar returns a JSON value as cell text: null is empty (unknown), a
// string is its contents, numbers and booleans their literal. An object or
// array is returned as raw text with its kind, for the caller to refuse.
func jsonScalar(raw json.RawMessage) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", ""
	}
	switch raw[0] {
	case 'n':
		return "", ""
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return string(raw), ""
		}
		return s, ""
	case '{':
		return string(raw), "an object"
	case '[':
		return string(raw), "an array"
	}
	return string(raw), ""
}
