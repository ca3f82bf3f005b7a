package proxy

import (
	"fmt"
	"net/http"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
)

// From 2026-07-28 a request says in its headers what its body says —
// MCP-Protocol-Version equal to params._meta's
// io.modelcontextprotocol/protocolVersion, Mcp-Method, and Mcp-Name for
// calls that name a tool, prompt or resource — so that load balancers and
// gateways can route without reading the body. The sidecar reads the body
// and decides on it; a header that says something else could make another
// hop act on what the sidecar did not decide on, so such a request is
// refused (400, HeaderMismatch) and never forwarded. Headers that an older
// era does not require must still agree when present.

// checkProtocol refuses, and answers, a request of a protocol revision the
// sidecar does not police, a batch where the revision has none, and a POST
// whose headers contradict its body (msgs; none for GET and DELETE).
func (p *Proxy) checkProtocol(w http.ResponseWriter, r *http.Request, ex *exchange, msgs []mcp.Message, batch bool) bool {
	var id []byte // the request to name in an error, when there is one
	if len(msgs) == 1 && !batch {
		id = msgs[0].ID
	}
	versions := r.Header.Values(mcp.HeaderProtocolVersion)
	version := mcp.DefaultVersion
	if len(versions) > 0 {
		version = mcp.Version(versions[0])
	}
	var mismatch string
	switch {
	case len(versions) > 1:
		mismatch = "more than one MCP-Protocol-Version header"
	case !version.Known():
		ex.outcome = outcomeError
		p.opts.Log.V(1).Info("unsupported protocol version", "server", ex.snap.Server, "reference", ex.ref)
		writeJSON(w, http.StatusBadRequest, unsupportedVersionResponse(id, string(version), ex.ref))
		return false
	case batch && !version.AllowsBatch():
		ex.outcome = outcomeError
		writeError(w, http.StatusBadRequest, mcp.CodeInvalidRequest, "JSON-RPC batches are only allowed in protocol version 2025-03-26", ex.ref)
		return false
	default:
		mismatch = mirrorMismatch(r.Header, version, msgs, batch)
	}
	if mismatch == "" {
		return true
	}
	ex.outcome = outcomeError
	p.opts.Log.Info("request headers contradict its body; not forwarded", "server", ex.snap.Server, "reference", ex.ref,
		"issuer", ex.identity.Issuer, "subject", ex.identity.Subject)
	writeJSON(w, http.StatusBadRequest, headerMismatchResponse(id, mismatch, ex.ref))
	return false
}

// mirrorMismatch says how the headers of a POST contradict its messages,
// or "" when they agree.
func mirrorMismatch(h http.Header, version mcp.Version, msgs []mcp.Message, batch bool) string {
	methods, names := h.Values(mcp.HeaderMethod), h.Values(mcp.HeaderName)
	switch {
	case len(msgs) == 0:
		return ""
	case len(methods) > 1:
		return "more than one Mcp-Method header"
	case len(names) > 1:
		return "more than one Mcp-Name header"
	case batch && len(methods)+len(names) > 0:
		return "Mcp-Method and Mcp-Name headers cannot describe a batch"
	}
	// Without a version header (2025-03-26 and earlier, and the HTTP+SSE
	// transport, which has none) nothing mirrors _meta's version: a
	// 2026-07-28 server refuses such a request itself, an older one serves
	// it as its own era, and the sidecar polices the body either way.
	header := h.Get(mcp.HeaderProtocolVersion)
	for i := range msgs {
		if v := msgs[i].ProtocolVersion; v != "" && header != "" && v != header {
			return fmt.Sprintf("MCP-Protocol-Version header value %q does not match body value %q", header, v)
		}
	}
	if batch {
		return ""
	}

	m := &msgs[0]
	required := version.MirrorsHeaders() && m.Kind == mcp.KindRequest
	if required && m.ProtocolVersion == "" {
		return fmt.Sprintf("the body's params._meta has no %q to match MCP-Protocol-Version %q", mcp.MetaProtocolVersion, header)
	}
	switch {
	case len(methods) == 1 && methods[0] != m.Method:
		return fmt.Sprintf("Mcp-Method header value %q does not match body value %q", methods[0], m.Method)
	case len(methods) == 0 && required:
		return "the Mcp-Method header is missing"
	}
	// Target is set for the methods that Mcp-Name mirrors (tools/call,
	// prompts/get, resources/read) and for resources/subscribe, which names
	// a resource too (and has no 2026-07-28 form).
	target := m.Target()
	switch {
	case len(names) == 0:
		if required && target != "" {
			return "the Mcp-Name header is missing"
		}
	case target == "":
		return fmt.Sprintf("Mcp-Name header given for method %q, which names no tool, prompt or resource", m.Method)
	default:
		name, ok := mcp.DecodeHeaderValue(names[0])
		if !ok {
			return "Mcp-Name header value is not valid Base64 of UTF-8 text"
		}
		if name != target {
			return fmt.Sprintf("Mcp-Name header value %q does not match body value %q", names[0], target)
		}
	}
	return ""
}
