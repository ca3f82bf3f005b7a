package mask

import (
	"fmt"
	"strconv"
	"strings"
)

// fieldPath is a parsed Config.Fields entry. A bare name (no dots, not
// anchored, not "*") is kept in Masker.names instead, for a cheaper match.
type fieldPath struct {
	name     string // bare name, lower case
	segs     []ruleSeg
	anchored bool
}

type ruleSeg struct {
	name string // lower case; "" for *
	idx  int    // the array index name spells, or -1
	any  bool
}

// seg is one step of the path to the value being walked.
type seg struct {
	key []byte // nil for an array element
	idx int
}

func parseField(f string) (fieldPath, error) {
	var fp fieldPath
	var parts []string
	switch {
	case strings.HasPrefix(f, "/"):
		fp.anchored = true
		for _, p := range strings.Split(f[1:], "/") {
			parts = append(parts, strings.NewReplacer("~1", "/", "~0", "~").Replace(p))
		}
	case strings.HasPrefix(f, "$."):
		fp.anchored = true
		parts = strings.Split(f[2:], ".")
	default:
		parts = strings.Split(f, ".")
	}
	for _, p := range parts {
		if p == "" {
			return fp, fmt.Errorf("mask: field %q has an empty segment", f)
		}
		if p == "*" && !strings.HasPrefix(f, "/") {
			fp.segs = append(fp.segs, ruleSeg{any: true, idx: -1})
			continue
		}
		if strings.Contains(p, "*") && !strings.HasPrefix(f, "/") {
			return fp, fmt.Errorf("mask: field %q: * must be a whole segment", f)
		}
		idx := -1
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && strconv.Itoa(n) == p {
			idx = n
		}
		fp.segs = append(fp.segs, ruleSeg{name: asciiLower(p), idx: idx})
	}
	if !fp.anchored && len(fp.segs) == 1 && !fp.segs[0].any {
		fp.name = fp.segs[0].name
	}
	return fp, nil
}

func (r *fieldPath) match(path []seg) bool {
	if len(path) < len(r.segs) || r.anchored && len(path) != len(r.segs) {
		return false
	}
	path = path[len(path)-len(r.segs):]
	for i, rs := range r.segs {
		p := path[i]
		switch {
		case rs.any:
		case p.key == nil:
			if p.idx != rs.idx {
				return false
			}
		default:
			if !equalFoldBytes(p.key, rs.name) {
				return false
			}
		}
	}
	return true
}

// fieldMatch reports whether the value at path (whose last step is key,
// or an array element when key is nil) is to be replaced whole.
func (m *Masker) fieldMatch(key []byte, path []seg) bool {
	if key != nil {
		for _, n := range m.names {
			if equalFoldBytes(key, n) {
				return true
			}
		}
	}
	for i := range m.paths {
		if m.paths[i].match(path) {
			return true
		}
	}
	return false
}

// equalFoldBytes compares b with the lower-case ASCII string s.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}
