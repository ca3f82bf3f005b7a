package mcp

import (
	"encoding/json"
	"testing"
)

var fuzzSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"x":1},"_meta":{"progressToken":"t"}}}`,
	`{"jsonrpc":"2.0","id":"s","method":"resources/read","params":{"uri":"file:///a"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"n\u0061me":"p","arguments":null}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized","params":null}`,
	`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"a"}]}}]`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m","data":[1]}}`,
	`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"a","annotations":{"readOnlyHint":true}},{"name":"b"}],"nextCursor":"x"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"x","params":{"name":"a","NAME":"b"}}`,
	`[]`, `[[]]`, `""`, `{}`, ` `, `{"a":"\ud800"}`,
}

// FuzzDecode: Decode never panics; what it accepts is exact JSON that a
// case-insensitive decoder reads the same way.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, _, err := Decode(body)
		if err != nil {
			de, ok := err.(*DecodeError)
			if !ok {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			if !json.Valid(de.Response()) {
				t.Fatalf("error response is not JSON: %s", de.Response())
			}
			return
		}
		if len(msgs) == 0 {
			t.Fatal("no error and no messages")
		}
		for _, m := range msgs {
			for _, raw := range []json.RawMessage{m.Raw, m.ID, m.Params, m.Arguments, m.ProgressToken, m.Result} {
				if raw != nil && !json.Valid(raw) {
					t.Fatalf("not JSON: %q in %q", raw, body)
				}
			}
			if m.Kind < KindRequest || m.Kind > KindErrorResponse {
				t.Fatalf("kind %v", m.Kind)
			}
			if (m.Kind == KindRequest || m.Kind == KindNotification) != (m.Method != "") {
				t.Fatalf("kind %v with method %q", m.Kind, m.Method)
			}
			checkAgreement(t, m)
		}
	})
}

// FuzzFilterList: FilterList never panics, and its output is JSON.
func FuzzFilterList(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, field := range []string{"tools", "resources"} {
			keep := true
			out, err := FilterList(msg, field, func(ListItem) bool { keep = !keep; return keep })
			if err == nil && !json.Valid(out) {
				t.Fatalf("FilterList(%q) = %q, not JSON", msg, out)
			}
		}
		_, _ = Tools(msg)
	})
}
