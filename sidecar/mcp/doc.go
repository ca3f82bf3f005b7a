// Package mcp is the wire layer the Airlock proxy uses to police MCP traffic:
// JSON-RPC 2.0 messages as MCP carries them over Streamable HTTP and the
// legacy HTTP+SSE transport, in every protocol revision from 2024-11-05 to
// 2026-07-28 (batches, the headers that mirror a body, the _meta protocol
// version).
//
// It decodes just enough of each message to decide on it (kind, method, id,
// the tool, prompt or resource it targets, its arguments, a progress token),
// keeps the exact bytes so that allowed messages are forwarded unchanged,
// builds the JSON-RPC errors and notifications the proxy sends itself, and
// rewrites list results to what a caller may use. Package [sse] reads and
// writes the event streams that carry replies.
//
// Decoding is strict, and member names are matched exactly: a message whose
// policed members are duplicated or differ only in case is refused, because
// the proxy and the MCP server behind it must not read one message two ways.
//
// The package never logs, and its errors never contain message contents
// (arguments, results, names): they are safe to log and to send to callers.
package mcp
