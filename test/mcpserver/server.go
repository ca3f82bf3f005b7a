// Package mcpserver is a real MCP server for tests, built with the go-sdk and
// served on 127.0.0.1: tools that echo, that would destroy things, that leak
// secrets, that report progress, and that ask the caller for input. It counts
// the calls each tool receives (and the calls cancelled under it) and
// remembers the headers it was reached with, so tests can prove what the
// sidecar let through. It speaks Streamable HTTP on /mcp, or the legacy
// HTTP+SSE transport on /sse.
package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Leaked values the "leak" tool returns, for masking tests.
const (
	LeakedAWSKey = "AKIAIOSFODNN7EXAMPLE"
	LeakedEmail  = "jane.doe@example.com"
)

// Options choose how the server speaks Streamable HTTP.
type Options struct {
	// Stateless: no sessions (go-sdk Stateless mode).
	Stateless bool
	// JSONResponse: answer POSTs with application/json instead of SSE.
	JSONResponse bool
	// HoldSlow makes the "slow" tool wait after its first progress
	// notification until Release is called: a test that only releases it
	// once that notification has arrived proves the stream is not buffered.
	HoldSlow bool
	// EventStore makes streams resumable with Last-Event-ID (2025-11-25):
	// events are kept in memory and replayed.
	EventStore bool
	// LegacySSE serves the legacy HTTP+SSE transport (2024-11-05) with the
	// go-sdk's SSEHandler on /sse instead of Streamable HTTP on /mcp.
	LegacySSE bool
}

// Server is a running test MCP server.
type Server struct {
	URL string // the MCP endpoint, .../mcp (or .../sse)

	srv       *httptest.Server
	server    *mcp.Server
	calls     sync.Map // tool name -> *atomic.Int64
	cancelled sync.Map // tool name -> *atomic.Int64

	mu      sync.Mutex
	headers []http.Header

	hold    chan struct{}
	release sync.Once
}

type echoIn struct {
	Text string `json:"text" jsonschema:"text to echo back"`
}

type deleteIn struct {
	Target string `json:"target,omitempty"`
}

type slowIn struct {
	Steps int `json:"steps" jsonschema:"how many progress notifications to send"`
}

type confirmOut struct {
	Answer string `json:"answer"`
}

func boolPtr(b bool) *bool { return &b }

// Start serves a new test server until Close.
func Start(o Options) *Server {
	s := &Server{}
	if o.HoldSlow {
		s.hold = make(chan struct{})
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "airlock-test-server", Version: "v0.0.1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Echo text back.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			s.count(&s.calls, "echo")
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "delete_all", Description: "Delete every model.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(true)}},
		func(_ context.Context, _ *mcp.CallToolRequest, _ deleteIn) (*mcp.CallToolResult, any, error) {
			s.count(&s.calls, "delete_all")
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deleted everything"}}}, nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "leak", Description: "Return a secret and an email address."},
		func(_ context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			s.count(&s.calls, "leak")
			text := fmt.Sprintf("aws key %s belongs to %s", LeakedAWSKey, LeakedEmail)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "slow", Description: "Report progress, then finish."},
		func(ctx context.Context, req *mcp.CallToolRequest, in slowIn) (*mcp.CallToolResult, any, error) {
			s.count(&s.calls, "slow")
			if token := req.Params.GetProgressToken(); token != nil {
				for i := range in.Steps {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: token, Progress: float64(i + 1), Total: float64(in.Steps), Message: "working",
					})
					if i == 0 && s.hold != nil {
						select {
						case <-s.hold:
						case <-ctx.Done():
							s.count(&s.cancelled, "slow")
							return nil, nil, ctx.Err()
						}
					}
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
		})
	// confirm asks the caller for input before it acts: in 2026-07-28 with an
	// InputRequiredResult (multi round-trip), earlier with an elicitation
	// request. Its question holds LeakedEmail, for masking tests.
	mcp.AddTool(server, &mcp.Tool{Name: "confirm", Description: "Ask the caller to confirm, then act."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, *confirmOut, error) {
			s.count(&s.calls, "confirm")
			res, ok := req.Params.InputResponses["confirm"].(*mcp.ElicitResult)
			if !ok {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"confirm": &mcp.ElicitParams{
					Message: "Notify " + LeakedEmail + "? Answer yes or no.",
					RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{
						"answer": map[string]any{"type": "string"},
					}},
				}}}, nil, nil
			}
			answer, _ := res.Content["answer"].(string)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "confirmed: " + answer}}}, nil, nil
		})
	s.server = server

	var h http.Handler
	path := "/mcp"
	if o.LegacySSE {
		path = "/sse"
		h = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return server }, nil)
	} else {
		opts := &mcp.StreamableHTTPOptions{Stateless: o.Stateless, JSONResponse: o.JSONResponse,
			// In 2026-07-28 a caller that closes its stream cancels the call.
			PropagateRequestCancellation: true}
		if o.EventStore {
			opts.EventStore = mcp.NewMemoryEventStore(nil)
		}
		h = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, opts)
	}
	mux := http.NewServeMux()
	mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + path
	return s
}

func (s *Server) count(m *sync.Map, tool string) {
	c, _ := m.LoadOrStore(tool, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

func load(m *sync.Map, tool string) int64 {
	if c, ok := m.Load(tool); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// Calls is how many times tool ran.
func (s *Server) Calls(tool string) int64 { return load(&s.calls, tool) }

// Cancelled is how many calls of tool were cancelled while they ran.
func (s *Server) Cancelled(tool string) int64 { return load(&s.cancelled, tool) }

// Log sends a notifications/message with text to every session that asked
// for log messages (logging/setLevel): outside any request, it goes on the
// session's standalone stream (GET) of the 2025-xx revisions.
func (s *Server) Log(ctx context.Context, text string) {
	for ss := range s.server.Sessions() {
		//nolint:staticcheck // deprecated from 2026-07-28; tests use it in the older revisions that have it.
		_ = ss.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Data: text})
	}
}

// Headers returns a copy of the headers of every request received.
func (s *Server) Headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...)
}

// Release lets a held "slow" tool finish.
func (s *Server) Release() {
	if s.hold != nil {
		s.release.Do(func() { close(s.hold) })
	}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }
