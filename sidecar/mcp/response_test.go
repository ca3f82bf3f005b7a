package mcp

import (
	"encoding/json"
	"testing"
)

func TestNewError(t *testing.T) {
	tests := []struct {
		name    string
		id      json.RawMessage
		code    int
		message string
		data    any
		want    string
	}{
		{"numeric id", json.RawMessage(`7`), CodeDenied, "tool delete_all is blocked by rule block-destructive", map[string]string{"rule": "block-destructive", "reference": "7f3c"},
			`{"jsonrpc":"2.0","id":7,"error":{"code":-32080,"message":"tool delete_all is blocked by rule block-destructive","data":{"reference":"7f3c","rule":"block-destructive"}}}`},
		{"string id, no data", json.RawMessage(`"a"`), CodeApprovalExpired, "approval expired", nil,
			`{"jsonrpc":"2.0","id":"a","error":{"code":-32083,"message":"approval expired"}}`},
		{"nil id is null", nil, CodeParseError, "parse error", nil,
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`},
		{"invalid id is null", json.RawMessage(`{"`), CodeInternal, "internal error", nil,
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}`},
		{"data that cannot be encoded is left out", json.RawMessage(`1`), CodeInternal, "x", make(chan int),
			`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"x"}}`},
		{"message with quotes and line breaks", json.RawMessage(`1`), CodeDenied, "say \"no\"\n<now>", nil,
			`{"jsonrpc":"2.0","id":1,"error":{"code":-32080,"message":"say \"no\"\n\u003cnow\u003e"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewError(tt.id, tt.code, tt.message, tt.data)
			if !json.Valid(got) {
				t.Fatalf("not JSON: %s", got)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			msgs, _, err := Decode(got)
			if err != nil || msgs[0].Kind != KindErrorResponse || msgs[0].Error.Code != tt.code || msgs[0].Error.Message != tt.message {
				t.Errorf("does not decode as the error it is: %+v, %v", msgs, err)
			}
		})
	}
}

func TestNewProgress(t *testing.T) {
	got := NewProgress(json.RawMessage(`"tok"`), 2, "waiting for approval")
	want := `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":2,"message":"waiting for approval"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	msgs, _, err := Decode(got)
	if err != nil || msgs[0].Kind != KindNotification {
		t.Errorf("does not decode as a notification: %v", err)
	}
}

func TestBatch(t *testing.T) {
	if got := Batch(); got != nil {
		t.Errorf("Batch() = %s, want nil", got)
	}
	got := Batch(NewError(json.RawMessage(`1`), CodeDenied, "no", nil), []byte(`{"jsonrpc":"2.0","id":2,"result":{}}`))
	if !json.Valid(got) {
		t.Fatalf("not JSON: %s", got)
	}
	msgs, batch, err := Decode(got)
	if err != nil || !batch || len(msgs) != 2 {
		t.Errorf("Decode(Batch(...)) = %d messages, %v, %v", len(msgs), batch, err)
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		v                          Version
		known, batch, mirrorsHeads bool
	}{
		{"2024-11-05", true, false, false},
		{"2025-03-26", true, true, false},
		{"2025-06-18", true, false, false},
		{"2025-11-25", true, false, false},
		{"2026-07-28", true, false, true},
		{"2027-01-01", false, false, false},
		{"", false, false, false},
	}
	for _, tt := range tests {
		if tt.v.Known() != tt.known || tt.v.AllowsBatch() != tt.batch || tt.v.MirrorsHeaders() != tt.mirrorsHeads {
			t.Errorf("%q: Known %v AllowsBatch %v MirrorsHeaders %v", tt.v, tt.v.Known(), tt.v.AllowsBatch(), tt.v.MirrorsHeaders())
		}
	}
	if !DefaultVersion.Known() {
		t.Errorf("DefaultVersion %q is not known", DefaultVersion)
	}
}
