package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads events until an error, copying Data, which Read reuses.
func readAll(r *Reader) ([]Event, error) {
	var evs []Event
	for {
		ev, err := r.Read()
		if err != nil {
			return evs, err
		}
		ev.Data = append([]byte{}, ev.Data...)
		evs = append(evs, ev)
	}
}

func ev(id, typ, data string, retry int) Event {
	return Event{ID: id, Type: typ, Data: []byte(data), Retry: retry}
}

func show(evs ...Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "{id %q type %q data %q retry %d} ", e.ID, e.Type, e.Data, e.Retry)
	}
	return b.String()
}

func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Type != b[i].Type || !bytes.Equal(a[i].Data, b[i].Data) || a[i].Retry != b[i].Retry {
			return false
		}
	}
	return true
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []Event
		wantErr error
	}{
		{"one event", "data: {\"jsonrpc\":\"2.0\"}\n\n", 0, []Event{ev("", "", `{"jsonrpc":"2.0"}`, 0)}, io.EOF},
		{"all fields", "id: 7\nevent: message\nretry: 1500\ndata: x\n\n", 0, []Event{ev("7", "message", "x", 1500)}, io.EOF},
		{"multi-line data", "data: a\ndata:\ndata: c\n\n", 0, []Event{ev("", "", "a\n\nc", 0)}, io.EOF},
		{"CRLF", "id: 1\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", 0, []Event{ev("1", "", "a\nb", 0), ev("", "", "c", 0)}, io.EOF},
		{"CR", "id: 1\rdata: a\rdata: b\r\rdata: c\r\r", 0, []Event{ev("1", "", "a\nb", 0), ev("", "", "c", 0)}, io.EOF},
		{"mixed line endings", "data: a\r\ndata: b\rdata: c\n\r\n", 0, []Event{ev("", "", "a\nb\nc", 0)}, io.EOF},
		{"comments are ignored", ": hello\ndata: a\n: mid\ndata: b\n\n:ping\n\n", 0, []Event{ev("", "", "a\nb", 0)}, io.EOF},
		{"priming event", "id: 0/1\ndata:\n\ndata: {}\n\n", 0, []Event{ev("0/1", "", "", 0), ev("", "", "{}", 0)}, io.EOF},
		{"event with only an id", "id: 5\n\n", 0, []Event{ev("5", "", "", 0)}, io.EOF},
		{"ids do not carry over", "id: 5\ndata: a\n\ndata: b\n\n", 0, []Event{ev("5", "", "a", 0), ev("", "", "b", 0)}, io.EOF},
		{"one space is stripped", "data:x\ndata:  y\ndata\n\n", 0, []Event{ev("", "", "x\n y\n", 0)}, io.EOF},
		{"colon in value", "data: a: b\n\n", 0, []Event{ev("", "", "a: b", 0)}, io.EOF},
		{"unknown fields and bad retry are ignored", "foo: bar\nretry: 1x\nid: a\x00b\n\ndata: z\n\n", 0, []Event{ev("", "", "z", 0)}, io.EOF},
		{"blank lines between events", "\n\n\ndata: a\n\n\n\ndata: b\n\n", 0, []Event{ev("", "", "a", 0), ev("", "", "b", 0)}, io.EOF},
		{"legacy endpoint event", "event: endpoint\ndata: /messages?sessionId=1\n\n", 0, []Event{ev("", "endpoint", "/messages?sessionId=1", 0)}, io.EOF},
		{"byte order mark", "\uFEFFdata: a\n\n", 0, []Event{ev("", "", "a", 0)}, io.EOF},
		{"empty stream", "", 0, nil, io.EOF},
		{"only comments", ": keep-alive\n\n", 0, nil, io.EOF},
		{"EOF inside an event", "data: a\n\ndata: b\n", 0, []Event{ev("", "", "a", 0)}, io.ErrUnexpectedEOF},
		{"EOF inside a line", "data: a\n\ndata: b", 0, []Event{ev("", "", "a", 0)}, io.ErrUnexpectedEOF},
		{"EOF after the last event's data line, CR", "data: a\r", 0, nil, io.ErrUnexpectedEOF},
		{"event at the bound", "data: 12345\n\n", 6, []Event{ev("", "", "12345", 0)}, io.EOF},
		{"event over the bound", "data: a\n\ndata: 1234\ndata: 5\n\ndata: c\n\n", 6, []Event{ev("", "", "a", 0)}, ErrEventTooLarge},
		{"line over the bound", "data: a\n\ndata: " + strings.Repeat("x", 100) + "\n\n", 10, []Event{ev("", "", "a", 0)}, ErrEventTooLarge},
		{"endless line over the bound", strings.Repeat(":", 100), 10, nil, ErrEventTooLarge},
		{"id over the bound", "id: " + strings.Repeat("x", 20) + "\n\n", 10, nil, ErrEventTooLarge},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":     func(r io.Reader) io.Reader { return r },
		"one byte":  iotest.OneByteReader,
		"half":      iotest.HalfReader,
		"data+EOF":  iotest.DataErrReader,
		"tiny bufs": func(r io.Reader) io.Reader { return bufio.NewReaderSize(iotest.OneByteReader(r), 16) },
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				r := NewReader(wrap(strings.NewReader(tt.in)), tt.max)
				got, err := readAll(r)
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				if !sameEvents(got, tt.want) {
					t.Errorf("events:\n got %s\nwant %s", show(got...), show(tt.want...))
				}
				if _, again := r.Read(); again != err {
					t.Errorf("Read after %v = %v, want the same error", err, again)
				}
			})
		}
	}
}

func TestReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom)), 0)
	got, err := readAll(r)
	if !errors.Is(err, boom) || len(got) != 1 {
		t.Errorf("got %s, %v; want one event and %v", show(got...), err, boom)
	}
}

// A live stream sends an event and waits: Read must return that event
// without waiting for more input.
func TestReaderDoesNotWaitForMoreInput(t *testing.T) {
	for _, in := range []string{"data: a\n\n", "data: a\r\n\r\n", "data: a\r\r"} {
		pr, pw := io.Pipe()
		go pw.Write([]byte(in)) // then blocks: the stream stays open
		r := NewReader(pr, 0)
		ev, err := r.Read()
		if err != nil || string(ev.Data) != "a" {
			t.Errorf("%q: Read = %q, %v", in, ev.Data, err)
		}
		pw.Close()
	}
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"data", ev("", "", `{"a":1}`, 0), "data: {\"a\":1}\n\n"},
		{"all fields", ev("7", "message", "x", 1500), "id: 7\nevent: message\nretry: 1500\ndata: x\n\n"},
		{"multi-line data", ev("", "", "a\nb\r\nc\rd\n", 0), "data: a\ndata: b\ndata: c\ndata: d\ndata:\n\n"},
		{"priming event", ev("0/1", "", "", 0), "id: 0/1\ndata:\n\n"},
		{"leading space is kept", ev("", "", " x", 0), "data:  x\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := NewWriter(rec).Write(tt.ev); err != nil {
				t.Fatal(err)
			}
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
			if !rec.Flushed {
				t.Errorf("not flushed")
			}
		})
	}
}

func TestWriterRefusesFieldsWithLineBreaks(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, e := range []Event{{ID: "1\ndata: x"}, {ID: "a\rb"}, {ID: "a\x00"}, {Type: "x\nid: 2"}} {
		if err := w.Write(e); !errors.Is(err, ErrInvalidField) {
			t.Errorf("Write(%s) = %v, want ErrInvalidField", show(e), err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

type countingFlusher struct {
	bytes.Buffer
	flushes int
}

func (c *countingFlusher) Flush() { c.flushes++ }

func TestWriterFlushesEachEvent(t *testing.T) {
	var f countingFlusher
	w := NewWriter(&f)
	for i := 0; i < 3; i++ {
		if err := w.Write(ev("", "", "x", 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Comment("keep-alive"); err != nil {
		t.Fatal(err)
	}
	if f.flushes != 4 {
		t.Errorf("flushed %d times, want 4", f.flushes)
	}

	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := NewWriter(bw).Write(ev("", "", "x", 0)); err != nil || buf.String() != "data: x\n\n" {
		t.Errorf("through bufio.Writer: %q, %v", buf.String(), err)
	}
}

func TestRoundTrip(t *testing.T) {
	events := []Event{
		ev("0", "", "", 0), // priming
		ev("1", "message", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a\nb"}]}}`, 0),
		ev("", "", "line one\nline two\n\nline four", 0),
		ev("2", "", " leading space", 3000),
		ev("", "endpoint", "/messages?sessionId=abc", 0),
		ev("3", "", strings.Repeat("x", 5000), 0),
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i, e := range events {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := w.Comment("ping\nwith: a line break"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for rname, wrap := range map[string]func(io.Reader) io.Reader{"whole": func(r io.Reader) io.Reader { return r }, "one byte": iotest.OneByteReader, "half": iotest.HalfReader} {
		got, err := readAll(NewReader(wrap(bytes.NewReader(buf.Bytes())), 0))
		if err != io.EOF || !sameEvents(got, events) {
			t.Errorf("%s: read back %s, %v\nwant %s", rname, show(got...), err, show(events...))
		}
	}
}

// cycle repeats b forever.
type cycle struct {
	b []byte
	i int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.b[c.i:])
	c.i = (c.i + n) % len(c.b)
	return n, nil
}

func BenchmarkReadEvent4KiB(b *testing.B) {
	var buf bytes.Buffer
	NewWriter(&buf).Write(ev("42", "message", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"`+strings.Repeat("x", 4000)+`"}]}}`, 0))
	r := NewReader(&cycle{b: buf.Bytes()}, 0)
	b.ReportAllocs()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteEvent4KiB(b *testing.B) {
	e := ev("42", "message", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"`+strings.Repeat("x", 4000)+`"}]}}`, 0)
	w := NewWriter(io.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(e.Data)))
	for b.Loop() {
		if err := w.Write(e); err != nil {
			b.Fatal(err)
		}
	}
}
