package mask

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// maxDepth is the deepest nesting accepted, as in encoding/json.
	maxDepth = 10000
	// maxEmbed is how many levels of JSON-inside-a-string are parsed as
	// JSON; deeper ones are masked as text. It also bounds output growth.
	maxEmbed = 2
)

// ErrInvalidJSON is wrapped by the errors JSON and Message return for input
// that is not one valid JSON value.
var ErrInvalidJSON = errors.New("mask: invalid JSON")

// syntaxError carries an offset and never a byte of the input.
type syntaxError struct {
	off  int
	what string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", ErrInvalidJSON, e.off, e.what)
}

func (e *syntaxError) Unwrap() error { return ErrInvalidJSON }

// JSON appends src, a JSON value, to dst with every string value masked as
// Text would (and, when a string's content is itself a JSON object or
// array, masked as JSON and re-encoded), and with the values of members
// matched by Config.Fields or — detector "credential" — named like a
// credential ("password", "api_key", "clientSecret"…) replaced. Member
// names, numbers, booleans, null and whitespace are kept byte for byte;
// the output is valid JSON. When nothing matches, dst is src appended
// unchanged.
//
// Invalid JSON (as json.Valid judges it) returns dst unchanged and an
// error wrapping ErrInvalidJSON. dst and src must not overlap.
func (m *Masker) JSON(dst, src []byte) ([]byte, Stats, error) {
	return m.walk(dst, src, false)
}

// Message is JSON for one JSON-RPC message or batch: every member of a
// message is masked except "jsonrpc", "id" and "method", so result (tool
// content, structuredContent, resource contents, prompt messages), error
// (message, data) and params (notifications and server requests carry
// payloads too) are covered at every depth. A "$." or "/" field path is
// anchored at the message: "$.result.structuredContent.ssn".
func (m *Masker) Message(dst, msg []byte) ([]byte, Stats, error) {
	return m.walk(dst, msg, true)
}

func (m *Masker) walk(dst, src []byte, msg bool) ([]byte, Stats, error) {
	st := m.get()
	defer m.put(st)
	w := m.newWalker(st, src, dst, 0)
	err := w.document(msg)
	st.lv[0].path = w.path[:0]
	if err != nil {
		return dst, Stats{}, err
	}
	return w.finish(), w.stats, nil
}

// walker rewrites one JSON document. Output is lazy: src[last:] has not
// been copied to out yet, so a document without hits is one append.
type walker struct {
	m     *Masker
	st    *state
	src   []byte
	out   []byte
	last  int
	dirty bool
	stats Stats
	level int  // levels of JSON-inside-a-string above this document
	depth int  // nesting
	keys  bool // member names matter (fields or credential names)
	track bool // keep path (a field rule is a path)
	deep  bool // look into strings at all
	path  []seg
}

func (m *Masker) newWalker(st *state, src, out []byte, level int) walker {
	keys := len(m.names) > 0 || len(m.paths) > 0 || m.on[kCredential] || m.on[kAWSSecretKey]
	return walker{
		m: m, st: st, src: src, out: out, level: level,
		keys:  keys,
		track: len(m.paths) > 0,
		deep:  m.anyText || keys,
		path:  st.lv[level].path[:0],
	}
}

func (w *walker) fail(off int, what string) error { return &syntaxError{off, what} }

func (w *walker) finish() []byte { return append(w.out, w.src[w.last:]...) }

func (w *walker) document(msg bool) error {
	i := skipWS(w.src, 0)
	var err error
	if msg {
		i, err = w.message(i)
	} else {
		i, err = w.value(i, true)
	}
	if err != nil {
		return err
	}
	if i = skipWS(w.src, i); i != len(w.src) {
		return w.fail(i, "data after the top-level value")
	}
	return nil
}

func skipWS(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

func (w *walker) value(i int, mask bool) (int, error) {
	if i >= len(w.src) {
		return i, w.fail(i, "unexpected end of input")
	}
	switch c := w.src[i]; c {
	case '{':
		return w.object(i, mask, false)
	case '[':
		return w.array(i, mask, false)
	case '"':
		return w.str(i, mask)
	case 't':
		return w.lit(i, "true")
	case 'f':
		return w.lit(i, "false")
	case 'n':
		return w.lit(i, "null")
	default:
		if c == '-' || isDigit[c] {
			return w.number(i)
		}
		return i, w.fail(i, "unexpected character")
	}
}

func (w *walker) message(i int) (int, error) {
	if i < len(w.src) {
		switch w.src[i] {
		case '{':
			return w.object(i, true, true)
		case '[':
			return w.array(i, true, true)
		}
	}
	return w.value(i, true)
}

// object walks {…} at src[i]. msg: this is a JSON-RPC message, whose
// jsonrpc, id and method members are left alone.
func (w *walker) object(i int, mask, msg bool) (int, error) {
	if w.depth++; w.depth > maxDepth {
		return i, w.fail(i, "nesting too deep")
	}
	s := w.src
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		w.depth--
		return i + 1, nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, w.fail(i, "expected a member name")
		}
		ks := i
		ke, esc, err := w.scanString(i)
		if err != nil {
			return ke, err
		}
		if i = skipWS(s, ke); i >= len(s) || s[i] != ':' {
			return i, w.fail(i, "expected ':'")
		}
		i = skipWS(s, i+1)
		maskValue := mask
		var key []byte
		if mask && (w.keys || msg) {
			key = s[ks+1 : ke-1]
			if esc {
				key = appendUnescape(nil, key)
			}
			if msg {
				switch string(key) {
				case "jsonrpc", "id", "method":
					maskValue = false
				}
			}
		}
		if maskValue && w.keys {
			if w.track {
				w.path = append(w.path, seg{key: key})
			}
			i, err = w.member(i, key)
			if w.track {
				w.path = w.path[:len(w.path)-1]
			}
		} else {
			i, err = w.value(i, maskValue)
		}
		if err != nil {
			return i, err
		}
		var more bool
		if i, more, err = w.after(i, '}'); !more {
			return i, err
		}
	}
}

