package mask

import "bytes"

// SSEEvent masks one complete server-sent event: its field lines, with or
// without the blank line that ends it. The event's data lines are joined
// (with "\n", as an EventSource does) and masked as one JSON-RPC message
// (Message), or as text when they are not JSON; comment lines are masked
// as text; other fields (event, id, retry) are copied. When nothing
// matches, dst is event appended unchanged; otherwise the data is written
// back as "data: " lines, one per line of the masked data.
//
// Masking is per event. That is sound for MCP because a Streamable HTTP or
// SSE server puts exactly one JSON-RPC message in each event, and the
// proxy never splits a message across events nor joins events: a secret
// cannot straddle two events, because each event is a whole JSON value.
func (m *Masker) SSEEvent(dst, event []byte) ([]byte, Stats) {
	var stats Stats
	st := m.get()
	defer m.put(st)

	var data []byte
	nData, commentHit := 0, false
	for rest := event; len(rest) > 0; {
		var line []byte
		line, _, rest = cutLine(rest)
		if len(line) > 0 && line[0] == ':' {
			commentHit = commentHit || len(m.scan(st, line[1:])) > 0
			continue
		}
		v, ok := dataValue(line)
		if !ok {
			continue
		}
		switch nData {
		case 0:
			data = v // alias the event: no copy for the usual single line
		case 1:
			data = append(append(append(st.lv[0].dec[:0], data...), '\n'), v...)
		default:
			data = append(append(data, '\n'), v...)
		}
		nData++
	}
	var masked []byte
	if nData > 0 {
		out, s, err := m.walk(st.lv[0].txt[:0], data, true)
		if err != nil {
			out, s = m.Text(st.lv[0].txt[:0], data)
		}
		if nData > 1 {
			st.lv[0].dec = data[:0]
		}
		st.lv[0].txt = out[:0]
		masked, stats = out, s
	}
	if stats.Total() == 0 && !commentHit {
		return append(dst, event...), stats
	}

	wrote := false
	for rest := event; len(rest) > 0; {
		line, eol, r := cutLine(rest)
		rest = r
		if len(line) > 0 && line[0] == ':' {
			var s Stats
			dst, s = m.Text(append(dst, ':'), line[1:])
			stats.Add(s)
			dst = append(dst, eol...)
			continue
		}
		if _, ok := dataValue(line); !ok {
			dst = append(append(dst, line...), eol...)
			continue
		}
		if wrote {
			continue
		}
		wrote = true
		nl := eol
		if len(nl) == 0 {
			nl = []byte("\n")
		}
		for d := masked; ; {
			piece, after, more := bytes.Cut(d, []byte("\n"))
			dst = append(append(dst, "data: "...), piece...)
			if !more {
				dst = append(dst, eol...)
				break
			}
			dst = append(dst, nl...)
			d = after
		}
	}
	return dst, stats
}

// cutLine splits off the first line and its terminator (\r\n, \n or \r).
func cutLine(s []byte) (line, eol, rest []byte) {
	i := bytes.IndexAny(s, "\r\n")
	if i < 0 {
		return s, nil, nil
	}
	if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
		return s[:i], s[i : i+2], s[i+2:]
	}
	return s[:i], s[i : i+1], s[i+1:]
}

// dataValue returns the value of a "data" field line.
func dataValue(line []byte) ([]byte, bool) {
	if string(line) == "data" {
		return line[4:], true
	}
	if !bytes.HasPrefix(line, []byte("data:")) {
		return nil, false
	}
	v := line[5:]
	if len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	return v, true
}
