// Package mask redacts secrets and personal data from what MCP servers
// send back, before the caller, the logs, the session recording or an
// ApprovalRequest can see it.
//
// A Masker is compiled once from a Config (built-in detectors, JSON field
// names and paths, custom RE2 patterns, a replacement format and an
// optional HMAC key) and is then immutable and safe for concurrent use.
// Its methods append to a caller's buffer:
//
//   - Message masks one JSON-RPC message or batch (everything but jsonrpc,
//     id and method), which is what the proxy calls per response body and
//     per SSE event;
//   - JSON masks any JSON value, walking its tokens: string values are
//     masked, strings that hold JSON are masked as JSON and re-encoded,
//     member names, numbers, booleans and null are kept, and the output is
//     always valid JSON;
//   - Text masks plain text;
//   - SSEEvent masks one server-sent event.
//
// Each returns Stats, the number of replacements by kind, which the proxy
// exports as airlock_mask_hits_total{detector}.
//
// Detection is one pass per string: bytes are classified through a table
// and detectors run only at the start of a word or at a few punctuation
// marks (@ : = - + (), with checksums (Luhn, IBAN mod 97), issuing rules
// (SSN areas, NANP) and net/netip deciding. Clean text costs a table
// look-up per byte; built-in detectors run no regular expression (custom
// Patterns do, in RE2's linear time). Clean input is copied with one
// append and no allocation.
//
// Masking is best effort over known shapes; it is one layer, not a
// guarantee. This package must never log, print or put into an error any
// part of the data it is given: errors carry offsets only. It keeps no
// state between calls other than pooled scratch buffers.
package mask
