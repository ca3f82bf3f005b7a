package mcp

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// HTTP headers of the MCP Streamable HTTP transport.
const (
	HeaderSessionID       = "Mcp-Session-Id"
	HeaderProtocolVersion = "MCP-Protocol-Version"
	HeaderLastEventID     = "Last-Event-ID"
	// HeaderMethod and HeaderName mirror the body's method and target
	// (2026-07-28); they must match it.
	HeaderMethod = "Mcp-Method"
	HeaderName   = "Mcp-Name"
	// HeaderParamPrefix starts the headers that mirror tool arguments a
	// server marked with x-mcp-header (2026-07-28), e.g. Mcp-Param-Region.
	HeaderParamPrefix = "Mcp-Param-"
)

// MetaProtocolVersion is the params._meta member that carries a request's
// protocol version (2026-07-28); on HTTP it must equal MCP-Protocol-Version.
const MetaProtocolVersion = "io.modelcontextprotocol/protocolVersion"

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

var knownVersions = [...]Version{Version20260728, Version20251125, Version20250618, Version20250326, Version20241105}

// Versions returns the revisions Airlock knows, newest first: what an
// UnsupportedProtocolVersion error lists as supported.
func Versions() []string {
	out := make([]string, len(knownVersions))
	for i, v := range knownVersions {
		out[i] = string(v)
	}
	return out
}

// Known reports whether v is a revision Airlock knows.
func (v Version) Known() bool {
	for _, k := range knownVersions {
		if v == k {
			return true
		}
	}
	return false
}

// AllowsBatch reports whether v lets a body hold a JSON-RPC batch.
func (v Version) AllowsBatch() bool { return v == Version20250326 }

// MirrorsHeaders reports whether requests of v carry Mcp-Method and
// Mcp-Name headers, which must match the body.
func (v Version) MirrorsHeaders() bool { return v.Known() && v >= Version20260728 }

// The Base64 sentinel that carries a header value which is not plain
// printable ASCII (2026-07-28): =?base64?<standard Base64 of UTF-8>?=.
const (
	base64Prefix = "=?base64?"
	base64Suffix = "?="
)

// DecodeHeaderValue returns the value an Mcp-Name or Mcp-Param-* header
// carries: the decoded text of a Base64 sentinel, else the value itself.
// ok is false for a sentinel that is not valid Base64 of UTF-8 text.
func DecodeHeaderValue(v string) (value string, ok bool) {
	inner, found := strings.CutPrefix(v, base64Prefix)
	if !found {
		return v, true
	}
	inner, found = strings.CutSuffix(inner, base64Suffix)
	if !found {
		return v, true
	}
	b, err := base64.StdEncoding.DecodeString(inner)
	if err != nil || !validText(b) {
		return "", false
	}
	return string(b), true
}

// validText reports whether b is UTF-8 without the replacement character,
// the same test stringValue applies to names in a body.
func validText(b []byte) bool {
	return utf8.Valid(b) && !bytes.ContainsRune(b, utf8.RuneError)
}
