package stdio

import (
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
)

// dispatch routes one line of the child's stdout.
func (t *Transport) dispatch(c *child, line []byte) {
	msgs, _, err := mcp.Decode(line)
	if err != nil {
		t.metrics.dropped.WithLabelValues("not_jsonrpc").Inc()
		t.log.Info("dropped a line from the MCP server's stdout: not JSON-RPC", "pid", c.pid, "bytes", len(line))
		return
	}
	for i := range msgs {
		m := &msgs[i]
		switch m.Kind {
		case mcp.KindResponse, mcp.KindErrorResponse:
			t.answer(m)
		case mcp.KindNotification:
			if m.Method == mcp.MethodProgress {
				t.progress(m)
				continue
			}
			t.log.V(1).Info("dropped a notification from the MCP server: no caller stream for it", "pid", c.pid, "method", m.Method)
		case mcp.KindRequest:
			// Nothing to ask: the sidecar initialized the child without
			// roots, sampling or elicitation, and no caller stream could
			// reliably carry the request.
			var reply []byte
			if m.Method == mcp.MethodPing {
				reply = response(m.ID, json.RawMessage("{}"))
			} else {
				t.log.Info("refused a request from the MCP server: Airlock does not relay server requests to stdio callers", "pid", c.pid, "method", m.Method)
				reply = mcp.NewError(m.ID, mcp.CodeMethodNotFound, "method "+m.Method+" is not supported: Airlock does not relay requests from a stdio MCP server to its callers", nil)
			}
			c.trySend(reply)
		}
	}
}

// answer sends a child's response to the caller that made the request.
func (t *Transport) answer(m *mcp.Message) {
	id, ok := parseInternal(m.ID)
	t.mu.Lock()
	cl := t.calls[id]
	if ok && cl != nil {
		delete(t.calls, id)
	}
	t.mu.Unlock()
	if !ok || cl == nil {
		t.log.V(1).Info("dropped a response from the MCP server: no call waits for it")
		return
	}
	out, err := setMember(m.Raw, cl.id, "id")
	if err != nil {
		out = mcp.NewError(cl.id, mcp.CodeUpstreamUnavailable, "the MCP server's answer could not be read", nil)
	}
	cl.ex.replies <- out // room for one reply per call
}

// Where the id of a response stands when the response is too large to read:
// first (go-sdk servers write jsonrpc, id, result) or last (TypeScript SDK
// servers write result, jsonrpc, id). Either way it is a member of the
// outermost object.
var (
	idFirst = regexp.MustCompile(`^\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*"?([0-9]+)"?\s*,`)
	idLast  = regexp.MustCompile(`[,{]\s*"id"\s*:\s*"?([0-9]+)"?\s*\}\s*$`)
)

// oversize answers the call whose response was too large to pass on, if
// the edges of the line say which call that was; the caller would wait in
// vain otherwise.
func (t *Transport) oversize(head, tail []byte) {
	m := idFirst.FindSubmatch(head)
	if m == nil {
		m = idLast.FindSubmatch(tail)
	}
	if m == nil {
		return
	}
	id, ok := parseInternal(m[1])
	t.mu.Lock()
	cl := t.calls[id]
	if ok && cl != nil {
		delete(t.calls, id)
	}
	t.mu.Unlock()
	if ok && cl != nil {
		cl.ex.replies <- mcp.NewError(cl.id, mcp.CodeUpstreamUnavailable,
			"the MCP server's answer is larger than the sidecar accepts ("+strconv.Itoa(t.opts.MaxLineBytes)+" bytes)", nil)
	}
}

// progress sends a child's progress notification to the caller that asked.
func (t *Transport) progress(m *mcp.Message) {
	var p struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if json.Unmarshal(m.Params, &p) != nil {
		return
	}
	id, ok := parseInternal(p.ProgressToken)
	t.mu.Lock()
	cl := t.calls[id]
	t.mu.Unlock()
	if !ok || cl == nil || cl.token == nil {
		t.log.V(1).Info("dropped a progress notification from the MCP server: no call waits for it")
		return
	}
	out, err := setMember(m.Raw, cl.token, "params", "progressToken")
	if err != nil {
		return
	}
	select {
	case cl.ex.progress <- out:
	default:
		t.log.V(1).Info("dropped a progress notification: the caller reads too slowly")
	}
}
