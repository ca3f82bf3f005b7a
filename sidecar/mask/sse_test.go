package mask

import (
	"strings"
	"testing"
)

func TestSSEEvent(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	for _, tc := range []struct{ name, in, want string }{
		{"clean event is copied",
			"event: message\nid: 7\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
			""},
		{"one data line",
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"bob@example.com\"}}\n\n",
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"[REDACTED:email]\"}}\n\n"},
		{"a message over several data lines is masked whole",
			"data: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata: \"result\":{\"password\":\"hunter2\"}}\r\n\r\n",
			"data: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata: \"result\":{\"password\":\"[REDACTED:credential]\"}}\r\n\r\n"},
		{"non-JSON data is masked as text",
			"data:token AKIAIOSFODNN7EXAMPLE\n\n",
			"data: token [REDACTED:awsAccessKey]\n\n"},
		{"comments are masked, other fields kept",
			": ping from 10.1.2.3\nretry: 1000\n",
			": ping from [REDACTED:ipAddress]\nretry: 1000\n"},
		{"no trailing newline",
			"data: \"a@example.com\"",
			"data: \"[REDACTED:email]\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			got, stats := m.SSEEvent(nil, []byte(tc.in))
			if string(got) != want {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
			if n := strings.Count(want, "[REDACTED:"); stats.Total() != n {
				t.Errorf("hits %d, want %d", stats.Total(), n)
			}
		})
	}
}

// The proxy masks event by event, and an MCP server puts one whole
// JSON-RPC message in each event. A key split over two events is therefore
// two separate values — neither a whole key, both left as they are — and
// each event stays a valid message on its own. A whole key in either event
// is masked independently of the other.
func TestSSEMasksEachEventOnItsOwn(t *testing.T) {
	m := mustNew(t, Config{Detectors: allDetectors})
	stream := []string{
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"message\":\"AKIAIOSF\"}}\n\n",
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"message\":\"ODNN7EXAMPLE\"}}\n\n",
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"AKIAIOSFODNN7EXAMPLE\"}]}}\n\n",
	}
	var total Stats
	for i, ev := range stream {
		got, stats := m.SSEEvent(nil, []byte(ev))
		total.Add(stats)
		data, _ := dataValue([]byte(strings.Split(string(got), "\n")[1]))
		if _, _, err := m.Message(nil, data); err != nil {
			t.Errorf("event %d: data is not a whole JSON message after masking: %v", i, err)
		}
		if i < 2 && string(got) != ev {
			t.Errorf("event %d holds half a key and must pass as is, got %q", i, got)
		}
		if i == 2 && strings.Contains(string(got), "AKIA") {
			t.Errorf("event %d: key not masked: %q", i, got)
		}
	}
	if total.Count("awsAccessKey") != 1 {
		t.Errorf("hits %v", collect(total))
	}
}
