package mcp

import (
	"encoding/json"
	"strconv"
)

// JSON-RPC error codes. Every error the proxy answers with uses one of
// these; the Airlock codes are stable, callers may match on them.
const (
	// CodeParseError: the body is not JSON (JSON-RPC 2.0).
	CodeParseError = -32700
	// CodeInvalidRequest: the JSON is not a valid JSON-RPC message (JSON-RPC 2.0).
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: the method does not exist (JSON-RPC 2.0).
	CodeMethodNotFound = -32601
	// CodeInvalidParams: the params do not fit the method (JSON-RPC 2.0).
	CodeInvalidParams = -32602
	// CodeInternal: Airlock failed and, failing closed, did not forward the
	// message (JSON-RPC 2.0 internal error).
	CodeInternal = -32603

	// Airlock's own codes sit in -32080…-32089 of JSON-RPC's server-error
	// range, clear of the codes MCP and its SDKs use (-32002 resource not
	// found, -32042 URL elicitation required, -32000/-32001 SDK transport
	// errors), so a client never mistakes a refusal for something else.

	// CodeDenied: the message was blocked by policy.
	CodeDenied = -32080
	// CodeApprovalRequired: the call needs a human's approval.
	CodeApprovalRequired = -32081
	// CodeApprovalDenied: an approver denied the call.
	CodeApprovalDenied = -32082
	// CodeApprovalExpired: no approver decided before the approval timed out.
	CodeApprovalExpired = -32083
	// CodeUpstreamUnavailable: the MCP server behind Airlock did not answer.
	CodeUpstreamUnavailable = -32084

	// CodeHeaderMismatch: the Mcp-Method or Mcp-Name header is missing or
	// does not match the body (MCP 2026-07-28).
	CodeHeaderMismatch = -32020
	// CodeUnsupportedProtocolVersion: the MCP-Protocol-Version is not one
	// Airlock knows (MCP 2026-07-28).
	CodeUnsupportedProtocolVersion = -32022
)

// NewError is the JSON-RPC error response with the given id (nil or invalid
// JSON: null), code, message and optional data. When data cannot be
// encoded it is left out: the caller still gets the code and message.
func NewError(id json.RawMessage, code int, message string, data any) []byte {
	var raw json.RawMessage
	if data != nil {
		if b, err := json.Marshal(data); err == nil {
			raw = b
		}
	}
	b, err := json.Marshal(errorResponse{
		JSONRPC: "2.0",
		ID:      idOrNull(id),
		Error:   ErrorObject{Code: code, Message: message, Data: raw},
	})
	if err != nil { // unreachable: every part is valid JSON
		return []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":` + strconv.Itoa(CodeInternal) + `,"message":"internal error"}}`)
	}
	return b
}

type errorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   ErrorObject     `json:"error"`
}

func idOrNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 || !json.Valid(id) {
		return json.RawMessage("null")
	}
	return id
}

// NewProgress is a notifications/progress message for the progress token
// a caller sent, e.g. while its call waits for approval. progress must grow
// from one notification to the next.
func NewProgress(token json.RawMessage, progress int, message string) []byte {
	type params struct {
		ProgressToken json.RawMessage `json:"progressToken"`
		Progress      int             `json:"progress"`
		Message       string          `json:"message,omitempty"`
	}
	b, _ := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  params `json:"params"`
	}{"2.0", MethodProgress, params{idOrNull(token), progress, message}})
	return b
}

// Batch joins responses, each a JSON-RPC message, into a batch response
// (2025-03-26). It returns nil when there is none: a batch of only
// notifications gets no reply.
func Batch(responses ...[]byte) []byte {
	if len(responses) == 0 {
		return nil
	}
	n := 1 + len(responses)
	for _, r := range responses {
		n += len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, r := range responses {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']')
}
