package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A glob matches names with two wildcards: `*` matches any run of
// characters, `/` included (so `file:///docs/*` covers the whole tree), and
// `?` exactly one character. Every other character stands for itself. The
// common shapes (exact, prefix*, *suffix, *) are matched without the general
// backtracking loop.
type glob struct {
	kind globKind
	lit  string // the literal part for exact, prefix and suffix; the pattern for general
}

type globKind uint8

const (
	globExact globKind = iota
	globAny
	globPrefix
	globSuffix
	globGeneral
)

func compileGlob(pattern string) glob {
	star := strings.IndexByte(pattern, '*')
	switch {
	case strings.IndexByte(pattern, '?') >= 0:
		return glob{kind: globGeneral, lit: pattern}
	case star < 0:
		return glob{kind: globExact, lit: pattern}
	case pattern == "*":
		return glob{kind: globAny}
	case strings.Count(pattern, "*") > 1:
		return glob{kind: globGeneral, lit: pattern}
	case star == len(pattern)-1:
		return glob{kind: globPrefix, lit: pattern[:star]}
	case star == 0:
		return glob{kind: globSuffix, lit: pattern[1:]}
	}
	return glob{kind: globGeneral, lit: pattern}
}

func (g *glob) match(name string) bool {
	switch g.kind {
	case globExact:
		return name == g.lit
	case globAny:
		return true
	case globPrefix:
		return strings.HasPrefix(name, g.lit)
	case globSuffix:
		return strings.HasSuffix(name, g.lit)
	}
	return wildcardMatch(g.lit, name)
}

// wildcardMatch reports whether name matches pattern. On a mismatch it
// backtracks only to the last `*`, so it runs in O(len(pattern)·len(name))
// at worst and never recurses.
func wildcardMatch(pattern, name string) bool {
	px, nx := 0, 0
	starPx, starNx := -1, 0 // where to resume after the last `*`
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					_, w := utf8.DecodeRuneInString(name[nx:])
					px++
					nx += w
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		// Mismatch: let the last `*` swallow one more character.
		if starPx < 0 || starNx >= len(name) {
			return false
		}
		_, w := utf8.DecodeRuneInString(name[starNx:])
		starNx += w
		px, nx = starPx+1, starNx
	}
	return true
}

// checkGlob reports why pattern is not a valid glob for the list it is in.
// Tool and prompt names are restricted to the characters the CRD admits;
// resource URIs may hold anything but whitespace. `[`, `]` and `\` are
// refused in names because other glob dialects give them a meaning, and a
// rule that silently matched them literally would surprise its author.
func checkGlob(pattern string, uri bool) error {
	switch {
	case pattern == "":
		return fmt.Errorf("empty glob")
	case uri && len(pattern) > 2048:
		return fmt.Errorf("glob longer than 2048 bytes")
	case !uri && len(pattern) > 128:
		return fmt.Errorf("glob longer than 128 bytes")
	}
	for _, r := range pattern {
		switch {
		case unicode.IsSpace(r) || r == utf8.RuneError:
			return fmt.Errorf("invalid glob %q: whitespace and invalid UTF-8 are not allowed", pattern)
		case uri:
		case r == '[' || r == ']' || r == '\\':
			return fmt.Errorf("invalid glob %q: %q is not supported, only the wildcards * and ?", pattern, r)
		case !nameChar(r):
			return fmt.Errorf("invalid glob %q: only letters, digits, _ . / - and the wildcards * and ? are allowed", pattern)
		}
	}
	return nil
}

func nameChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '_' || r == '.' || r == '/' || r == '-' || r == '*' || r == '?'
}
