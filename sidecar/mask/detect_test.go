package mask

import (
	"encoding/json"
	"strings"
	"testing"
)

var allDetectors = []string{"secrets", "email", "creditCard", "phone", "ssn", "iban", "ipAddress"}

func mustNew(t testing.TB, cfg Config) *Masker {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const (
	pemKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yQ==\n-----END RSA PRIVATE KEY-----"
	jwtTok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

// Each case is masked as text with every detector on; want is the exact
// output ("" means unchanged).
var textCases = []struct {
	name, in, want string
}{
	// Secrets.
	{"aws access key id", "key AKIAIOSFODNN7EXAMPLE.", "key [REDACTED:awsAccessKey]."},
	{"aws temporary key id", "ASIAY34FZKBOKMUTVV7A", "[REDACTED:awsAccessKey]"},
	{"aws key id one char short stays", "AKIAIOSFODNN7EXAMPL", ""},
	{"aws key id inside a word stays", "XAKIAIOSFODNN7EXAMPLE", ""},
	{"aws key id lower case stays", "akiaiosfodnn7example", ""},
	{"aws secret key in assignment", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [REDACTED:awsSecretKey]"},
	{"aws secret key without aws context is a plain credential", "secret: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret: [REDACTED:credential]"},
	{"github classic token", "t=ghp_1234567890abcdefghijklmnopqrstuvwxyz x", "t=[REDACTED:githubToken] x"},
	{"github oauth, user, server, refresh tokens", "gho_1234567890abcdefghijklmnopqrstuvwxyz ghu_1234567890abcdefghijklmnopqrstuvwxyz ghs_1234567890abcdefghijklmnopqrstuvwxyz ghr_1234567890abcdefghijklmnopqrstuvwxyz",
		"[REDACTED:githubToken] [REDACTED:githubToken] [REDACTED:githubToken] [REDACTED:githubToken]"},
	{"github fine-grained token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV", "[REDACTED:githubToken]"},
	{"github prefix with short body stays", "ghp_short", ""},
	{"gitlab token", "glpat-AbCdEfGhIjKlMnOpQrSt", "[REDACTED:gitlabToken]"},
	{"gitlab prefix with short body stays", "glpat-short", ""},
	{"slack bot token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "[REDACTED:slackToken]"},
	{"slack user and app tokens", "xoxp-123456789012-123456789012 xapp-1-A0123456789-0123456789", "[REDACTED:slackToken] [REDACTED:slackToken]"},
	{"slack webhook", "post to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX now", "post to [REDACTED:slackWebhook] now"},
	{"stripe live and test keys", "sk_live_4eC39HqLyjWDarjtT1zdp7dc rk_live_4eC39HqLyjWDarjtT1zdp7dc sk_test_4eC39HqLyjWDarjtT1zdp7dc", "[REDACTED:stripeKey] [REDACTED:stripeKey] [REDACTED:stripeKey]"},
	{"google api key", "key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe&q=1", "key=[REDACTED:googleAPIKey]&q=1"},
	{"openai key", "OPENAI=sk-1234567890abcdefghijklmnopqrstuvwxyzABCD", "OPENAI=[REDACTED:openAIKey]"},
	{"openai project key", "sk-proj-AbC123dEf456GhI789jKl012MnO345pQr678", "[REDACTED:openAIKey]"},
	{"sk- inside a word stays", "the task-force of ask-1234567890abcdefghijklmnop", ""},
	{"sk- before words stays", "sk-learn and sk-this-is-not-a-key-only-words", ""},
	{"pem private key", "key:\n" + pemKey + "\nend", "key:\n[REDACTED:privateKey]\nend"},
	{"truncated pem private key", "x " + pemKey[:80], "x [REDACTED:privateKey]"},
	{"pem certificate stays", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", ""},
	{"jwt", "token " + jwtTok + " end", "token [REDACTED:jwt] end"},
	{"jwt-looking single segment stays", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", ""},
	{"bearer token", "Authorization: Bearer abc123.def-456_ghi", "Authorization: Bearer [REDACTED:bearerToken]"},
	{"bearer in prose stays", "use a bearer token or Bearer authentication", ""},
	{"basic auth", "Authorization: Basic dXNlcjpodW50ZXIy", "Authorization: Basic [REDACTED:basicAuth]"},
	{"basic in prose stays", "Basic authentication is disabled", ""},
	{"password assignment", "password=hunter2&user=bob", "password=[REDACTED:credential]&user=bob"},
	{"passwd colon", "passwd: s3cr3t", "passwd: [REDACTED:credential]"},
	{"api_key quoted", `api_key: "abc def"`, `api_key: "[REDACTED:credential]"`},
	{"json-like text", `{"client_secret": "xyz"}`, `{"client_secret": "[REDACTED:credential]"}`},
	{"secret and token", "SECRET=abc token: xyz", "SECRET=[REDACTED:credential] token: [REDACTED:credential]"},
	{"header style", "X-Api-Key: k123", "X-Api-Key: [REDACTED:credential]"},
	{"url password", "postgres://app:pa55word@db.internal:5432/app", "postgres://app:[REDACTED:credential]@db.internal:5432/app"},
	{"trivial assigned values stay", "password: null, token=true", ""},
	{"pagination token stays", "nextToken=abc123 progressToken: 7", ""},
	{"comparison stays", "if password == x", ""},
	{"url without password stays", "https://example.com/path?q=1", ""},

	// Personal data.
	{"email", "mail bob.smith+tag@mail.example.co.uk, ok", "mail [REDACTED:email], ok"},
	{"email at sentence end", "write to a@example.org.", "write to [REDACTED:email]."},
	{"annotation stays", "@Override and @scope/pkg", ""},
	{"host without tld stays", "user@localhost and foo@1.2.3", ""},
	{"visa", "card 4111111111111111 exp", "card [REDACTED:creditCard] exp"},
	{"mastercard spaced", "5555 5555 5555 4444", "[REDACTED:creditCard]"},
	{"amex dashed", "3782-822463-10005", "[REDACTED:creditCard]"},
	{"card followed by a number", "4111 1111 1111 1111 2024", "[REDACTED:creditCard] 2024"},
	{"luhn failure stays", "4111111111111112", ""},
	{"spaced luhn failure stays", "4111 1111 1111 1112", ""},
	{"epoch millis stays", "1700000000000 and 1234567890123456", ""},
	{"long digit run stays", "41111111111111110000000", ""},
	{"ssn", "SSN 123-45-6789.", "SSN [REDACTED:ssn]."},
	{"ssn invalid areas, group, serial stay", "000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000", ""},
	{"ssn inside a longer number stays", "1123-45-6789 123-45-67890", ""},
	{"iban compact", "IBAN DE89370400440532013000", "IBAN [REDACTED:iban]"},
	{"iban grouped", "GB82 WEST 1234 5698 7654 32 thanks", "[REDACTED:iban] thanks"},
	{"iban other countries", "FR1420041010050500013M02606 NL91ABNA0417164300 NO9386011117947", "[REDACTED:iban] [REDACTED:iban] [REDACTED:iban]"},
	{"iban bad check digits stays", "DE88370400440532013000", ""},
	{"iban wrong length stays", "DE8937040044053201300", ""},
	{"phone e164", "call +14155552671 now", "call [REDACTED:phone] now"},
	{"phone e164 grouped", "+44 20 7946 0958", "[REDACTED:phone]"},
	{"phone us formats", "(415) 555-2671, 415-555-2671, 415.555.2671, 1-800-555-0199", "[REDACTED:phone], [REDACTED:phone], [REDACTED:phone], [REDACTED:phone]"},
	{"bare ten digits stay", "order 4155552671", ""},
	{"dates and times stay", "2024-01-15 12:30:45 2024.01.15 15/01/2024", ""},
	{"invalid area code stays", "123-456-7890", ""},
	{"short plus number stays", "+1234 rows", ""},
	{"ipv4", "from 192.168.1.10:8080 and 8.8.8.8.", "from [REDACTED:ipAddress]:8080 and [REDACTED:ipAddress]."},
	{"ipv4 cidr", "10.0.0.0/8", "[REDACTED:ipAddress]/8"},
	{"ipv4 range", "10.0.0.1-10.0.0.9", "[REDACTED:ipAddress]-[REDACTED:ipAddress]"},
	{"version strings stay", "1.2.3.4.5 v1.2.3.4 10.0.19041.1234 1.2.3", ""},
	{"bad octets stay", "256.1.1.1 01.2.3.4", ""},
	{"ipv6", "addr 2001:db8::8a2e:370:7334 and fe80::1.", "addr [REDACTED:ipAddress] and [REDACTED:ipAddress]."},
	{"ipv6 bracketed with port", "[2001:db8::1]:443", "[[REDACTED:ipAddress]]:443"},
	{"ipv4-mapped ipv6", "::ffff:192.0.2.128", "[REDACTED:ipAddress]"},
	{"colons that are not ipv6 stay", "std::vector a::b 12:30:45 00:1A:2B:3C:4D:5E dead:beef", ""},

	// Several at once, overlapping detectors.
	{"mixed", "user bob@example.com key AKIAIOSFODNN7EXAMPLE ip 10.1.2.3", "user [REDACTED:email] key [REDACTED:awsAccessKey] ip [REDACTED:ipAddress]"},
	{"bearer jwt", "Bearer " + jwtTok, "Bearer [REDACTED:bearerToken]"},
	{"clean prose", "The quick brown fox jumps over the lazy dog; version 1.2.3 released 2024-05-01.", ""},
	{"ids and hashes stay", "uuid 123e4567-e89b-12d3-a456-426614174000 sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 commit 3f9a1c2b7e4d5f6a8b9c0d1e2f3a4b5c", ""},
	{"kubernetes yaml stays", "kind: Secret\nmetadata:\n  name: db-creds\nimage: nginx:1.25.3\nports: [8080]\ntype: Opaque", ""},
	{"timestamps and ratios stay", "2024-05-01T10:30:15.123456Z 1.234s ratio 16:9 23:59:59 range 10-20 3+4=7", ""},
	{"short numbers stay", "555-0100 1234-5678 20240501.1 12345678901234567890 $1,234.56 4,111,111,111 37.7749,-122.4194", ""},
	{"counters named like tokens stay", "token_count: 1234, max_tokens=4096", ""},
	{"code stays", "#include <stdio.h> a::b::c x := map[string]int{}; y = x[\"a\"]", ""},
}

func TestText(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			got, stats := m.Text(nil, []byte(tc.in))
			if string(got) != want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tc.in, got, want)
			}
			if hits := strings.Count(want, "[REDACTED:"); stats.Total() != hits {
				t.Errorf("Stats.Total() = %d, want %d", stats.Total(), hits)
			}
			// The same text as a JSON string value gives the same result.
			doc, _ := json.Marshal(map[string]string{"v": tc.in})
			out, _, err := m.JSON(nil, doc)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]string
			if err := json.Unmarshal(out, &back); err != nil || back["v"] != want {
				t.Errorf("JSON(%s) = %s (%v), want value %q", doc, out, err, want)
			}
		})
	}
}

