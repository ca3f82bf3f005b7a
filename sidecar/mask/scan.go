package mask

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"net/netip"
	"slices"
)

// span is one replacement in a text: s[start:end] stands for kind.
type span struct {
	start, end int
	kind       kind
}

// Byte classes for the one pass over a text. Detectors are entered only at
// the start of a word or at one of a few punctuation marks, so clean text
// costs a table look-up per byte and no regular expression.
const (
	cWord    = 1 // [A-Za-z0-9_]
	cSpecial = 2 // @ : = - + (
)

var (
	class      [256]uint8
	isDigit    [256]bool
	isAlnum    [256]bool // [A-Za-z0-9]
	isUpperDig [256]bool // [A-Z0-9]
	isB64URL   [256]bool // [A-Za-z0-9_-]
	isB64Std   [256]bool // [A-Za-z0-9+/=]
	isTokenCh  [256]bool // bearer token68: [A-Za-z0-9._~+/=-]
	isHookCh   [256]bool // slack webhook path: [A-Za-z0-9_/+-]
	isLocal    [256]bool // e-mail local part: [A-Za-z0-9._%+-]
	isKeyCh    [256]bool // assignment key: [A-Za-z0-9_.-]
	isIPv6Ch   [256]bool // [0-9A-Fa-f:.]
	isHex      [256]bool
	valueStop  [256]bool // ends an unquoted assigned value
	isUserinfo [256]bool // URL userinfo, including ':'
)

func init() {
	set := func(t *[256]bool, chars string) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] = true
		}
	}
	const (
		digits = "0123456789"
		upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		lowerL = "abcdefghijklmnopqrstuvwxyz"
		alnum  = digits + upper + lowerL
	)
	set(&isDigit, digits)
	set(&isAlnum, alnum)
	set(&isUpperDig, upper+digits)
	set(&isB64URL, alnum+"_-")
	set(&isB64Std, alnum+"+/=")
	set(&isTokenCh, alnum+"._~+/=-")
	set(&isHookCh, alnum+"_/+-")
	set(&isLocal, alnum+"._%+-")
	set(&isKeyCh, alnum+"_.-")
	set(&isIPv6Ch, digits+"abcdefABCDEF:.")
	set(&isHex, digits+"abcdefABCDEF")
	set(&valueStop, " \t\r\n\"',;&<>)]}`")
	for c := 0x21; c < 0x7f; c++ {
		isUserinfo[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		isUserinfo[c] = true
	}
	for _, c := range []byte("/@?#\"<>\\[]{}`|^") {
		isUserinfo[c] = false
	}
	for c := range 256 {
		if isAlnum[c] || c == '_' {
			class[c] = cWord
		}
	}
	for _, c := range []byte("@:=-+(") {
		class[c] = cSpecial
	}
}

func isWord(c byte) bool { return class[c] == cWord }

func hasPrefix(s []byte, i int, p string) bool {
	return len(s)-i >= len(p) && string(s[i:i+len(p)]) == p
}

func hasPrefixFold(s []byte, i int, p string) bool {
	if len(s)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		if lower(s[i+k]) != p[k] {
			return false
		}
	}
	return true
}

// run returns the end of the run of t-bytes starting at i.
func run(s []byte, i int, t *[256]bool) int {
	for i < len(s) && t[s[i]] {
		i++
	}
	return i
}

// scan finds what to replace in s and returns it sorted and disjoint. The
// result lives in st and is valid until the next scan.
func (m *Masker) scan(st *state, s []byte) []span {
	sp := st.spans[:0]
	if !m.anyText {
		return sp
	}
	n := len(s)
	for i := 0; i < n; {
		switch class[s[i]] {
		case 0:
			i++
		case cWord:
			next := m.word(s, i, &sp)
			j := i + 1
			for j < n && class[s[j]] == cWord {
				j++
			}
			i = max(j, next)
		default:
			i = max(i+1, m.special(s, i, &sp))
		}
	}
	for pi := range m.patterns {
		p := &m.patterns[pi]
		for _, loc := range p.re.FindAllSubmatchIndex(s, -1) {
			a, b := loc[0], loc[1]
			if p.group {
				a, b = loc[2], loc[3]
			}
			if a < b {
				sp = append(sp, span{a, b, numKinds + kind(pi)})
			}
		}
	}
	sp = normalize(sp)
	st.spans = sp
	return sp
}

