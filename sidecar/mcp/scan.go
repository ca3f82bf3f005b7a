package mcp

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// This file walks JSON text that json.Valid has already accepted, finding
// the byte ranges of object members and array elements without decoding
// them. The proxy polices a message from these ranges and forwards the
// original bytes. Every index is still bounds-checked so that a caller
// mistake can only produce "malformed", never a panic.

// span is the byte range [start, end) of a JSON value within a buffer.
type span struct{ start, end int }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i],
// or -1.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = stringEnd(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default: // number, true, false, null
		start := i
		for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ':' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// cursor walks the members of an object or the elements of an array.
type cursor struct {
	b     []byte
	i     int
	close byte
	bad   bool
}

// open starts a cursor on the object or array at b[v.start].
func open(b []byte, v span) (cursor, bool) {
	if v.start >= len(b) || v.start >= v.end {
		return cursor{}, false
	}
	switch b[v.start] {
	case '{':
		return cursor{b: b[:v.end], i: v.start + 1, close: '}'}, true
	case '[':
		return cursor{b: b[:v.end], i: v.start + 1, close: ']'}, true
	}
	return cursor{}, false
}

// begin reports whether another entry follows, consuming the separator.
func (c *cursor) begin() bool {
	if c.bad {
		return false
	}
	i := skipSpace(c.b, c.i)
	if i < len(c.b) && c.b[i] == ',' {
		i = skipSpace(c.b, i+1)
	}
	if i >= len(c.b) {
		c.bad = true
		return false
	}
	c.i = i
	if c.b[i] == c.close {
		c.i = i + 1
		return false
	}
	return true
}

// value reads the value at the cursor.
func (c *cursor) value() (span, bool) {
	end := valueEnd(c.b, c.i)
	if end < 0 {
		c.bad = true
		return span{}, false
	}
	v := span{c.i, end}
	c.i = end
	return v, true
}

// element returns the next array element.
func (c *cursor) element() (span, bool) {
	if !c.begin() {
		return span{}, false
	}
	return c.value()
}

// member returns the next object member: its name (a JSON string, quotes
// included) and its value.
func (c *cursor) member() (key, val span, ok bool) {
	if !c.begin() {
		return span{}, span{}, false
	}
	if c.b[c.i] != '"' {
		c.bad = true
		return span{}, span{}, false
	}
	end := stringEnd(c.b, c.i)
	if end < 0 {
		c.bad = true
		return span{}, span{}, false
	}
	key = span{c.i, end}
	i := skipSpace(c.b, end)
	if i >= len(c.b) || c.b[i] != ':' {
		c.bad = true
		return span{}, span{}, false
	}
	c.i = skipSpace(c.b, i+1)
	val, ok = c.value()
	return key, val, ok
}

// names is a set of member names the package reads from one object; at
// most len(fields) of them.
type names []string

// lookup returns the index of the member name key (a JSON string with its
// quotes) in ns, or -1 for a name the package ignores. ambiguous is true for
// a name that differs from one in ns only in case: encoding/json and other
// decoders match names case-insensitively, so the server behind the proxy
// could read such a member where the proxy does not.
func (ns names) lookup(key []byte) (i int, ambiguous bool) {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		var s string
		if json.Unmarshal(key, &s) != nil {
			return -1, true
		}
		inner = []byte(s)
	}
	for i, n := range ns {
		if string(inner) == n {
			return i, false
		}
	}
	for _, n := range ns {
		if bytes.EqualFold(inner, []byte(n)) {
			return -1, true
		}
	}
	return -1, false
}

// fields holds the values of the members of one object that a caller asked
// for by names; a zero span means the member is absent.
type fields [8]span

func (f *fields) has(i int) bool { return f[i].end > 0 }

// readObject collects the members named in ns from the object v. It fails
// when v is not an object, or a wanted member is duplicated or ambiguous.
func readObject(b []byte, v span, ns names) (f fields, reason string) {
	c, ok := open(b, v)
	if !ok || c.close != '}' {
		return f, "not an object"
	}
	for {
		k, val, ok := c.member()
		if !ok {
			break
		}
		i, ambiguous := ns.lookup(b[k.start:k.end])
		if ambiguous {
			return f, "has a member name that differs from a known one only in case or is badly escaped"
		}
		if i < 0 {
			continue
		}
		if f.has(i) {
			return f, "has a duplicate \"" + ns[i] + "\" member"
		}
		f[i] = val
	}
	if c.bad {
		return f, "is malformed"
	}
	return f, ""
}

// kindOf returns the JSON type of the value at b[v.start]: one of
// '"', '{', '[', 'n' (null), 't'/'f' (booleans) or '0' (numbers).
func kindOf(b []byte, v span) byte {
	if v.start >= len(b) || v.start >= v.end {
		return 0
	}
	switch c := b[v.start]; c {
	case '"', '{', '[', 'n', 't', 'f':
		return c
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	}
	return 0
}

// stringValue decodes the JSON string at v. It refuses strings that do not
// decode to clean UTF-8 (a lone surrogate escape decodes to U+FFFD), so a
// policed name means one thing to every decoder.
func stringValue(b []byte, v span) (string, bool) {
	if kindOf(b, v) != '"' || v.end-v.start < 2 {
		return "", false
	}
	raw := b[v.start:v.end]
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		if !utf8.Valid(inner) || bytes.ContainsRune(inner, utf8.RuneError) {
			return "", false
		}
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "", false
	}
	return s, true
}

// boolValue decodes the JSON boolean at v; ok is false for other types.
func boolValue(b []byte, v span) (val, ok bool) {
	switch string(b[v.start:v.end]) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
