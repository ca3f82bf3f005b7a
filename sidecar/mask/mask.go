package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Config says what a Masker redacts. The zero Config redacts nothing.
type Config struct {
	// Detectors enables built-in detectors by name, case-insensitively:
	// "secrets" (all of the secret kinds below), "email", "creditCard",
	// "phone", "ssn", "iban", "ipAddress", or one secret kind alone:
	// "awsAccessKey", "awsSecretKey", "githubToken", "gitlabToken",
	// "slackToken", "slackWebhook", "stripeKey", "googleAPIKey",
	// "openAIKey", "privateKey", "jwt", "bearerToken", "basicAuth",
	// "credential". See DetectorNames.
	Detectors []string

	// Fields are JSON member names or paths whose values are replaced
	// whole, whatever they contain (kind "field"). Syntax:
	//
	//	password        a member named password at any depth
	//	user.ssn        a member ssn of a member user, at any depth
	//	items.*.token   * is any one key or array index
	//	items.0.token   a number also matches that array index
	//	$.result.token  $. anchors the path at the document root
	//	/result/token   a JSON pointer (RFC 6901), anchored like $.
	//
	// Names compare ASCII case-insensitively. Dotted paths cannot name keys that
	// contain "." or are "*"; use a JSON pointer for those. A JSON document
	// found inside a string value has its own root. null and "" are left
	// alone; any other value becomes a replacement string.
	Fields []string

	// Patterns are custom RE2 expressions applied to every string. If the
	// expression has a capturing group, only the first group is replaced.
	Patterns []Pattern

	// Replacement is the text that stands in for a match. {kind} expands to
	// the detector name (or "field", or the Pattern's name) and {hash} to
	// the first 16 hex digits of HMAC-SHA256(HashKey, matched value). It
	// may not contain control characters, '"' or '\'. Default:
	// "[REDACTED:{kind}]", or "[REDACTED:{kind}:{hash}]" with a HashKey.
	Replacement string

	// HashKey, when set, makes replacements keyed hashes of the value, so
	// that equal values stay correlatable without being revealed. At least
	// 16 bytes. Replacement must then contain {hash}.
	HashKey []byte
}

// Pattern is a custom detector.
type Pattern struct {
	// Name is the {kind} of its replacements and its Stats key: a letter
	// followed by up to 62 letters, digits, '_', '-' or '.', distinct from
	// the built-in names.
	Name string
	// Regex is an RE2 expression (package regexp syntax) that does not
	// match the empty string.
	Regex string
}

// Masker redacts secrets and personal data from JSON and text. It is
// immutable and safe for concurrent use.
type Masker struct {
	on       [numKinds]bool
	anyText  bool // some detector or pattern looks at string contents
	names    []string
	paths    []fieldPath
	patterns []pattern
	repl     []replSeg
	replPfx  string // literal start of the replacement, to skip masked values
	maxRepl  int    // longest replacement the Masker can write
	hashKey  []byte
	pool     sync.Pool // *state
}

type pattern struct {
	name  string
	re    *regexp.Regexp
	group bool // replace submatch 1 instead of the whole match
}

type replSeg struct {
	lit string
	op  byte // 0 literal, 'k' kind, 'h' hash
}

const (
	hashHexLen     = 16
	minHashKeyLen  = 16
	maxReplacement = 128
	maxPatterns    = 1 << 12
)