func TestDetectorsAreSelective(t *testing.T) {
	in := []byte("bob@example.com 4111111111111111 AKIAIOSFODNN7EXAMPLE 10.1.2.3")
	for _, tc := range []struct {
		detectors []string
		want      string
	}{
		{nil, string(in)},
		{[]string{"email"}, "[REDACTED:email] 4111111111111111 AKIAIOSFODNN7EXAMPLE 10.1.2.3"},
		{[]string{"creditCard", "IPADDRESS"}, "bob@example.com [REDACTED:creditCard] AKIAIOSFODNN7EXAMPLE [REDACTED:ipAddress]"},
		{[]string{"awsAccessKey"}, "bob@example.com 4111111111111111 [REDACTED:awsAccessKey] 10.1.2.3"},
		{[]string{"secrets"}, "bob@example.com 4111111111111111 [REDACTED:awsAccessKey] 10.1.2.3"},
	} {
		m := mustNew(t, Config{Detectors: tc.detectors})
		if got, _ := m.Text(nil, in); string(got) != tc.want {
			t.Errorf("detectors %v: got %q, want %q", tc.detectors, got, tc.want)
		}
	}
}

func TestCustomPatterns(t *testing.T) {
	m := mustNew(t, Config{Patterns: []Pattern{
		{Name: "employeeID", Regex: `\bEMP-\d{6}\b`},
		{Name: "internalHost", Regex: `host=([a-z0-9.-]+\.corp)`},
	}})
	got, stats := m.Text(nil, []byte("EMP-123456 at host=db1.corp; EMP-12 stays"))
	want := "[REDACTED:employeeID] at host=[REDACTED:internalHost]; EMP-12 stays"
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if stats.Count("employeeID") != 1 || stats.Count("internalHost") != 1 || stats.Total() != 2 {
		t.Errorf("stats: %v", collect(stats))
	}
}

