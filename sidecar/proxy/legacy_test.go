package proxy

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"
	"github.com/mcp-airlock/airlock/sidecar/authn"
)

// The endpoint event of every known HTTP+SSE server points at the sidecar
// after the rewrite, with the upstream's path and query, and the endpoint
// a caller posts to is found however its query is ordered, but not when it
// says more or less.
func TestOpenLegacy(t *testing.T) {
	tests := []struct {
		name, stream, data, want string
		post                     []string // URLs that reach the session
		notPost                  []string // URLs that do not
	}{
		{name: "server-everything", stream: "http://127.0.0.1:3001/sse", data: "/message?sessionId=7f3c",
			want: "/message?sessionId=7f3c", post: []string{"/message?sessionId=7f3c", "/mes%73age?sessionId=7f3c"},
			notPost: []string{"/message?sessionId=7f3c&x=1", "/message?sessionId=7f3", "/message", "/sse?sessionId=7f3c", "/message?sessionId=7f3c;x=1"}},
		{name: "go-sdk", stream: "http://127.0.0.1:3001/sse", data: "/sse?sessionid=ABC",
			want: "/sse?sessionid=ABC", post: []string{"/sse?sessionid=ABC", "/sse?sessionid=%41BC"},
			notPost: []string{"/sse?sessionid=ABC&sessionid=DEF", "/sse?sessionId=ABC"}},
		{name: "relative to the stream", stream: "http://127.0.0.1:3001/mcp/sse", data: "messages/?session_id=1&a=b",
			want: "/mcp/messages/?session_id=1&a=b", post: []string{"/mcp/messages/?a=b&session_id=1"}},
		{name: "absolute, the upstream's own origin dropped", stream: "http://127.0.0.1:3001/sse", data: " http://0.0.0.0:3001/messages?sid=9 ",
			want: "/messages?sid=9", post: []string{"/messages?sid=9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Options{})
			ex := &exchange{snap: &Snapshot{Transport: v1alpha1.TransportSSE}, identity: &authn.Identity{Issuer: "okta", Subject: "a"}}
			s, data, err := p.openLegacy(ex, httptest.NewRequest("GET", tt.stream, nil), []byte(tt.data), &eventStream{})
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.want {
				t.Errorf("endpoint = %q, want %q", data, tt.want)
			}
			for _, u := range tt.post {
				if got := p.legacy.lookup(mustURL(t, u)); got != s {
					t.Errorf("POST %s does not reach the session", u)
				}
			}
			for _, u := range tt.notPost {
				if got := p.legacy.lookup(mustURL(t, u)); got != nil {
					t.Errorf("POST %s reaches the session", u)
				}
			}
			if _, _, err := p.openLegacy(ex, httptest.NewRequest("GET", tt.stream, nil), []byte(tt.data), &eventStream{}); err == nil {
				t.Errorf("a second stream took the same endpoint")
			}
			p.legacy.remove(s)
			if p.legacy.lookup(mustURL(t, tt.post[0])) != nil {
				t.Errorf("the session outlived its stream")
			}
		})
	}
}

func TestOpenLegacyRefuses(t *testing.T) {
	p := New(Options{})
	id := &authn.Identity{Issuer: "okta", Subject: "a"}
	get := httptest.NewRequest("GET", "http://127.0.0.1:3001/sse", nil)
	for name, tc := range map[string]struct {
		transport v1alpha1.Transport
		method    string
		data      string
	}{
		"a Streamable HTTP upstream":  {v1alpha1.TransportStreamableHTTP, "GET", "/message?sessionId=1"},
		"on a POST's reply":           {v1alpha1.TransportSSE, "POST", "/message?sessionId=1"},
		"a URL that does not parse":   {v1alpha1.TransportSSE, "GET", "http://[::1/x"},
		"a query that does not parse": {v1alpha1.TransportSSE, "GET", "/message?sessionId=1;2"},
	} {
		req := get
		if tc.method != "GET" {
			req = httptest.NewRequest(tc.method, get.URL.String(), nil)
		}
		ex := &exchange{snap: &Snapshot{Transport: tc.transport}, identity: id}
		if _, _, err := p.openLegacy(ex, req, []byte(tc.data), &eventStream{}); err == nil {
			t.Errorf("%s: endpoint accepted", name)
		} else if strings.Contains(err.Error(), "sessionId") {
			t.Errorf("%s: error %q holds the endpoint", name, err)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
