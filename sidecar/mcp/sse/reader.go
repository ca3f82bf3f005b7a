package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// DefaultMaxEventSize bounds an event when NewReader is given no bound.
const DefaultMaxEventSize = 16 << 20

// ErrEventTooLarge is returned by Read for an event larger than the
// Reader's bound.
var ErrEventTooLarge = errors.New("sse: event exceeds the size limit")

// fieldOverhead is the longest field name plus ": ", so that a bound on the
// event's values also bounds each line.
const fieldOverhead = len("retry: ")

// Reader reads events from an event stream. It is not safe for concurrent
// use.
type Reader struct {
	br      *bufio.Reader
	max     int
	data    []byte
	line    []byte
	started bool
	skipLF  bool // the last line ended in CR: a following LF belongs to it
	err     error
}

// NewReader returns a Reader of r for events of at most maxEventSize bytes
// of field values (DefaultMaxEventSize if maxEventSize <= 0).
func NewReader(r io.Reader, maxEventSize int) *Reader {
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	return &Reader{br: bufio.NewReaderSize(r, 16<<10), max: maxEventSize}
}

// Read returns the next event: fields up to an empty line, comments
// ignored. Lines end with CRLF, LF or CR. Event.Data aliases the Reader's
// buffer and is valid only until the next Read.
//
// At the end of the stream Read returns io.EOF, or io.ErrUnexpectedEOF when
// the stream ends inside an event (which is then dropped, as an
// EventSource would). After an error, every Read returns it again.
func (r *Reader) Read() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	ev, err := r.read()
	if err != nil {
		r.err = err
	}
	return ev, err
}

func (r *Reader) read() (Event, error) {
	if !r.started {
		r.started = true
		r.skipBOM()
	}
	var ev Event
	r.data = r.data[:0]
	inEvent, hasData := false, false
	size := 0
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && (inEvent || len(line) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if !inEvent {
				continue
			}
			ev.Data = r.data
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if size += len(value) + 1; size > r.max {
				return Event{}, ErrEventTooLarge
			}
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			if size += len(value); size > r.max {
				return Event{}, ErrEventTooLarge
			}
			ev.Type = eventType(value)
		case "id":
			if bytes.IndexByte(value, 0) >= 0 {
				continue // the spec ignores ids with NUL
			}
			if size += len(value); size > r.max {
				return Event{}, ErrEventTooLarge
			}
			ev.ID = string(value)
		case "retry":
			ms, ok := retryValue(value)
			if !ok {
				continue // the spec ignores a retry that is not all digits
			}
			ev.Retry = ms
		default:
			continue // unknown fields are ignored
		}
		inEvent = true
	}
}

// eventType returns the event type without allocating for common ones.
func eventType(v []byte) string {
	switch string(v) {
	case "message":
		return "message"
	case "endpoint":
		return "endpoint"
	}
	return string(v)
}

func retryValue(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

func (r *Reader) skipBOM() {
	if b, err := r.br.Peek(1); err != nil || b[0] != 0xEF {
		return
	}
	if b, err := r.br.Peek(3); err == nil && string(b) == "\uFEFF" {
		_, _ = r.br.Discard(3)
	}
}

// readLine returns the next line without its terminator. The line is valid
// until the next call. At the end of the stream it returns io.EOF along
// with any unterminated text.
func (r *Reader) readLine() ([]byte, error) {
	limit := r.max + fieldOverhead
	r.line = r.line[:0]
	for {
		if r.skipLF {
			b, err := r.br.Peek(1)
			if err != nil {
				return r.line, err
			}
			r.skipLF = false
			if b[0] == '\n' {
				_, _ = r.br.Discard(1)
			}
		}
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				return r.line, err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			if len(r.line)+len(buf) > limit {
				return nil, ErrEventTooLarge
			}
			r.line = append(r.line, buf...)
			_, _ = r.br.Discard(len(buf))
			continue
		}
		if len(r.line)+i > limit {
			return nil, ErrEventTooLarge
		}
		var line []byte
		if len(r.line) == 0 {
			// The whole line is in bufio's buffer: hand it out without a
			// copy. Discard does not refill the buffer, so it stays valid
			// until the next call.
			line = buf[:i]
		} else {
			line = append(r.line, buf[:i]...)
			r.line = line
		}
		r.skipLF = buf[i] == '\r'
		_, _ = r.br.Discard(i + 1)
		return line, nil
	}
}
