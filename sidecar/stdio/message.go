package stdio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
)

// Methods the Transport handles itself.
const (
	methodInitialized = "notifications/initialized"
	methodDiscover    = "server/discover"
)

// encode is compact JSON without HTML escaping: one stdio line, no newline.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// compact is msg on one line.
func compact(msg []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, msg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// setMember returns the JSON object obj with member key set to val; path
// names the objects to descend into first, created when absent.
func setMember(obj []byte, val json.RawMessage, path ...string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	if len(path) > 1 {
		inner := m[path[0]]
		if len(inner) == 0 || string(inner) == "null" {
			inner = json.RawMessage("{}")
		}
		var err error
		if val, err = setMember(inner, val, path[1:]...); err != nil {
			return nil, err
		}
	}
	m[path[0]] = val
	return encode(m)
}

// internalID is the raw JSON of an id the Transport made.
func internalID(id int64) json.RawMessage { return strconv.AppendInt(nil, id, 10) }

// parseInternal reads an id or progress token the Transport made, which the
// child echoes back as a number (or, from a lenient peer, a string).
func parseInternal(raw json.RawMessage) (int64, bool) {
	s := string(raw)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// toChild is a caller's request with the Transport's id and, when the
// caller asked for progress, the Transport's progress token (the same
// number), on one line.
func toChild(m *mcp.Message, id int64) ([]byte, error) {
	out, err := setMember(m.Raw, internalID(id), "id")
	if err != nil || m.ProgressToken == nil {
		return out, err
	}
	return setMember(out, internalID(id), "params", "_meta", "progressToken")
}

// response is a JSON-RPC success response.
func response(id, result json.RawMessage) []byte {
	b := make([]byte, 0, len(id)+len(result)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	return append(b, '}')
}

// request is a JSON-RPC request or, with a nil id, notification.
func request(id json.RawMessage, method string, params any) []byte {
	b, _ := encode(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id,omitempty"`
		Method  string          `json:"method"`
		Params  any             `json:"params,omitempty"`
	}{"2.0", id, method, params})
	return b
}

// cancelled tells the child to stop working on request id.
func cancelled(id int64, reason string) []byte {
	return request(nil, mcp.MethodCancelled, map[string]any{"requestId": id, "reason": reason})
}

// initializeResult is what the Transport reads of the child's answer to
// initialize; the rest is passed to callers as is.
type initializeResult struct {
	ProtocolVersion string `json:"protocolVersion"`
	ServerInfo      struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"serverInfo"`
}

// session is the child's MCP session, as callers see it.
type session struct {
	result  json.RawMessage // the child's InitializeResult
	version mcp.Version
	name    string
}

// answer is the response to a caller's initialize: the child's result, with
// the caller's protocol version when the child's is newer and the caller's
// is one Airlock knows (MCP revisions only add to one another).
func (s *session) answer(m *mcp.Message) []byte {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(m.Params, &p)
	result := s.result
	if v := mcp.Version(p.ProtocolVersion); v.Known() && v < s.version {
		if r, err := setMember(result, json.RawMessage(strconv.Quote(string(v))), "protocolVersion"); err == nil {
			result = r
		}
	}
	return response(m.ID, result)
}
