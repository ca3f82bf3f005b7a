package stdio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// edgeBytes is how much of the start and the end of a line too long to keep
// is kept, to find out whose answer it was.
const edgeBytes = 128

// readLines calls line for every line of r up to max bytes (without the
// newline and a trailing CR; empty lines are skipped) and tooLong for every
// longer one, which is skipped without being kept: with its size, its first
// and its last (up to) edgeBytes bytes. The slices passed are reused: copy
// what you keep. It returns at the end of r (nil) or on a read error.
func readLines(r io.Reader, max int, line func([]byte), tooLong func(n int, head, tail []byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf, head, tail []byte
	size := 0 // of the current line, including what was skipped
	for {
		chunk, err := br.ReadSlice('\n')
		size += len(chunk)
		switch {
		case size <= max+1: // the newline does not count
			buf = append(buf, chunk...)
		case len(buf) > 0 || len(head) == 0:
			// Crossing the limit now: keep the edges only.
			buf = append(buf, chunk...)
			head = append(head[:0], buf[:min(edgeBytes, len(buf))]...)
			tail = append(tail[:0], buf[len(buf)-min(edgeBytes, len(buf)):]...)
			buf = buf[:0]
		default:
			tail = append(tail, chunk...)
			tail = append(tail[:0], tail[len(tail)-min(edgeBytes, len(tail)):]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return err
		}
		l := bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
		switch {
		case size > max+1 || (size == max+1 && !bytes.HasSuffix(buf, []byte("\n"))):
			if len(head) == 0 { // a line of max+1 bytes at the end
				head = append(head, buf[:min(edgeBytes, len(buf))]...)
				tail = append(tail, buf[len(buf)-min(edgeBytes, len(buf)):]...)
			}
			tooLong(size, head, bytes.TrimRight(tail, "\r\n"))
		case len(l) > 0:
			line(l)
		}
		if eof {
			return nil
		}
		size, head, tail = 0, head[:0], tail[:0]
		if cap(buf) > 1<<20 {
			buf = nil // do not hold on to one big message's memory
		} else {
			buf = buf[:0]
		}
	}
}
