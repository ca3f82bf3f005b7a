package mcp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDecodeHeaderValue(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"get_weather", "get_weather", true},
		{"file:///projects/myapp/config.json", "file:///projects/myapp/config.json", true},
		{"=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, 世界", true},
		{"=?base64?IHBhZGRlZCA=?=", " padded ", true},
		{"=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=", "=?base64?literal?=", true}, // the spec's own example
		{"=?base64?ZWNobw==?=", "echo", true},
		{"=?base64?not base64!?=", "", false},
		{"=?base64?ZWNobw?=", "", false},                     // unpadded: not standard Base64
		{"=?base64?/w==?=", "", false},                       // not UTF-8
		{"=?base64?77+9?=", "", false},                       // U+FFFD, which a lone surrogate decodes to
		{"=?BASE64?ZWNobw==?=", "=?BASE64?ZWNobw==?=", true}, // markers are case-sensitive
		{"=?base64?ZWNobw==", "=?base64?ZWNobw==", true},     // no suffix: plain
		{"", "", true},
	}
	for _, tt := range tests {
		got, ok := DecodeHeaderValue(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DecodeHeaderValue(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestVersions(t *testing.T) {
	vs := Versions()
	if !slices.IsSortedFunc(vs, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("Versions() = %v, want newest first", vs)
	}
	for _, v := range vs {
		if !Version(v).Known() {
			t.Errorf("%q is listed but not known", v)
		}
	}
	vs[0] = "changed"
	if Versions()[0] != string(Version20260728) {
		t.Errorf("Versions() shares its slice")
	}
}

func TestDecodeProtocolVersion(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"tools/call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, "2026-07-28"},
		{"unpoliced method", `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`, "2026-07-28"},
		{"unknown version", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01"}}}`, "2099-01-01"},
		{"escaped", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol\/protocolVersion":"2026\u002d07-28"}}}`, "2026-07-28"},
		{"not a string", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":20260728}}}`, ""},
		{"absent", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"progressToken":1}}}`, ""},
	}
	for _, tt := range tests {
		msgs, _, err := Decode([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := msgs[0].ProtocolVersion; got != tt.want {
			t.Errorf("%s: ProtocolVersion = %q, want %q", tt.name, got, tt.want)
		}
	}
	// A policed call must not carry two versions that decoders could read
	// differently.
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2025-11-25"}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","IO.modelcontextprotocol/protocolVersion":"2025-11-25"}}}`,
	} {
		if _, _, err := Decode([]byte(body)); err == nil {
			t.Errorf("Decode(%s) accepted an ambiguous _meta", body)
		}
	}
}

func TestSameID(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`1`, `1`, true},
		{`1`, `1.0`, true},
		{`1e0`, `1`, true},
		{`-0`, `0`, true},
		{`"a"`, `"\u0061"`, true},
		{`"1"`, `1`, false},
		{`1`, `2`, false},
		{`"a"`, `"b"`, false},
		{`null`, `null`, true},
		{``, `1`, false},
	}
	for _, tt := range tests {
		if got := SameID(json.RawMessage(tt.a), json.RawMessage(tt.b)); got != tt.same {
			t.Errorf("SameID(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}
