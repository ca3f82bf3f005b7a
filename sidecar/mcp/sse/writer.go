package sse

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ErrInvalidField is returned by Writer.Write for an ID or Type that an
// event stream cannot carry (it contains CR, LF or NUL).
var ErrInvalidField = errors.New("sse: event id or type contains a line break or NUL")

// Writer writes events to an event stream, flushing after each. It is not
// safe for concurrent use.
type Writer struct {
	w     io.Writer
	flush func() error
	buf   []byte
}

// NewWriter returns a Writer to w. Each event is flushed when w is an
// http.ResponseWriter that can flush (through any Unwrap chain), an
// http.Flusher, or has a Flush() error method (such as bufio.Writer).
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	switch f := w.(type) {
	case http.ResponseWriter:
		rc := http.NewResponseController(f)
		wr.flush = func() error {
			if err := rc.Flush(); !errors.Is(err, http.ErrNotSupported) {
				return err
			}
			return nil
		}
	case http.Flusher:
		wr.flush = func() error { f.Flush(); return nil }
	case interface{ Flush() error }:
		wr.flush = f.Flush
	default:
		wr.flush = func() error { return nil }
	}
	return wr
}

// Write writes ev and flushes. Data is written as one data line per line
// (CRLF, LF and CR all break lines), and at least one data line is always
// written, so an event with an ID and no Data is a priming event.
func (w *Writer) Write(ev Event) error {
	if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Type, "\r\n") {
		return ErrInvalidField
	}
	b := w.buf[:0]
	if ev.ID != "" {
		b = append(append(append(b, "id: "...), ev.ID...), '\n')
	}
	if ev.Type != "" {
		b = append(append(append(b, "event: "...), ev.Type...), '\n')
	}
	if ev.Retry > 0 {
		b = append(strconv.AppendInt(append(b, "retry: "...), int64(ev.Retry), 10), '\n')
	}
	data := ev.Data
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			b = appendData(b, data)
			break
		}
		b = appendData(b, data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b = append(b, '\n')
	w.buf = b
	return w.send(b)
}

func appendData(b, line []byte) []byte {
	if len(line) == 0 {
		return append(b, "data:\n"...)
	}
	return append(append(append(b, "data: "...), line...), '\n')
}

// Comment writes a comment line, which readers ignore: a keep-alive for
// intermediaries while nothing else is sent. Line breaks in text are
// replaced by spaces.
func (w *Writer) Comment(text string) error {
	b := append(w.buf[:0], ": "...)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	b = append(b, "\n\n"...)
	w.buf = b
	return w.send(b)
}

func (w *Writer) send(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	return w.flush()
}
