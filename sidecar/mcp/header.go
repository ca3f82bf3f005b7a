package mcp

// HTTP headers of the MCP Streamable HTTP transport.
const (
	HeaderSessionID       = "Mcp-Session-Id"
	HeaderProtocolVersion = "MCP-Protocol-Version"
	HeaderLastEventID     = "Last-Event-ID"
	// HeaderMethod and HeaderName mirror the body's method and target
	// (2026-07-28); they must match it.
	HeaderMethod = "Mcp-Method"
	HeaderName   = "Mcp-Name"
)

// ContentTypeJSON is the content type of a JSON-RPC body or reply.
const ContentTypeJSON = "application/json"

// Version is an MCP protocol revision, "YYYY-MM-DD". Revisions order as
// strings do.
type Version string

// Protocol revisions Airlock knows.
const (
	// Version20241105 is the first revision, with the legacy HTTP+SSE
	// transport; clients still negotiate it.
	Version20241105 Version = "2024-11-05"
	// Version20250326 introduced Streamable HTTP and JSON-RPC batches. A
	// server assumes it when a request carries no MCP-Protocol-Version.
	Version20250326 Version = "2025-03-26"
	// Version20250618 removed batches and added MCP-Protocol-Version.
	Version20250618 Version = "2025-06-18"
	// Version20251125 added SSE priming events and polling.
	Version20251125 Version = "2025-11-25"
	// Version20260728 is stateless, with Mcp-Method and Mcp-Name headers.
	Version20260728 Version = "2026-07-28"
)

// DefaultVersion is the revision to assume when a request does not say.
const DefaultVersion = Version20250326

// Known reports whether v is a revision Airlock knows.
func (v Version) Known() bool {
	switch v {
	case Version20241105, Version20250326, Version20250618, Version20251125, Version20260728:
		return true
	}
	return false
}

// AllowsBatch reports whether v lets a body hold a JSON-RPC batch.
func (v Version) AllowsBatch() bool { return v == Version20250326 }

// MirrorsHeaders reports whether requests of v carry Mcp-Method and
// Mcp-Name headers, which must match the body.
func (v Version) MirrorsHeaders() bool { return v.Known() && v >= Version20260728 }