// normalize sorts spans by start and merges overlapping ones, so that no
// part of any match survives; a merged span keeps the first one's kind.
func normalize(sp []span) []span {
	if len(sp) < 2 {
		return sp
	}
	// Stable, so that of two detectors finding the same span the one that
	// fired first names it (Bearer before the JWT it carries).
	slices.SortStableFunc(sp, func(a, b span) int {
		if a.start != b.start {
			return cmp.Compare(a.start, b.start)
		}
		return cmp.Compare(b.end, a.end)
	})
	out := sp[:1]
	for _, x := range sp[1:] {
		last := &out[len(out)-1]
		if x.start < last.end {
			last.end = max(last.end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out
}

func (m *Masker) add(sp *[]span, a, b int, k kind) int {
	*sp = append(*sp, span{a, b, k})
	return b
}

// word runs the detectors that start at the start of a word s[i]. It
// returns where scanning may resume (0: right after the word).
func (m *Masker) word(s []byte, i int, sp *[]span) int {
	c := s[i]
	if isDigit[c] {
		return m.numeric(s, i, sp)
	}
	switch c {
	case 'A':
		if m.on[kAWSAccessKey] && (hasPrefix(s, i, "AKIA") || hasPrefix(s, i, "ASIA") || hasPrefix(s, i, "ABIA") || hasPrefix(s, i, "ACCA")) {
			if e := run(s, i+4, &isUpperDig); e-i == 20 && (e == len(s) || !isAlnum[s[e]]) {
				return m.add(sp, i, e, kAWSAccessKey)
			}
		}
		if m.on[kGoogleAPIKey] && hasPrefix(s, i, "AIza") {
			if e := run(s, i+4, &isB64URL); e-i == 39 {
				return m.add(sp, i, e, kGoogleAPIKey)
			}
		}
	case 'g':
		if m.on[kGitHubToken] {
			if hasPrefix(s, i, "gh") && len(s)-i > 4 && s[i+3] == '_' && bytes.IndexByte([]byte("pousr"), s[i+2]) >= 0 {
				if e := run(s, i+4, &isAlnum); e-i-4 >= 36 && (e == len(s) || !isWord(s[e])) {
					return m.add(sp, i, e, kGitHubToken)
				}
			}
			if hasPrefix(s, i, "github_pat_") {
				if e := wordEnd(s, i+11); e-i-11 >= 22 {
					return m.add(sp, i, e, kGitHubToken)
				}
			}
		}
		if m.on[kGitLabToken] {
			for _, p := range []string{"glpat-", "glptt-", "gldt-", "glrt-", "glcbt-"} {
				if hasPrefix(s, i, p) {
					if e := run(s, i+len(p), &isB64URL); e-i-len(p) >= 20 {
						return m.add(sp, i, e, kGitLabToken)
					}
					return 0
				}
			}
		}
	case 'x':
		if m.on[kSlackToken] {
			p := 0
			if hasPrefix(s, i, "xox") && len(s)-i > 5 && s[i+4] == '-' && bytes.IndexByte([]byte("abposre"), s[i+3]) >= 0 {
				p = 5
			} else if hasPrefix(s, i, "xapp-") {
				p = 5
			}
			if p > 0 {
				e := run(s, i+p, &isB64URL)
				if e-i-p >= 10 && bytes.IndexFunc(s[i+p:e], func(r rune) bool { return '0' <= r && r <= '9' }) >= 0 {
					return m.add(sp, i, e, kSlackToken)
				}
				return e
			}
		}
	case 'h':
		if m.on[kSlackWebhook] && hasPrefix(s, i, "hooks.slack.com/") {
			j := i + len("hooks.slack.com/")
			for _, p := range []string{"services/", "workflows/", "triggers/"} {
				if hasPrefix(s, j, p) {
					if e := run(s, j+len(p), &isHookCh); e-j-len(p) >= 20 {
						a := i
						if i >= 8 && string(s[i-8:i]) == "https://" {
							a = i - 8
						}
						return m.add(sp, a, e, kSlackWebhook)
					}
				}
			}
		}
	case 's', 'r':
		if m.on[kStripeKey] && len(s)-i >= 8 && s[i+1] == 'k' && s[i+2] == '_' && (hasPrefix(s, i+3, "live_") || hasPrefix(s, i+3, "test_")) {
			if e := run(s, i+8, &isAlnum); e-i-8 >= 10 && (e == len(s) || !isWord(s[e])) {
				return m.add(sp, i, e, kStripeKey)
			}
		}
		if c == 's' && m.on[kOpenAIKey] && hasPrefix(s, i, "sk-") {
			e := run(s, i+3, &isB64URL)
			if e-i-3 >= 20 && hasDigitAndLetter(s[i+3:e]) {
				return m.add(sp, i, e, kOpenAIKey)
			}
			return e
		}
	case 'w':
		if m.on[kStripeKey] && hasPrefix(s, i, "whsec_") {
			if e := run(s, i+6, &isAlnum); e-i-6 >= 24 && (e == len(s) || !isWord(s[e])) {
				return m.add(sp, i, e, kStripeKey)
			}
		}
	case 'e':
		if m.on[kJWT] && hasPrefix(s, i, "eyJ") {
			return m.jwt(s, i, sp)
		}
	case 'B', 'b':
		if m.on[kBearerToken] && hasPrefixFold(s, i, "bearer") {
			if next := m.bearer(s, i+6, sp); next > 0 {
				return next
			}
		}
		if m.on[kBasicAuth] && hasPrefixFold(s, i, "basic") {
			if next := m.basic(s, i+5, sp); next > 0 {
				return next
			}
		}
	}
	if m.on[kIBAN] && 'A' <= c && c <= 'Z' {
		if e := iban(s, i); e > 0 {
			return m.add(sp, i, e, kIBAN)
		}
	}
	return 0
}

func wordEnd(s []byte, i int) int {
	for i < len(s) && isWord(s[i]) {
		i++
	}
	return i
}

func hasDigitAndLetter(b []byte) bool {
	d, l := false, false
	for _, c := range b {
		d = d || isDigit[c]
		l = l || isAlnum[c] && !isDigit[c]
	}
	return d && l
}

// jwt matches header.payload.signature (and the two extra parts of a JWE),
// base64url each, header starting eyJ ({"), payload ey.
func (m *Masker) jwt(s []byte, i int, sp *[]span) int {
	e := run(s, i, &isB64URL)
	skip := e // no later eyJ inside this run can match where this one failed
	if e-i < 10 || e >= len(s) || s[e] != '.' || !hasPrefix(s, e+1, "ey") {
		return skip
	}
	e2 := run(s, e+1, &isB64URL)
	if e2-e-1 < 10 || e2 >= len(s) || s[e2] != '.' {
		return skip
	}
	end := run(s, e2+1, &isB64URL)
	for parts := 3; parts < 5 && end+1 < len(s) && s[end] == '.' && isB64URL[s[end+1]]; parts++ {
		end = run(s, end+1, &isB64URL)
	}
	return m.add(sp, i, end, kJWT)
}

// bearer matches the credential after "Bearer" (i is just past the word):
// token68 of at least 8 characters with a digit, so prose does not match.
func (m *Masker) bearer(s []byte, i int, sp *[]span) int {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j == i {
		return 0
	}
	e := run(s, j, &isTokenCh)
	if e-j < 8 || bytes.IndexFunc(s[j:e], func(r rune) bool { return '0' <= r && r <= '9' }) < 0 {
		return 0
	}
	return m.add(sp, j, e, kBearerToken)
}

// basic matches "Basic <base64 of user:password>".
func (m *Masker) basic(s []byte, i int, sp *[]span) int {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j == i {
		return 0
	}
	e := run(s, j, &isB64Std)
	if e-j < 8 || e-j > 512 || (e < len(s) && isWord(s[e])) {
		return 0
	}
	var buf [384]byte
	tok := s[j:e]
	n, err := base64.StdEncoding.Decode(buf[:], tok)
	if err != nil {
		if n, err = base64.RawStdEncoding.Decode(buf[:], tok); err != nil {
			return 0
		}
	}
	dec := buf[:n]
	colon := bytes.IndexByte(dec, ':')
	if colon < 1 {
		return 0
	}
	for _, c := range dec {
		if c < 0x20 || c == 0x7f {
			return 0
		}
	}
	return m.add(sp, j, e, kBasicAuth)
}

// special runs the detectors triggered by punctuation at s[i].
func (m *Masker) special(s []byte, i int, sp *[]span) int {
	switch s[i] {
	case '@':
		if m.on[kCredential] {
			if a, ok := urlPassword(s, i); ok {
				return m.add(sp, a, i, kCredential)
			}
		}
		if m.on[kEmail] {
			if a, b := email(s, i); b > 0 {
				return m.add(sp, a, b, kEmail)
			}
		}
	case ':':
		next := 0
		if m.on[kCredential] || m.on[kAWSSecretKey] {
			next = m.assignment(s, i, sp)
		}
		if next == 0 && m.on[kIPAddress] {
			next = m.ipv6(s, i, sp)
		}
		return next
	case '=':
		if m.on[kCredential] || m.on[kAWSSecretKey] {
			return m.assignment(s, i, sp)
		}
	case '-':
		if m.on[kPrivateKey] && hasPrefix(s, i, "-----BEGIN ") {
			return m.pem(s, i, sp)
		}
	case '+':
		if m.on[kPhone] && (i == 0 || !isWord(s[i-1])) {
			if e := e164(s, i); e > 0 {
				return m.add(sp, i, e, kPhone)
			}
		}
	case '(':
		if m.on[kPhone] && (i == 0 || !isWord(s[i-1])) {
			if e := usPhone(s, i); e > 0 {
				return m.add(sp, i, e, kPhone)
			}
		}
	}
	return 0
}

// pem matches a private key block from its BEGIN line to its END line, or
// to the end of the text when the END line is missing (truncated output).
func (m *Masker) pem(s []byte, i int, sp *[]span) int {
	h := i + len("-----BEGIN ")
	e := bytes.Index(s[h:min(len(s), h+80)], []byte("-----"))
	if e < 0 {
		return h
	}
	label := s[h : h+e]
	if !bytes.HasSuffix(label, []byte("PRIVATE KEY")) && !bytes.HasSuffix(label, []byte("PRIVATE KEY BLOCK")) {
		return h + e
	}
	body := h + e + 5
	end := len(s)
	if k := bytes.Index(s[body:], []byte("-----END ")); k >= 0 {
		t := body + k + len("-----END ")
		if c := bytes.Index(s[t:min(len(s), t+80)], []byte("-----")); c >= 0 {
			end = t + c + 5
		}
	}
	return m.add(sp, i, end, kPrivateKey)
}

// numeric runs the detectors for data that starts with a digit.
func (m *Masker) numeric(s []byte, i int, sp *[]span) int {
	var prev byte
	if i > 0 {
		prev = s[i-1]
	}
	if prev == '.' {
		return 0 // the middle of a version or a longer dotted number
	}
	if m.on[kIPAddress] { // before the others: 10.0.0.1-10.0.0.9 is a range
		if e := ipv4(s, i); e > 0 {
			return m.add(sp, i, e, kIPAddress)
		}
	}
	if prev == '-' {
		return 0 // the middle of a date, range or longer number
	}
	if m.on[kSSN] {
		if e := ssn(s, i); e > 0 {
			return m.add(sp, i, e, kSSN)
		}
	}
	if m.on[kCreditCard] {
		if e := card(s, i); e > 0 {
			return m.add(sp, i, e, kCreditCard)
		}
	}
	if m.on[kPhone] && prev != '+' && prev != '(' {
		if e := usPhone(s, i); e > 0 {
			return m.add(sp, i, e, kPhone)
		}
	}
	return 0
}

func digitsAt(s []byte, i, n int) bool {
	if len(s)-i < n {
		return false
	}
	for _, c := range s[i : i+n] {
		if !isDigit[c] {
			return false
		}
	}
	return true
}

// numberEnds reports whether a number may end at s[e]: no word character
// and no separator that continues it with another digit.
func numberEnds(s []byte, e int) bool {
	if e >= len(s) {
		return true
	}
	c := s[e]
	if isWord(c) {
		return false
	}
	return !((c == '-' || c == '.') && e+1 < len(s) && isDigit[s[e+1]])
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// ssn matches ddd-dd-dddd outside the ranges the SSA never issues.
func ssn(s []byte, i int) int {
	if !digitsAt(s, i, 3) || !hasPrefix(s, i+3, "-") || !digitsAt(s, i+4, 2) || !hasPrefix(s, i+6, "-") || !digitsAt(s, i+7, 4) {
		return 0
	}
	e := i + 11
	if !numberEnds(s, e) {
		return 0
	}
	area, group, serial := atoi(s[i:i+3]), atoi(s[i+4:i+6]), atoi(s[i+7:i+11])
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return 0
	}
	return e
}

// card matches 13-19 digits, contiguous or in groups (the first of four
// digits, then 3-6 each) split by one space or dash throughout, starting
// with an issuer digit 2-6 and passing the Luhn check.
func card(s []byte, i int) int {
	e := run(s, i, &isDigit)
	if s[i] < '2' || s[i] > '6' {
		return 0
	}
	if g := e - i; g >= 13 && g <= 19 {
		if numberEnds(s, e) && luhn(s[i:e]) {
			return e
		}
		return 0
	}
	if e-i != 4 || e+1 >= len(s) || (s[e] != ' ' && s[e] != '-') || !isDigit[s[e+1]] {
		return 0
	}
	sep := s[e]
	var d [19]byte
	nd := copy(d[:], s[i:e])
	var ends [8]int // group end offsets and digit counts so far
	var counts [8]int
	ng := 0
	for k := e; ng < len(ends) && k+1 < len(s) && s[k] == sep && isDigit[s[k+1]]; {
		ge := run(s, k+1, &isDigit)
		gl := ge - k - 1
		if gl < 3 || gl > 6 || nd+gl > 19 {
			break
		}
		nd += copy(d[nd:], s[k+1:ge])
		ends[ng], counts[ng] = ge, nd
		ng++
		k = ge
	}
	for g := ng - 1; g >= 0; g-- {
		if c := counts[g]; c >= 13 && luhn(d[:c]) && (ends[g] == len(s) || !isWord(s[ends[g]]) && !(s[ends[g]] == '.' && ends[g]+1 < len(s) && isDigit[s[ends[g]+1]])) {
			return ends[g]
		}
	}
	return 0
}

func luhn(d []byte) bool {
	sum := 0
	for k := 0; k < len(d); k++ {
		v := int(d[len(d)-1-k] - '0')
		if k%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func isPhoneSep(c byte) bool { return c == ' ' || c == '-' || c == '.' }

// usPhone matches NANP numbers: [1 ](NXX) NXX-XXXX, NXX-NXX-XXXX,
// NXX.NXX.XXXX, NXX NXX XXXX (one separator throughout unless the area
// code is in parentheses). Ten bare digits do not match.
func usPhone(s []byte, i int) int {
	n := len(s)
	j := i
	if s[j] == '1' && j+2 < n && isPhoneSep(s[j+1]) && (isDigit[s[j+2]] || s[j+2] == '(') {
		j += 2
	}
	var sep byte
	var area int
	if s[j] == '(' {
		if !digitsAt(s, j+1, 3) || !hasPrefix(s, j+4, ")") {
			return 0
		}
		area = j + 1
		j += 5
		if j < n && s[j] == ' ' {
			j++
		}
	} else {
		if !digitsAt(s, j, 3) || j+3 >= n || !isPhoneSep(s[j+3]) {
			return 0
		}
		area, sep = j, s[j+3]
		j += 4
	}
	if s[area] < '2' || !digitsAt(s, j, 3) || s[j] < '2' {
		return 0
	}
	j += 3
	if j >= n || !isPhoneSep(s[j]) || sep != 0 && s[j] != sep {
		return 0
	}
	j++
	if !digitsAt(s, j, 4) {
		return 0
	}
	j += 4
	if !numberEnds(s, j) {
		return 0
	}
	return j
}

// e164 matches +CC… with 8 to 15 digits, single spaces, dashes or dots
// between groups and an optional parenthesised group.
func e164(s []byte, i int) int {
	j := i + 1
	if j >= len(s) || s[j] < '1' || s[j] > '9' {
		return 0
	}
	digits, end, gap, paren := 0, j, 0, false
	for ; j < len(s); j++ {
		c := s[j]
		if isDigit[c] {
			digits++
			if digits > 15 {
				return 0
			}
			gap, end = 0, j+1
			continue
		}
		if c == '(' || c == ')' {
			paren = true
		} else if !isPhoneSep(c) {
			break
		}
		gap++
		if gap > 2 || gap == 2 && !paren {
			break
		}
	}
	if digits < 8 || end < len(s) && isWord(s[end]) {
		return 0
	}
	return end
}

// ipv4 matches a dotted quad with octets 0-255 and no leading zeros, not
// part of a longer dotted number (1.2.3.4.5).
func ipv4(s []byte, i int) int {
	j := i
	for k := range 4 {
		if k > 0 {
			if j >= len(s) || s[j] != '.' {
				return 0
			}
			j++
		}
		a, v := j, 0
		for j < len(s) && isDigit[s[j]] && j-a < 4 {
			v = v*10 + int(s[j]-'0')
			j++
		}
		if l := j - a; l == 0 || l > 3 || v > 255 || l > 1 && s[a] == '0' {
			return 0
		}
	}
	if j < len(s) && (isWord(s[j]) || s[j] == '.' && j+1 < len(s) && isDigit[s[j+1]]) {
		return 0
	}
	return j
}

// ipv6 looks at the run of hex digits, colons and dots around the colon at
// s[i] and matches it if net/netip parses it as an IPv6 address.
func (m *Masker) ipv6(s []byte, i int, sp *[]span) int {
	const maxLen = 45
	a := i
	for a > 0 && isIPv6Ch[s[a-1]] && i-a <= maxLen {
		a--
	}
	b := i + 1
	for b < len(s) && isIPv6Ch[s[b]] && b-a <= maxLen {
		b++
	}
	next := b
	if b-a > maxLen || a > 0 && isWord(s[a-1]) || b < len(s) && isWord(s[b]) {
		return next
	}
	for b > a && s[b-1] == '.' { // sentence end
		b--
	}
	cand := s[a:b]
	// An address has "::" or eight groups (seven colons, or six and a
	// dotted quad); checking first keeps times like 12:30:45 away from
	// netip, whose string argument allocates.
	colons := bytes.Count(cand, []byte(":"))
	if colons < 2 || colons > 7 || !bytes.Contains(cand, []byte("::")) && colons != 7 && !(colons == 6 && bytes.IndexByte(cand, '.') >= 0) {
		return next
	}
	hex := 0
	for _, c := range cand {
		if isHex[c] {
			hex++
		}
	}
	if hex < 4 {
		return next
	}
	if ip, err := netip.ParseAddr(string(cand)); err != nil || !ip.Is6() {
		return next
	}
	return m.add(sp, a, b, kIPAddress)
}

// email matches local@domain.tld, the TLD being letters.
func email(s []byte, at int) (int, int) {
	a := at
	for a > 0 && isLocal[s[a-1]] && at-a <= 64 {
		a--
	}
	if at-a > 64 || a > 0 && isLocal[s[a-1]] {
		return 0, 0
	}
	for a < at && (s[a] == '.' || s[a] == '-' || s[a] == '+') {
		a++
	}
	if a == at || s[at-1] == '.' {
		return 0, 0
	}
	j, labels, end, tldStart := at+1, 0, 0, 0
	for j < len(s) && j-at <= 254 {
		ls := j
		for j < len(s) && (isAlnum[s[j]] || s[j] == '-') && j-ls < 64 {
			j++
		}
		if j == ls || s[ls] == '-' || s[j-1] == '-' {
			break
		}
		labels++
		end, tldStart = j, ls
		if j+1 < len(s) && s[j] == '.' && isAlnum[s[j+1]] {
			j++
			continue
		}
		break
	}
	if labels < 2 || end-tldStart < 2 {
		return 0, 0
	}
	for _, c := range s[tldStart:end] {
		if isDigit[c] {
			return 0, 0
		}
	}
	if end < len(s) && (isWord(s[end]) || s[end] == '-' || s[end] == '@') {
		return 0, 0
	}
	return a, end
}

// urlPassword finds the password in scheme://user:password@ ending at s[at].
func urlPassword(s []byte, at int) (int, bool) {
	k := at
	for k > 0 && isUserinfo[s[k-1]] && at-k < 256 {
		k--
	}
	if k < 3 || string(s[k-3:k]) != "://" {
		return 0, false
	}
	ui := s[k:at]
	c := bytes.IndexByte(ui, ':')
	if c < 0 || c == len(ui)-1 {
		return 0, false
	}
	return k + c + 1, true
}

// assignment masks the value of key=value, key: value, key := value,
// key => value, "key": "value" where key names a credential. s[i] is the
// ':' or '='.
func (m *Masker) assignment(s []byte, i int, sp *[]span) int {
	n := len(s)
	j := i + 1
	if s[i] == ':' {
		if j < n && s[j] == '=' {
			j++
		} else if j < n && (s[j] == ':' || s[j] == '/') {
			return 0 // ::, URL scheme
		}
	} else {
		if i > 0 && bytes.IndexByte([]byte("=!<>:"), s[i-1]) >= 0 || j < n && s[j] == '=' {
			return 0 // comparison
		}
		if j < n && s[j] == '>' {
			j++
		}
	}
	k := i
	for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') && i-k < 4 {
		k--
	}
	if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
		k--
	}
	ke := k
	for k > 0 && isKeyCh[s[k-1]] && ke-k <= 64 {
		k--
	}
	if k == ke || ke-k > 64 {
		return 0
	}
	ck, ok := credentialKey(s[k:ke])
	if !ok {
		return 0
	}
	for j < n && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j >= n {
		return 0
	}
	var vs, ve, next int
	if q := s[j]; q == '"' || q == '\'' || q == '`' {
		vs = j + 1
		ve = vs
		for ve < n && s[ve] != q && s[ve] != '\n' {
			ve++
		}
		next = ve
	} else {
		vs = j
		ve = vs
		for ve < n && !valueStop[s[ve]] {
			ve++
		}
		next = ve
	}
	v := s[vs:ve]
	k2 := m.credentialValue(ck, v)
	if k2 == numKinds {
		return 0
	}
	m.add(sp, vs, ve, k2)
	return next
}

// credentialValue decides how to mask value v of a credential key of class
// ck: numKinds means leave it alone.
func (m *Masker) credentialValue(ck credKind, v []byte) kind {
	if len(v) == 0 || trivialValue(v) || m.alreadyMasked(v) {
		return numKinds
	}
	if ck == credAWS && m.on[kAWSSecretKey] && len(v) == 40 && run(v, 0, &isB64Std) == 40 {
		return kAWSSecretKey
	}
	if m.on[kCredential] {
		return kCredential
	}
	return numKinds
}

// trivialValues are assigned values that hold no secret.
var trivialValues = []string{"true", "false", "null", "nil", "none", "undefined", "yes", "no"}

func trivialValue(v []byte) bool {
	if len(v) > 9 {
		return false
	}
	for _, t := range trivialValues {
		if equalFoldBytes(v, t) {
			return true
		}
	}
	return false
}

type credKind uint8

const (
	credNone credKind = iota
	credPlain
	credAWS
)

var (
	credSuffixes = []string{
		"password", "passwd", "pwd", "passphrase", "secret", "token",
		"apikey", "accesskey", "secretkey", "privatekey", "signingkey",
		"encryptionkey", "credential", "credentials",
	}
	// Names that end like a credential but hold none: pagination and
	// progress tokens, working directories, model limits.
	credExcluded = []string{
		"pwd", "oldpwd", "nexttoken", "pagetoken", "nextpagetoken",
		"continuationtoken", "progresstoken", "synctoken", "resumetoken",
		"maxtoken", "cursortoken",
	}
)

// credentialKey reports whether a JSON member or assignment named key holds
// a credential. Case, '_', '-' and '.' are ignored: API_KEY, apiKey and
// x-api-key are all apikey.
func credentialKey(key []byte) (credKind, bool) {
	var buf [64]byte
	n := 0
	for k := len(key) - 1; k >= 0 && n < len(buf); k-- { // only the end matters
		c := key[k]
		if c == '_' || c == '-' || c == '.' || c == ' ' {
			continue
		}
		n++
		buf[len(buf)-n] = lower(c)
	}
	norm := buf[len(buf)-n:]
	// Quick reject on the last letter before comparing suffixes.
	if n < 3 {
		return credNone, false
	}
	switch norm[n-1] {
	case 'd', 'e', 't', 'n', 'y', 'l', 's':
	default:
		return credNone, false
	}
	hit := false
	for _, suf := range credSuffixes {
		if bytes.HasSuffix(norm, []byte(suf)) {
			hit = true
			break
		}
	}
	if !hit {
		return credNone, false
	}
	for _, x := range credExcluded {
		if string(norm) == x {
			return credNone, false
		}
	}
	if bytes.Contains(norm, []byte("secretaccesskey")) || bytes.Contains(norm, []byte("aws")) && bytes.Contains(norm, []byte("secret")) {
		return credAWS, true
	}
	return credPlain, true
}

// IBAN lengths by country (ISO 13616 registry).
var ibanLen [26 * 26]uint8

func init() {
	const reg = "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 " +
		"DE22 DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 " +
		"HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 " +
		"LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 " +
		"QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 " +
		"UA29 VA22 VG24 XK20 YE30"
	for i := 0; i+4 <= len(reg); i += 5 {
		ibanLen[int(reg[i]-'A')*26+int(reg[i+1]-'A')] = (reg[i+2]-'0')*10 + reg[i+3] - '0'
	}
}

// iban matches an IBAN of its country's length, compact or in groups of
// four split by single spaces, whose mod-97 check holds.
func iban(s []byte, i int) int {
	if len(s)-i < 15 || s[i+1] < 'A' || s[i+1] > 'Z' || !isDigit[s[i+2]] || !isDigit[s[i+3]] {
		return 0
	}
	l := int(ibanLen[int(s[i]-'A')*26+int(s[i+1]-'A')])
	if l == 0 {
		return 0
	}
	var buf [34]byte
	k, j := 0, i
	for j < len(s) && k < l {
		c := s[j]
		if isUpperDig[c] {
			buf[k] = c
			k++
			j++
			continue
		}
		if c == ' ' && k%4 == 0 && j+1 < len(s) && isUpperDig[s[j+1]] {
			j++
			continue
		}
		break
	}
	if k != l || j < len(s) && isAlnum[s[j]] {
		return 0
	}
	if mod97(mod97(0, buf[4:l]), buf[:4]) != 1 {
		return 0
	}
	return j
}

// mod97 continues r with the IBAN digits of b (A=10 … Z=35).
func mod97(r int, b []byte) int {
	for _, c := range b {
		if isDigit[c] {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}
