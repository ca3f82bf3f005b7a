package sse

// ContentType is the media type of an event stream.
const ContentType = "text/event-stream"

// Event is one server-sent event.
type Event struct {
	// ID is the event's "id" field; "" when it has none. Unlike an
	// EventSource, the Reader does not carry an id over to later events.
	ID string
	// Type is the "event" field; "" means the default type, "message".
	Type string
	// Data is the "data" field, its lines joined with "\n". An event with
	// an ID and empty Data is a priming event (MCP 2025-11-25).
	Data []byte
	// Retry is the "retry" field, the reconnection time in milliseconds;
	// 0 when absent.
	Retry int
}