// array walks […] at src[i]. msg: this is a JSON-RPC batch.
func (w *walker) array(i int, mask, msg bool) (int, error) {
	if w.depth++; w.depth > maxDepth {
		return i, w.fail(i, "nesting too deep")
	}
	s := w.src
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		w.depth--
		return i + 1, nil
	}
	for idx := 0; ; idx++ {
		var err error
		switch {
		case msg && i < len(s) && s[i] == '{':
			i, err = w.object(i, true, true)
		case mask && w.track:
			w.path = append(w.path, seg{idx: idx})
			if w.m.fieldMatch(nil, w.path) {
				i, err = w.redact(i, kField)
			} else {
				i, err = w.value(i, true)
			}
			w.path = w.path[:len(w.path)-1]
		default:
			i, err = w.value(i, mask)
		}
		if err != nil {
			return i, err
		}
		var more bool
		if i, more, err = w.after(i, ']'); !more {
			return i, err
		}
	}
}

// after reads what follows a member or element at src[i]: a comma (more
// follow, and next is the start of the next one) or close (the container
// ends, and next is just past it).
func (w *walker) after(i int, close byte) (next int, more bool, err error) {
	s := w.src
	if i = skipWS(s, i); i < len(s) {
		switch s[i] {
		case ',':
			return skipWS(s, i+1), true, nil
		case close:
			w.depth--
			return i + 1, false, nil
		}
	}
	return i, false, w.fail(i, "expected ',' or '"+string(close)+"'")
}

// member walks the value at src[i] of a member named key.
func (w *walker) member(i int, key []byte) (int, error) {
	if w.m.fieldMatch(key, w.path) {
		return w.redact(i, kField)
	}
	if i < len(w.src) && w.src[i] == '"' && (w.m.on[kCredential] || w.m.on[kAWSSecretKey]) {
		if ck, ok := credentialKey(key); ok {
			e, esc, err := w.scanString(i)
			if err != nil {
				return e, err
			}
			v := w.src[i+1 : e-1]
			if esc {
				v = w.decode(v)
			}
			if k := w.m.credentialValue(ck, v); k != numKinds {
				w.replace(i+1, e-1, k, v, false)
				return e, nil
			}
			w.maskString(i, e, esc)
			return e, nil
		}
	}
	return w.value(i, true)
}

// redact replaces the whole value at src[i] (but not null or "").
func (w *walker) redact(i int, k kind) (int, error) {
	if i < len(w.src) {
		switch w.src[i] {
		case '"':
			e, esc, err := w.scanString(i)
			if err != nil || e-i == 2 {
				return e, err
			}
			v := w.src[i+1 : e-1]
			if esc {
				v = w.decode(v)
			}
			w.replace(i+1, e-1, k, v, false)
			return e, nil
		case 'n':
			return w.lit(i, "null")
		}
	}
	e, err := w.value(i, false)
	if err != nil {
		return e, err
	}
	w.replace(i, e, k, w.src[i:e], true)
	return e, nil
}

// replace writes the replacement for v in place of src[a:b], in quotes if
// quote (a non-string value becomes a string).
func (w *walker) replace(a, b int, k kind, v []byte, quote bool) {
	w.out = append(w.out, w.src[w.last:a]...)
	if quote {
		w.out = append(w.out, '"')
	}
	w.out = w.m.appendRepl(w.out, k, v, w.st)
	if quote {
		w.out = append(w.out, '"')
	}
	w.last, w.dirty = b, true
	w.stats.add(w.m, k)
}

func (w *walker) decode(raw []byte) []byte {
	l := &w.st.lv[w.level]
	l.dec = appendUnescape(l.dec[:0], raw)
	return l.dec
}

func (w *walker) str(i int, mask bool) (int, error) {
	e, esc, err := w.scanString(i)
	if err == nil && mask && w.deep {
		w.maskString(i, e, esc)
	}
	return e, err
}

// maskString masks the content of the valid string src[i:e].
func (w *walker) maskString(i, e int, esc bool) {
	raw := w.src[i+1 : e-1]
	if !esc {
		// Raw bytes are the content: mask in place, nothing to re-encode.
		// (Without a backslash there is no quote, so no embedded object.)
		if spans := w.m.scan(w.st, raw); len(spans) > 0 {
			w.out = append(w.out, w.src[w.last:i+1]...)
			w.out = w.m.emit(w.out, raw, spans, w.st, &w.stats)
			w.last, w.dirty = e-1, true
		}
		return
	}
	dec := w.decode(raw)
	if w.level < maxEmbed && looksLikeJSON(dec) {
		if out, ok := w.embedded(dec); ok {
			if out != nil {
				w.out = append(w.out, w.src[w.last:i+1]...)
				w.out = appendEscaped(w.out, out)
				w.last, w.dirty = e-1, true
			}
			return
		}
	}
	spans := w.m.scan(w.st, dec)
	if len(spans) == 0 {
		return
	}
	l := &w.st.lv[w.level]
	l.txt = w.m.emit(l.txt[:0], dec, spans, w.st, &w.stats)
	w.out = append(w.out, w.src[w.last:i+1]...)
	w.out = appendEscaped(w.out, l.txt)
	w.last, w.dirty = e-1, true
}

// embedded masks dec, a string's content, as a JSON document with its own
// root. ok is false if dec is not JSON; out is nil if nothing changed.
func (w *walker) embedded(dec []byte) (out []byte, ok bool) {
	l := &w.st.lv[w.level]
	in := w.m.newWalker(w.st, dec, l.inner[:0], w.level+1)
	err := in.document(false)
	w.st.lv[w.level+1].path = in.path[:0]
	if err != nil {
		return nil, false
	}
	if !in.dirty {
		return nil, true
	}
	l.inner = in.finish()
	w.stats.Add(in.stats)
	return l.inner, true
}

func looksLikeJSON(s []byte) bool {
	s = bytes.TrimSpace(s)
	return len(s) >= 2 && (s[0] == '{' && s[len(s)-1] == '}' || s[0] == '[' && s[len(s)-1] == ']')
}

var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x100; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString validates the string starting at src[i] and returns the
// offset after its closing quote and whether it has escapes.
func (w *walker) scanString(i int) (int, bool, error) {
	s := w.src
	esc := false
	j := i + 1
	for {
		for j < len(s) && strPlain[s[j]] {
			j++
		}
		if j >= len(s) {
			return j, esc, w.fail(i, "unterminated string")
		}
		switch s[j] {
		case '"':
			return j + 1, esc, nil
		case '\\':
			esc = true
			if j+1 >= len(s) {
				return j, esc, w.fail(j, "unterminated string")
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(s)-j < 6 || !isHex[s[j+2]] || !isHex[s[j+3]] || !isHex[s[j+4]] || !isHex[s[j+5]] {
					return j, esc, w.fail(j, "invalid \\u escape")
				}
				j += 6
			default:
				return j, esc, w.fail(j, "invalid escape")
			}
		default:
			return j, esc, w.fail(j, "control character in string")
		}
	}
}

func (w *walker) number(i int) (int, error) {
	s, j := w.src, i
	if s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && '1' <= s[j] && s[j] <= '9':
		j = run(s, j, &isDigit)
	default:
		return j, w.fail(j, "invalid number")
	}
	if j < len(s) && s[j] == '.' {
		k := run(s, j+1, &isDigit)
		if k == j+1 {
			return k, w.fail(k, "invalid number")
		}
		j = k
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := run(s, j, &isDigit)
		if k == j {
			return k, w.fail(k, "invalid number")
		}
		j = k
	}
	return j, nil
}

func (w *walker) lit(i int, word string) (int, error) {
	if !hasPrefix(w.src, i, word) {
		return i, w.fail(i, "invalid literal")
	}
	return i + len(word), nil
}

// appendUnescape decodes the content of a valid JSON string. Unpaired
// surrogates become U+FFFD, as in encoding/json.
func appendUnescape(dst, s []byte) []byte {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		c := s[i+1]
		s = s[i+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s)
			s = s[4:]
			if utf16.IsSurrogate(r) {
				d := utf8.RuneError
				if r < 0xdc00 && len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					if d = utf16.DecodeRune(r, hex4(s[2:])); d != utf8.RuneError {
						s = s[6:]
					}
				}
				r = d
			}
			dst = utf8.AppendRune(dst, r)
		default: // " \ /
			dst = append(dst, c)
		}
	}
	return dst
}

func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			r = r<<4 | rune(c-'0')
		case c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			r = r<<4 | rune(c-'a'+10)
		}
	}
	return r
}

// appendEscaped encodes s as JSON string content, escaping only what JSON
// requires, so it is never longer than the escaped text it was decoded from.
func appendEscaped(dst, s []byte) []byte {
	const hexd = "0123456789abcdef"
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}