var patternName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,62}$`)

// New compiles cfg. Errors name the offending entry but never echo data.
func New(cfg Config) (*Masker, error) {
	m := &Masker{}
	for _, d := range cfg.Detectors {
		ks, ok := detectorKinds(strings.TrimSpace(d))
		if !ok {
			return nil, fmt.Errorf("mask: unknown detector %q (known: %s)", d, strings.Join(DetectorNames(), ", "))
		}
		for _, k := range ks {
			m.on[k] = true
			m.anyText = true
		}
	}
	if len(cfg.Patterns) > maxPatterns {
		return nil, fmt.Errorf("mask: %d patterns, at most %d", len(cfg.Patterns), maxPatterns)
	}
	seen := map[string]bool{}
	for _, p := range cfg.Patterns {
		if !patternName.MatchString(p.Name) {
			return nil, fmt.Errorf("mask: pattern name %q: want a letter then letters, digits, '_', '-' or '.' (at most 63)", p.Name)
		}
		if _, builtin := detectorKinds(p.Name); builtin || equalFold(p.Name, "field") || seen[strings.ToLower(p.Name)] {
			return nil, fmt.Errorf("mask: pattern name %q is already taken", p.Name)
		}
		seen[strings.ToLower(p.Name)] = true
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return nil, fmt.Errorf("mask: pattern %q: %w", p.Name, err)
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("mask: pattern %q matches the empty string", p.Name)
		}
		m.patterns = append(m.patterns, pattern{name: p.Name, re: re, group: re.NumSubexp() > 0})
		m.anyText = true
	}
	for _, f := range cfg.Fields {
		fp, err := parseField(f)
		if err != nil {
			return nil, err
		}
		if fp.name != "" {
			m.names = append(m.names, fp.name)
		} else {
			m.paths = append(m.paths, fp)
		}
	}
	if len(cfg.HashKey) > 0 {
		if len(cfg.HashKey) < minHashKeyLen {
			return nil, fmt.Errorf("mask: HashKey has %d bytes, want at least %d", len(cfg.HashKey), minHashKeyLen)
		}
		m.hashKey = append([]byte(nil), cfg.HashKey...)
	}
	if err := m.parseReplacement(cfg.Replacement); err != nil {
		return nil, err
	}
	m.pool.New = func() any {
		st := &state{}
		if m.hashKey != nil {
			st.mac = hmac.New(sha256.New, m.hashKey)
		}
		return st
	}
	return m, nil
}

func (m *Masker) parseReplacement(f string) error {
	if f == "" {
		f = "[REDACTED:{kind}]"
		if m.hashKey != nil {
			f = "[REDACTED:{kind}:{hash}]"
		}
	}
	if len(f) > maxReplacement {
		return fmt.Errorf("mask: Replacement is %d bytes, at most %d", len(f), maxReplacement)
	}
	if !utf8.ValidString(f) || strings.ContainsAny(f, "\"\\") || strings.ContainsFunc(f, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New(`mask: Replacement may not contain control characters, '"' or '\'`)
	}
	longestKind := 0
	for _, n := range kindNames {
		longestKind = max(longestKind, len(n))
	}
	for _, p := range m.patterns {
		longestKind = max(longestKind, len(p.name))
	}
	hasHash := false
	for f != "" {
		i := strings.IndexByte(f, '{')
		if i < 0 {
			m.repl = append(m.repl, replSeg{lit: f})
			m.maxRepl += len(f)
			break
		}
		if i > 0 {
			m.repl = append(m.repl, replSeg{lit: f[:i]})
			m.maxRepl += i
		}
		f = f[i:]
		switch {
		case strings.HasPrefix(f, "{kind}"):
			m.repl = append(m.repl, replSeg{op: 'k'})
			m.maxRepl += longestKind
			f = f[len("{kind}"):]
		case strings.HasPrefix(f, "{hash}"):
			if m.hashKey == nil {
				return errors.New("mask: Replacement uses {hash} but HashKey is empty")
			}
			hasHash = true
			m.repl = append(m.repl, replSeg{op: 'h'})
			m.maxRepl += hashHexLen
			f = f[len("{hash}"):]
		default:
			if j := strings.IndexByte(f, '}'); j > 1 && strings.IndexFunc(f[1:j], func(r rune) bool { return r < 'a' || r > 'z' }) < 0 {
				return fmt.Errorf("mask: Replacement has unknown placeholder %s (want {kind} or {hash})", f[:j+1])
			}
			m.repl = append(m.repl, replSeg{lit: "{"})
			m.maxRepl++
			f = f[1:]
		}
	}
	if m.hashKey != nil && !hasHash {
		return errors.New("mask: HashKey is set but Replacement has no {hash}")
	}
	if len(m.repl) > 0 && m.repl[0].op == 0 {
		m.replPfx = m.repl[0].lit
	}
	return nil
}

