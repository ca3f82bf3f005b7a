package proxy

import (
	"fmt"
	"mime"
	"net/http"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/mcp/sse"
)

// rewrite polices a body of server messages (one message or a batch) on its
// way to the caller: list results are filtered to what the caller may use
// and every message is masked.
func (p *Proxy) rewrite(ex *exchange, body []byte) ([]byte, error) {
	msgs, batch, err := mcp.Decode(body)
	if err != nil {
		return nil, err
	}
	if !batch {
		return p.rewriteMessage(ex, &msgs[0])
	}
	parts := make([][]byte, 0, len(msgs))
	for i := range msgs {
		out, err := p.rewriteMessage(ex, &msgs[i])
		if err != nil {
			return nil, err
		}
		parts = append(parts, out)
	}
	return mcp.Batch(parts...), nil
}

func (p *Proxy) rewriteMessage(ex *exchange, m *mcp.Message) ([]byte, error) {
	out := []byte(m.Raw)
	if m.Kind == mcp.KindResponse {
		var err error
		if out, err = p.filterLists(ex, m, out); err != nil {
			return nil, err
		}
	}
	return p.mask(ex, out)
}

// filterLists removes from a result that lists tools, prompts or resources
// what the caller could not use, and learns tool annotations on the way.
// It goes by the result's shape, not by the request it answers: the same
// holds on a POST's reply, on a resumed stream and on a legacy HTTP+SSE
// stream, and an id the upstream re-encodes (1.0 answered as 1) cannot
// slip a list past the filter.
func (p *Proxy) filterLists(ex *exchange, m *mcp.Message, msg []byte) ([]byte, error) {
	fields, err := mcp.ListFields(m.Result)
	if err != nil {
		return nil, err
	}
	for _, field := range fields {
		var method string
		switch field {
		case "tools":
			method = mcp.MethodToolsCall
			if tools, err := mcp.Tools(msg); err == nil {
				p.tools.learn(tools)
			}
		case "prompts":
			method = mcp.MethodPromptsGet
		default: // resources, resourceTemplates
			method = mcp.MethodResourcesRead
		}
		msg, err = mcp.FilterList(msg, field, func(item mcp.ListItem) bool {
			name := item.Name
			if method == mcp.MethodResourcesRead {
				name = item.URI
			}
			return ex.snap.Policy.Visible(ex.identity, method, name, p.tools.get(method, name))
		})
		if err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// mask redacts secrets and personal data in one message.
func (p *Proxy) mask(ex *exchange, msg []byte) ([]byte, error) {
	if ex.snap.Masker == nil {
		return msg, nil
	}
	out, stats, err := ex.snap.Masker.Message(nil, msg)
	if err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	if stats.Total() > 0 {
		for kind, n := range stats.All() {
			p.opts.Metrics.maskHits.WithLabelValues(kind).Add(float64(n))
		}
	}
	return out, nil
}

// forwardPartialBatch forwards the allowed messages of a 2025-03-26 batch and
// answers the refused ones in the same batch response, in request order.
func (p *Proxy) forwardPartialBatch(w http.ResponseWriter, r *http.Request, ex *exchange, forwarded int) {
	var answers [][]byte
	for _, v := range ex.verdicts {
		if !v.forward && v.answer != nil {
			answers = append(answers, v.answer)
		}
	}
	if forwarded == 0 {
		if len(answers) == 0 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeJSON(w, http.StatusOK, mcp.Batch(answers...))
		return
	}
	resp, ok := p.roundTrip(w, r, ex, ex.allowed())
	if !ok {
		return
	}
	defer func() { _ = resp.Body.Close() }()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusAccepted && len(answers) > 0:
		writeJSON(w, http.StatusOK, mcp.Batch(answers...))
	case ct == sse.ContentType:
		// The caller's answers go first, as events of the same stream.
		copyResponseHeaders(w, resp)
		p.relayEvents(w, resp, ex, answers)
	case ct == mcp.ContentTypeJSON && resp.StatusCode == http.StatusOK:
		body, err := mcp.ReadBody(resp.Body, int64(p.opts.MaxEventBytes))
		if err != nil {
			p.upstreamFailed(w, ex, err)
			return
		}
		merged, err := p.mergeBatch(ex, body)
		if err != nil {
			p.badUpstreamMessage(w, ex, err)
			return
		}
		writeJSON(w, http.StatusOK, merged)
	default:
		p.relay(w, resp, ex)
	}
}

// allowed is the batch of the messages that may be forwarded.
func (ex *exchange) allowed() []byte {
	var msgs [][]byte
	for i, v := range ex.verdicts {
		if v.forward {
			msgs = append(msgs, ex.msgs[i].Raw)
		}
	}
	return mcp.Batch(msgs...)
}

// mergeBatch puts the upstream's (rewritten) responses and the proxy's own
// answers into one batch, in the order of the caller's requests.
func (p *Proxy) mergeBatch(ex *exchange, upstream []byte) ([]byte, error) {
	msgs, _, err := mcp.Decode(upstream)
	if err != nil {
		return nil, err
	}
	used := make([]bool, len(msgs))
	out := make([][]byte, 0, len(ex.msgs))
	for i, v := range ex.verdicts {
		if !v.forward {
			if v.answer != nil {
				out = append(out, v.answer)
			}
			continue
		}
		if ex.msgs[i].Kind != mcp.KindRequest {
			continue
		}
		for j := range msgs {
			if !used[j] && mcp.SameID(msgs[j].ID, ex.msgs[i].ID) {
				used[j] = true
				m, err := p.rewriteMessage(ex, &msgs[j])
				if err != nil {
					return nil, err
				}
				out = append(out, m)
				break
			}
		}
	}
	for j := range msgs { // anything the upstream added, e.g. an error with a null id
		if !used[j] {
			m, err := p.rewriteMessage(ex, &msgs[j])
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return mcp.Batch(out...), nil
}
