package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"

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

// describe names what a message acts on: "tool delete_all", "prompt p",
// "resource file:///x".
func describe(m *mcp.Message) string {
	switch m.Method {
	case mcp.MethodToolsCall:
		return "tool " + m.Target()
	case mcp.MethodPromptsGet:
		return "prompt " + m.Target()
	case mcp.MethodResourcesRead, methodResourcesSubscribe:
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