// MaxGrowth bounds how much masking can lengthen its input: Text's output
// is at most MaxGrowth()·len(s) bytes, and JSON's and Message's at most
// (MaxGrowth()+8)·len(src), since every replacement stands in for at least
// one input byte (the 8 covers the quotes a replaced number gains inside
// JSON nested two strings deep).
func (m *Masker) MaxGrowth() int { return max(m.maxRepl, 1) }

// appendRepl writes the replacement for value v of kind k.
func (m *Masker) appendRepl(dst []byte, k kind, v []byte, st *state) []byte {
	for _, s := range m.repl {
		switch s.op {
		case 0:
			dst = append(dst, s.lit...)
		case 'k':
			if k < numKinds {
				dst = append(dst, kindNames[k]...)
			} else {
				dst = append(dst, m.patterns[k-numKinds].name...)
			}
		case 'h':
			st.mac.Reset()
			st.mac.Write(v)
			st.sum = st.mac.Sum(st.sum[:0])
			dst = hex.AppendEncode(dst, st.sum[:hashHexLen/2])
		}
	}
	return dst
}

// alreadyMasked reports whether v starts like one of our replacements, so
// that masking masked output leaves assignments and fields as they are.
func (m *Masker) alreadyMasked(v []byte) bool {
	return len(m.replPfx) > 1 && len(v) >= len(m.replPfx) && string(v[:len(m.replPfx)]) == m.replPfx
}

// state is the scratch space of one call, pooled so that the no-hit path
// does not allocate.
type state struct {
	spans []span
	lv    [maxEmbed + 1]level
	mac   hash.Hash
	sum   []byte
}

// level holds the buffers for one level of JSON-inside-a-string.
type level struct {
	dec   []byte // a decoded string value
	txt   []byte // its masked text
	inner []byte // its masked JSON, when it is JSON
	path  []seg
}

const maxPooled = 1 << 20

func (m *Masker) get() *state { return m.pool.Get().(*state) }

func (m *Masker) put(st *state) {
	if cap(st.spans) > maxPooled/16 {
		st.spans = nil
	}
	for i := range st.lv {
		l := &st.lv[i]
		if cap(l.dec) > maxPooled {
			l.dec = nil
		}
		if cap(l.txt) > maxPooled {
			l.txt = nil
		}
		if cap(l.inner) > maxPooled {
			l.inner = nil
		}
		clear(l.path[:cap(l.path)])
		if cap(l.path) > 1024 {
			l.path = nil
		}
	}
	m.pool.Put(st)
}

// Text appends s to dst with every detected secret, personal datum and
// custom pattern match replaced. Field rules do not apply to plain text.
// When nothing matches, dst is s appended unchanged.
func (m *Masker) Text(dst, s []byte) ([]byte, Stats) {
	var stats Stats
	if !m.anyText {
		return append(dst, s...), stats
	}
	st := m.get()
	defer m.put(st)
	if spans := m.scan(st, s); len(spans) > 0 {
		return m.emit(dst, s, spans, st, &stats), stats
	}
	return append(dst, s...), stats
}

// emit appends s with spans (sorted, disjoint) replaced.
func (m *Masker) emit(dst, s []byte, spans []span, st *state, stats *Stats) []byte {
	last := 0
	for _, sp := range spans {
		dst = append(dst, s[last:sp.start]...)
		dst = m.appendRepl(dst, sp.kind, s[sp.start:sp.end], st)
		stats.add(m, sp.kind)
		last = sp.end
	}
	return append(dst, s[last:]...)
}
