package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Kind says which of the four JSON-RPC message shapes a message has.
type Kind uint8

const (
	// KindRequest has a method and an id, and expects a response.
	KindRequest Kind = iota + 1
	// KindNotification has a method and no id.
	KindNotification
	// KindResponse has an id and a result.
	KindResponse
	// KindErrorResponse has an id (null when the request's was unreadable)
	// and an error.
	KindErrorResponse
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	case KindErrorResponse:
		return "error response"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one decoded JSON-RPC message. Its byte slices alias the body
// it was decoded from: they are exact, and valid as long as the body is.
type Message struct {
	// Raw is the message exactly as received, without surrounding space.
	Raw  json.RawMessage
	Kind Kind
	// ID is the id exactly as received (a string or number; "null" only in
	// an error response); nil for notifications.
	ID json.RawMessage
	// Method is set for requests and notifications.
	Method string
	// Params is the params object or array; nil when absent or null.
	Params json.RawMessage
	// Arguments is params.arguments of tools/call and prompts/get; nil when
	// absent or null.
	Arguments json.RawMessage
	// ProgressToken is params._meta.progressToken (a string or number) when
	// the sender asked for progress notifications; nil otherwise.
	ProgressToken json.RawMessage
	// ProtocolVersion is params._meta["io.modelcontextprotocol/protocolVersion"]
	// (2026-07-28), "" when absent or not a string.
	ProtocolVersion string
	// Result is the result of a response.
	Result json.RawMessage
	// Error is the error of an error response.
	Error *ErrorObject

	target string
}

// Target is what a request acts on, for policy: the tool name of
// tools/call, the prompt name of prompts/get, the resource URI of
// resources/read and resources/subscribe; "" for other messages. Notifications with these methods
// have a target too, so that they are policed like requests.
func (m *Message) Target() string { return m.target }

// ErrorObject is the error member of a JSON-RPC error response.
type ErrorObject struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// DecodeError says why a body is not acceptable JSON-RPC. It never contains
// message contents, so it is safe to log and to send back: see Response.
type DecodeError struct {
	// Code is the JSON-RPC code to answer with: CodeParseError,
	// CodeInvalidRequest or CodeInvalidParams.
	Code int
	// ID is the offending message's id when it could be read, so the answer
	// can name it; nil otherwise (answer with a null id).
	ID json.RawMessage
	// Index is the offending message's position in a batch.
	Index int
	// Reason is what is wrong, for a human.
	Reason string
}

func (e *DecodeError) Error() string {
	return "mcp: " + e.message()
}

func (e *DecodeError) message() string {
	switch e.Code {
	case CodeParseError:
		return "parse error: " + e.Reason
	case CodeInvalidParams:
		return "invalid params: " + e.Reason
	}
	return "invalid request: " + e.Reason
}

// Response is the JSON-RPC error response that answers the bad message.
func (e *DecodeError) Response() []byte {
	return NewError(e.ID, e.Code, e.message(), nil)
}

// Decode decodes a body holding one JSON-RPC message, or a batch of them as
// a JSON array (2025-03-26; the caller decides whether the negotiated
// protocol version allows batches). The messages alias body.
//
// A batch is refused as a whole when any of its messages is bad, with the
// DecodeError's Index saying which. Errors are *DecodeError.
func Decode(body []byte) (msgs []Message, batch bool, err error) {
	start := skipSpace(body, 0)
	end := len(body)
	for end > start && isSpace(body[end-1]) {
		end--
	}
	if start == end {
		return nil, false, &DecodeError{Code: CodeParseError, Reason: "empty body"}
	}
	if !utf8.Valid(body) {
		return nil, false, &DecodeError{Code: CodeParseError, Reason: "body is not UTF-8"}
	}
	if !json.Valid(body) {
		return nil, false, &DecodeError{Code: CodeParseError, Reason: "body is not valid JSON"}
	}
	if body[start] != '[' {
		m, derr := decodeMessage(body, span{start, end})
		if derr != nil {
			return nil, false, derr
		}
		return []Message{m}, false, nil
	}

	c, _ := open(body, span{start, end})
	for {
		v, ok := c.element()
		if !ok {
			break
		}
		m, derr := decodeMessage(body, v)
		if derr != nil {
			derr.Index = len(msgs)
			return nil, true, derr
		}
		msgs = append(msgs, m)
	}
	if c.bad {
		return nil, true, &DecodeError{Code: CodeParseError, Reason: "batch is malformed"}
	}
	if len(msgs) == 0 {
		return nil, true, &DecodeError{Code: CodeInvalidRequest, Reason: "empty batch"}
	}
	return msgs, true, nil
}

// Members of the JSON-RPC envelope, in the order of the constants below.
var envelope = names{"jsonrpc", "id", "method", "params", "result", "error"}

const (
	fJSONRPC = iota
	fID
	fMethod
	fParams
	fResult
	fError
)

func invalid(reason string) *DecodeError {
	return &DecodeError{Code: CodeInvalidRequest, Reason: reason}
}

// decodeMessage decodes the message at v, which json.Valid has accepted.
func decodeMessage(b []byte, v span) (Message, *DecodeError) {
	m := Message{Raw: b[v.start:v.end:v.end]}
	if kindOf(b, v) != '{' {
		return m, invalid("message is not a JSON object")
	}
	f, reason := readObject(b, v, envelope)
	var derr *DecodeError
	switch {
	case reason != "":
		derr = invalid("message " + reason)
	case !f.has(fJSONRPC) || !isJSONRPC20(b, f[fJSONRPC]):
		derr = invalid(`"jsonrpc" must be "2.0"`)
	case f.has(fMethod):
		derr = m.decodeCall(b, &f)
	case f.has(fResult) && f.has(fError):
		derr = invalid(`a response must not have both "result" and "error"`)
	case f.has(fResult):
		derr = m.decodeResponse(b, &f)
	case f.has(fError):
		derr = m.decodeErrorResponse(b, &f)
	default:
		derr = invalid(`message has none of "method", "result" and "error"`)
	}
	if derr != nil && derr.ID == nil && reason == "" {
		// Name the message's id in the answer when it is sound; a message
		// that could not be read unambiguously is answered with a null id.
		switch id := f[fID]; kindOf(b, id) {
		case '"', '0':
			derr.ID = b[id.start:id.end:id.end]
		}
	}
	return m, derr
}

func isJSONRPC20(b []byte, v span) bool {
	if string(b[v.start:v.end]) == `"2.0"` {
		return true
	}
	s, ok := stringValue(b, v)
	return ok && s == "2.0"
}

// readID sets m.ID from the id member; nullOK admits null.
func (m *Message) readID(b []byte, f *fields, nullOK bool) *DecodeError {
	v := f[fID]
	switch kindOf(b, v) {
	case '"', '0':
	case 'n':
		if !nullOK {
			return invalid(`"id" must not be null`)
		}
	default:
		return invalid(`"id" must be a string or a number`)
	}
	m.ID = b[v.start:v.end:v.end]
	return nil
}

// decodeCall decodes a request or notification.
func (m *Message) decodeCall(b []byte, f *fields) *DecodeError {
	if f.has(fResult) || f.has(fError) {
		return invalid(`a request must not have "result" or "error"`)
	}
	m.Kind = KindNotification
	if f.has(fID) {
		m.Kind = KindRequest
		if derr := m.readID(b, f, false); derr != nil {
			return derr
		}
	}
	method, ok := methodValue(b, f[fMethod])
	if !ok {
		return invalid(`"method" must be a non-empty string`)
	}
	m.Method = method
	if f.has(fParams) {
		switch kindOf(b, f[fParams]) {
		case '{', '[':
			v := f[fParams]
			m.Params = b[v.start:v.end:v.end]
		case 'n':
			// Tolerated as absent: deployed clients send "params": null
			// and MCP servers accept it.
		default:
			return invalid(`"params" must be an object or an array`)
		}
	}
	return m.decodeParams(b, f[fParams])
}

// Members of params that the proxy polices, in the order of the constants.
var paramNames = names{"name", "uri", "arguments", "_meta"}

const (
	pName = iota
	pURI
	pArguments
	pMeta
)

var metaNames = names{"progressToken", MetaProtocolVersion}

const (
	mProgressToken = iota
	mProtocolVersion
)

func invalidParams(reason string) *DecodeError {
	return &DecodeError{Code: CodeInvalidParams, Reason: reason}
}

// decodeParams reads the target, arguments and progress token. Methods
// the proxy polices by target must have unambiguous params; for the others
// a progress token is read when it can be.
func (m *Message) decodeParams(b []byte, pv span) *DecodeError {
	targetField := -1
	switch m.Method {
	case MethodToolsCall, MethodPromptsGet:
		targetField = pName
	case MethodResourcesRead, MethodResourcesSubscribe:
		targetField = pURI
	}
	if targetField < 0 {
		if m.Params != nil && m.Params[0] == '{' {
			if p, reason := readObject(b, pv, paramNames); reason == "" {
				m.readMeta(b, p[pMeta])
			}
		}
		return nil
	}

	if m.Params == nil || m.Params[0] != '{' {
		return invalidParams(`"params" must be an object`)
	}
	p, reason := readObject(b, pv, paramNames)
	if reason != "" {
		return invalidParams(`"params" ` + reason)
	}
	t, ok := stringValue(b, p[targetField])
	if !ok || t == "" {
		return invalidParams(`"params.` + paramNames[targetField] + `" must be a non-empty string`)
	}
	m.target = t
	if targetField == pName {
		switch v := p[pArguments]; kindOf(b, v) {
		case '{':
			m.Arguments = b[v.start:v.end:v.end]
		case 0, 'n':
			// Absent, or null, which deployed clients send for "none".
		default:
			return invalidParams(`"params.arguments" must be an object`)
		}
	}
	if reason := m.readMeta(b, p[pMeta]); reason != "" {
		return invalidParams(`"params._meta" ` + reason)
	}
	return nil
}

// readMeta sets ProgressToken and ProtocolVersion from the _meta object at
// v, if any.
func (m *Message) readMeta(b []byte, v span) (reason string) {
	if kindOf(b, v) != '{' {
		return ""
	}
	meta, reason := readObject(b, v, metaNames)
	if reason != "" {
		return reason
	}
	switch t := meta[mProgressToken]; kindOf(b, t) {
	case '"', '0':
		m.ProgressToken = b[t.start:t.end:t.end]
	}
	if v, ok := versionValue(b, meta[mProtocolVersion]); ok {
		m.ProtocolVersion = v
	}
	return ""
}

// decodeResponse decodes a success response.
func (m *Message) decodeResponse(b []byte, f *fields) *DecodeError {
	m.Kind = KindResponse
	if !f.has(fID) {
		return invalid(`a response must have an "id"`)
	}
	if derr := m.readID(b, f, false); derr != nil {
		return derr
	}
	v := f[fResult]
	m.Result = b[v.start:v.end:v.end]
	return nil
}

var errorNames = names{"code", "message", "data"}

// decodeErrorResponse decodes an error response.
func (m *Message) decodeErrorResponse(b []byte, f *fields) *DecodeError {
	m.Kind = KindErrorResponse
	if !f.has(fID) {
		return invalid(`an error response must have an "id"`)
	}
	if derr := m.readID(b, f, true); derr != nil {
		return derr
	}
	e, reason := readObject(b, f[fError], errorNames)
	if reason != "" {
		return invalid(`"error" ` + reason)
	}
	if kindOf(b, e[0]) != '0' {
		return invalid(`"error.code" must be an integer`)
	}
	code, err := strconv.Atoi(string(b[e[0].start:e[0].end]))
	if err != nil {
		return invalid(`"error.code" must be an integer`)
	}
	msg, ok := stringValue(b, e[1])
	if !ok {
		return invalid(`"error.message" must be a string`)
	}
	m.Error = &ErrorObject{Code: code, Message: msg}
	if e.has(2) {
		m.Error.Data = b[e[2].start:e[2].end:e[2].end]
	}
	return nil
}

// methodValue decodes a method name, without allocating for known methods.
func methodValue(b []byte, v span) (string, bool) {
	if kindOf(b, v) == '"' {
		if s, ok := knownMethod(b[v.start+1 : v.end-1]); ok {
			return s, true
		}
	}
	s, ok := stringValue(b, v)
	return s, ok && s != ""
}

// versionValue decodes a protocol version, without allocating for known
// ones.
func versionValue(b []byte, v span) (string, bool) {
	if kindOf(b, v) == '"' {
		raw := b[v.start+1 : v.end-1]
		for _, ver := range knownVersions {
			if string(raw) == string(ver) {
				return string(ver), true
			}
		}
	}
	return stringValue(b, v)
}

// SameID reports whether two ids name the same request: equal strings, or
// equal numbers however they are written (1, 1.0, 1e0), since a server that
// decodes and re-encodes ids answers 1.0 with 1.
func SameID(a, b json.RawMessage) bool {
	if string(a) == string(b) {
		return true
	}
	va, vb := span{0, len(a)}, span{0, len(b)}
	switch ka := kindOf(a, va); {
	case ka != kindOf(b, vb):
		return false
	case ka == '"':
		sa, okA := stringValue(a, va)
		sb, okB := stringValue(b, vb)
		return okA && okB && sa == sb
	case ka == '0':
		fa, errA := strconv.ParseFloat(string(a), 64)
		fb, errB := strconv.ParseFloat(string(b), 64)
		return errA == nil && errB == nil && fa == fb
	}
	return false
}

// ErrTooLarge is returned by ReadBody for a body beyond its limit.
var ErrTooLarge = errors.New("mcp: message body exceeds the size limit")

// ReadBody reads all of r, failing with ErrTooLarge beyond limit bytes (a
// limit of zero or less admits only an empty body). It also maps the error
// of an http.MaxBytesReader to ErrTooLarge.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	limit = max(limit, 0)
	body, err := io.ReadAll(io.LimitReader(r, min(limit, math.MaxInt64-1)+1))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) || int64(len(body)) > limit {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("mcp: reading message body: %w", err)
	}
	return body, nil
}
