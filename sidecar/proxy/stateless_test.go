package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
)

func TestMirrorMismatch(t *testing.T) {
	const (
		meta    = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`
		call    = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo",` + meta + `}}`
		read    = `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a b/é",` + meta + `}}`
		list    = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`
		oldCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`
		note    = `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`
		resp    = `{"jsonrpc":"2.0","id":5,"result":{}}`
		batch   = `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`
	)
	modern := []string{mcp.HeaderProtocolVersion, "2026-07-28"}
	tests := []struct {
		name     string
		body     string
		header   []string
		mismatch string // a part of the reason; "" when the headers agree
	}{
		{"modern call with its mirrors", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "echo"), ""},
		{"modern call with a Base64 name", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "=?base64?ZWNobw==?="), ""},
		{"non-ASCII URI, Base64", read, append(modern, "Mcp-Method", "resources/read", "Mcp-Name", "=?base64?ZmlsZTovLy9hIGIvw6k=?="), ""},
		{"non-ASCII URI sent raw, equal", read, append(modern, "Mcp-Method", "resources/read", "Mcp-Name", "file:///a b/é"), ""},
		{"modern list needs no name", list, append(modern, "Mcp-Method", "tools/list"), ""},
		{"modern notification needs no headers", note, modern, ""},
		{"modern notification with a wrong method", note, append(modern, "Mcp-Method", "tools/call"), "Mcp-Method header value"},
		{"a response has no method", resp, append(modern, "Mcp-Method", "tools/call"), "Mcp-Method header value"},
		{"older era needs no mirrors", oldCall, []string{mcp.HeaderProtocolVersion, "2025-06-18"}, ""},
		{"no version header, _meta version", call, nil, ""},
		{"older era, lying name", oldCall, []string{mcp.HeaderProtocolVersion, "2025-11-25", "Mcp-Name", "ping"}, "does not match body value"},
		{"older era, lying method", oldCall, []string{"Mcp-Method", "tools/list"}, "Mcp-Method header value"},
		{"batch, no mirrors", batch, nil, ""},
		{"batch with a mirror", batch, []string{"Mcp-Method", "tools/list"}, "cannot describe a batch"},
		{"missing method", call, append(modern, "Mcp-Name", "echo"), "Mcp-Method header is missing"},
		{"missing name", call, append(modern, "Mcp-Method", "tools/call"), "Mcp-Name header is missing"},
		{"name for a method without one", list, append(modern, "Mcp-Method", "tools/list", "Mcp-Name", "echo"), "names no tool"},
		{"name of another tool", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "delete_all"), `"delete_all" does not match body value "echo"`},
		{"name differs in case", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "Echo"), "does not match"},
		{"bad Base64", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "=?base64?!!?="), "not valid Base64"},
		{"Base64 of another tool", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "=?base64?ZGVsZXRlX2FsbA==?="), "does not match"},
		{"_meta version differs", strings.Replace(call, "2026-07-28", "2025-11-25", 1), append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "echo"), "MCP-Protocol-Version header value"},
		{"_meta version missing", oldCall, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "echo"), "has no"},
		{"modern _meta behind an older header", call, []string{mcp.HeaderProtocolVersion, "2025-06-18"}, "MCP-Protocol-Version header value"},
		{"two methods", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Method", "tools/call", "Mcp-Name", "echo"), "more than one Mcp-Method"},
		{"two names", call, append(modern, "Mcp-Method", "tools/call", "Mcp-Name", "echo", "Mcp-Name", "echo"), "more than one Mcp-Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, batch, err := mcp.Decode([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			for i := 0; i+1 < len(tt.header); i += 2 {
				h.Add(tt.header[i], tt.header[i+1])
			}
			version := mcp.DefaultVersion
			if v := h.Get(mcp.HeaderProtocolVersion); v != "" {
				version = mcp.Version(v)
			}
			got := mirrorMismatch(h, version, msgs, batch)
			if tt.mismatch == "" && got != "" || !strings.Contains(got, tt.mismatch) {
				t.Errorf("mirrorMismatch = %q, want %q", got, tt.mismatch)
			}
		})
	}
}
