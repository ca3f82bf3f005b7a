package sse

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzSSEReader: Read never panics, never returns an event over the bound,
// and reads the same events however the input is split. Events it reads
// survive a write and a second read.
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"data: a\n\n", "id: 1\r\ndata:\r\n\r\n", "event: x\rdata: a\rdata: b\r\r",
		": c\n\ndata\n\n", "retry: 10\nid: \x00\n\n", "\uFEFFdata: x\n\n", "data: a",
	} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max = max%256 + 1
		if max <= 0 {
			max += 256
		}
		whole, werr := readAll(NewReader(bytes.NewReader(in), max))
		split, serr := readAll(NewReader(iotest.OneByteReader(bytes.NewReader(in)), max))
		if !errors.Is(werr, serr) && !(errors.Is(werr, io.EOF) && errors.Is(serr, io.EOF)) {
			t.Fatalf("whole: %v, split: %v", werr, serr)
		}
		if !sameEvents(whole, split) {
			t.Fatalf("whole: %s\nsplit: %s", show(whole...), show(split...))
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, e := range whole {
			if len(e.Data)+len(e.ID)+len(e.Type) > max {
				t.Fatalf("event over the bound %d: %s", max, show(e))
			}
			if err := w.Write(e); err != nil {
				t.Fatalf("Write(%s): %v", show(e), err)
			}
		}
		again, err := readAll(NewReader(&buf, 0))
		if err != io.EOF || !sameEvents(again, whole) {
			t.Fatalf("round trip: %s, %v\nwant %s", show(again...), err, show(whole...))
		}
	})
}