func collect(s Stats) map[string]int {
	m := map[string]int{}
	for k, n := range s.All() {
		m[k] = n
	}
	return m
}

func TestStats(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors, Fields: []string{"pin"}})
	_, stats, err := m.JSON(nil, []byte(`{"a":"x@example.com y@example.com","pin":1234,"b":["4111111111111111"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"email": 2, "creditCard": 1, "field": 1}
	if got := collect(stats); len(got) != len(want) || got["email"] != 2 || got["creditCard"] != 1 || got["field"] != 1 {
		t.Errorf("stats = %v, want %v", got, want)
	}
	var sum Stats
	sum.Add(stats)
	sum.Add(stats)
	if sum.Total() != 8 || sum.Count("email") != 4 {
		t.Errorf("Add: %v", collect(sum))
	}
}

func TestNoHitDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m := mustNew(t, Config{Detectors: allDetectors, Fields: []string{"password", "items.*.token"}})
	doc := []byte(`{"items":[{"name":"widget","note":"ships in 3 days, see https://example.com/a?b=c","n":12.5e3,"ok":true,"tags":["a","b\n\"c\""]}],"x":null}`)
	text := []byte("The quick brown fox jumps over the lazy dog at 10:30:15 on 2024-05-01T10:30:15Z, version 1.2.3, see Appendix A: the rest.")
	dst := make([]byte, 0, 4096)
	for name, f := range map[string]func(){
		"JSON":    func() { _, _, _ = m.JSON(dst, doc) },
		"Message": func() { _, _, _ = m.Message(dst, doc) },
		"Text":    func() { _, _ = m.Text(dst, text) },
	} {
		f()
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per clean call, want 0", name, n)
		}
	}
	out, stats, _ := m.JSON(dst, doc)
	if string(out) != string(doc) || stats.Total() != 0 {
		t.Errorf("clean document changed: %s", out)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown detector", Config{Detectors: []string{"passport"}}, `unknown detector "passport"`},
		{"bad regex", Config{Patterns: []Pattern{{Name: "x", Regex: "a("}}}, `pattern "x": error parsing regexp`},
		{"empty-matching regex", Config{Patterns: []Pattern{{Name: "x", Regex: "a*"}}}, "matches the empty string"},
		{"bad pattern name", Config{Patterns: []Pattern{{Name: "a b", Regex: "a"}}}, "pattern name"},
		{"pattern name taken", Config{Patterns: []Pattern{{Name: "Email", Regex: "a"}}}, "already taken"},
		{"duplicate pattern", Config{Patterns: []Pattern{{Name: "x", Regex: "a"}, {Name: "X", Regex: "b"}}}, "already taken"},
		{"empty field segment", Config{Fields: []string{"a..b"}}, "empty segment"},
		{"partial wildcard", Config{Fields: []string{"a.b*"}}, "whole segment"},
		{"hash without key", Config{Replacement: "<{hash}>"}, "HashKey is empty"},
		{"key without hash", Config{HashKey: make([]byte, 32), Replacement: "<{kind}>"}, "no {hash}"},
		{"short key", Config{HashKey: []byte("short")}, "at least 16"},
		{"unknown placeholder", Config{Replacement: "{knid}"}, "unknown placeholder {knid}"},
		{"quote in replacement", Config{Replacement: `"x"`}, "may not contain"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestReplacementFormat(t *testing.T) {
	m := mustNew(t, Config{Detectors: []string{"email"}, Replacement: "<{kind} removed>"})
	if got, _ := m.Text(nil, []byte("a@example.com")); string(got) != "<email removed>" {
		t.Errorf("got %q", got)
	}
}

func TestKeyedHash(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	m := mustNew(t, Config{Detectors: allDetectors, Fields: []string{"ssn"}, HashKey: key})
	got, _ := m.Text(nil, []byte("a@example.com b@example.com a@example.com"))
	toks := strings.Fields(string(got))
	if len(toks) != 3 || toks[0] != toks[2] || toks[0] == toks[1] {
		t.Fatalf("equal values must give equal tokens, different values different ones: %q", got)
	}
	if !strings.HasPrefix(toks[0], "[REDACTED:email:") || len(toks[0]) != len("[REDACTED:email:]")+16 {
		t.Errorf("token shape: %q", toks[0])
	}
	if strings.Contains(string(got), "example") {
		t.Errorf("raw value leaked: %q", got)
	}
	// The hash is of the value only: the same value found by a field rule
	// and by a detector correlates; another key gives other tokens.
	out, _, _ := m.JSON(nil, []byte(`{"ssn":"a@example.com","x":"a@example.com"}`))
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if strings.TrimPrefix(v["ssn"], "[REDACTED:field:") != strings.TrimPrefix(v["x"], "[REDACTED:email:") {
		t.Errorf("field and detector tokens differ for one value: %v", v)
	}
	other := mustNew(t, Config{Detectors: allDetectors, HashKey: []byte("another key, 16 bytes or more")})
	if got2, _ := other.Text(nil, []byte("a@example.com")); string(got2) == toks[0] {
		t.Errorf("different keys gave the same token %q", got2)
	}
}
