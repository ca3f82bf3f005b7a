// Package sse reads and writes server-sent event streams
// (text/event-stream, WHATWG HTML §9.2), which MCP servers use to reply
// over Streamable HTTP and the legacy HTTP+SSE transport.
//
// A Reader yields one event at a time, so the proxy relays a stream event
// by event and never buffers it whole; a Writer writes and flushes each
// event. The package never logs, and its errors never contain event data.
package sse
