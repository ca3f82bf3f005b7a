package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/policy"
)

// Every error a caller sees is built here, with a stable JSON-RPC code, a
// sentence a human understands and the audit reference that finds the
// decision in the sidecar's log.

// errorData is the `data` member of Airlock's JSON-RPC errors.
type errorData struct {
	Reference string `json:"reference"`
	Policy    string `json:"policy,omitempty"`
	Rule      string `json:"rule,omitempty"`
}

// deniedResponse answers a call the policy blocked.
func deniedResponse(id json.RawMessage, m *mcp.Message, d policy.Decision, ref string) []byte {
	what := describe(m)
	var msg string
	if d.Rule == "" {
		msg = fmt.Sprintf("%s is not allowed: %s; reference %s", what, d.Reason, ref)
	} else {
		msg = fmt.Sprintf("%s is blocked by rule %s in policy %s; reference %s", what, d.Rule, d.Policy, ref)
	}
	return mcp.NewError(id, mcp.CodeDenied, msg, errorData{Reference: ref, Policy: d.Policy, Rule: d.Rule})
}

// approvalRequiredResponse answers a call that needs a human's approval.
func approvalRequiredResponse(id json.RawMessage, m *mcp.Message, d policy.Decision, ref string) []byte {
	msg := fmt.Sprintf("%s requires approval (rule %s in policy %s); reference %s", describe(m), d.Rule, d.Policy, ref)
	return mcp.NewError(id, mcp.CodeApprovalRequired, msg, errorData{Reference: ref, Policy: d.Policy, Rule: d.Rule})
}

// headerMismatchResponse answers a request whose headers contradict its
// body (HeaderMismatch, MCP 2026-07-28).
func headerMismatchResponse(id json.RawMessage, reason, ref string) []byte {
	return mcp.NewError(id, mcp.CodeHeaderMismatch, "Header mismatch: "+reason+"; reference "+ref, errorData{Reference: ref})
}

// versionData is the data of an UnsupportedProtocolVersion error: the
// spec's supported and requested, and Airlock's reference.
type versionData struct {
	Supported []string `json:"supported"`
	Requested string   `json:"requested"`
	Reference string   `json:"reference"`
}

// unsupportedVersionResponse answers a request of a protocol revision the
// sidecar does not police, listing the ones it does.
func unsupportedVersionResponse(id json.RawMessage, requested, ref string) []byte {
	msg := fmt.Sprintf("Unsupported protocol version %q: the Airlock sidecar polices %s; reference %s",
		requested, strings.Join(mcp.Versions(), ", "), ref)
	return mcp.NewError(id, mcp.CodeUnsupportedProtocolVersion, msg,
		versionData{Supported: mcp.Versions(), Requested: requested, Reference: ref})
}

// describe names what a message acts on: "tool delete_all", "prompt p",
// "resource file:///x".
func describe(m *mcp.Message) string {
	switch m.Method {
	case mcp.MethodToolsCall:
		return "tool " + m.Target()
	case mcp.MethodPromptsGet:
		return "prompt " + m.Target()
	case mcp.MethodResourcesRead, mcp.MethodResourcesSubscribe:
		return "resource " + m.Target()
	}
	return "method " + m.Method
}

// writeJSON writes a JSON-RPC body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", mcp.ContentTypeJSON)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes a JSON-RPC error not tied to a request id.
func writeError(w http.ResponseWriter, status, code int, msg, ref string) {
	writeJSON(w, status, mcp.NewError(nil, code, msg+"; reference "+ref, errorData{Reference: ref}))
}
