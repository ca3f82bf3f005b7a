package mcp

import (
	"encoding/json"
	"testing"
)

var toolsCall = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"query_database","arguments":{"sql":"SELECT id, name, email FROM customers WHERE region = 'EU' LIMIT 100","database":"analytics","timeout_seconds":30},"_meta":{"progressToken":"pt-42"}}}`)

func BenchmarkDecodeToolsCall(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(toolsCall)))
	for b.Loop() {
		msgs, _, err := Decode(toolsCall)
		if err != nil || msgs[0].Target() != "query_database" {
			b.Fatal(err)
		}
	}
}

// For comparison: the same fields with encoding/json into a small struct.
func BenchmarkDecodeToolsCallEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(toolsCall)))
	for b.Loop() {
		var m struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Method  string          `json:"method"`
			Params  struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
				Meta      struct {
					ProgressToken json.RawMessage `json:"progressToken"`
				} `json:"_meta"`
			} `json:"params"`
		}
		if err := json.Unmarshal(toolsCall, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterList(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[` +
		`{"name":"read_file","description":"Read a file","inputSchema":{"type":"object","properties":{"path":{"type":"string"}}},"annotations":{"readOnlyHint":true}},` +
		`{"name":"delete_file","description":"Delete a file","inputSchema":{"type":"object","properties":{"path":{"type":"string"}}},"annotations":{"destructiveHint":true}},` +
		`{"name":"list_dir","description":"List a directory","inputSchema":{"type":"object","properties":{"path":{"type":"string"}}},"annotations":{"readOnlyHint":true}}` +
		`]}}`)
	keep := func(it ListItem) bool { return !it.Annotations.Destructive() }
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := FilterList(msg, "tools", keep); err != nil {
			b.Fatal(err)
		}
	}
}
