package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/mcp/sse"
)

// requestHeaders are the only caller headers the upstream sees. An allowlist:
// Authorization, cookies and anything a credential could be smuggled in stay
// behind (no token passthrough).
var requestHeaders = []string{
	"Accept", "Content-Type", "User-Agent", "Traceparent", "Tracestate",
	mcp.HeaderSessionID, mcp.HeaderProtocolVersion, mcp.HeaderLastEventID,
	mcp.HeaderMethod, mcp.HeaderName,
}

// responseHeaders are the only upstream headers the caller sees.
var responseHeaders = []string{"Content-Type", mcp.HeaderSessionID, mcp.HeaderProtocolVersion}

func defaultTransport() http.RoundTripper {
	return &http.Transport{
		Proxy:                 nil, // the upstream is on localhost; never via a proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute, // long tool calls answer late
		DisableCompression:    true,            // masking reads plain bytes
	}
}

// forward sends the request (with body, or the caller's for GET/DELETE) to
// the upstream and relays the reply, policing every message in it.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, ex *exchange, body []byte) {
	resp, ok := p.roundTrip(w, r, ex, body)
	if !ok {
		return
	}
	defer func() { _ = resp.Body.Close() }()
	p.sessions.learn(r, resp, ex)
	p.relay(w, resp, ex)
}

// roundTrip reaches the upstream; on failure it answers the caller itself.
func (p *Proxy) roundTrip(w http.ResponseWriter, r *http.Request, ex *exchange, body []byte) (*http.Response, bool) {
	target := p.opts.Upstream
	if target == nil {
		target = ex.snap.Upstream
	}
	u := *target
	u.RawQuery = r.URL.RawQuery
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), rd)
	if err != nil {
		p.upstreamFailed(w, ex, err)
		return nil, false
	}
	for _, h := range requestHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			out.Header[h] = v
		}
	}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "Mcp-Param-") {
			out.Header[k] = v
		}
	}
	ex.snap.Credentials.Apply(out.Header, ex.identity)
	resp, err := p.opts.Transport.RoundTrip(out)
	if err != nil {
		p.upstreamFailed(w, ex, err)
		return nil, false
	}
	return resp, true
}

func (p *Proxy) upstreamFailed(w http.ResponseWriter, ex *exchange, err error) {
	ex.outcome = outcomeError
	if errors.Is(err, context.Canceled) {
		return // the caller went away
	}
	p.opts.Metrics.upstreamErrors.Inc()
	p.opts.Log.Error(err, "upstream unreachable", "server", ex.snap.Server, "reference", ex.ref)
	writeError(w, http.StatusBadGateway, mcp.CodeUpstreamUnavailable, "the MCP server is unavailable", ex.ref)
}

// relay copies the upstream's reply to the caller: JSON at once, SSE event by
// event, each message filtered and masked on the way.
func (p *Proxy) relay(w http.ResponseWriter, resp *http.Response, ex *exchange) {
	for _, h := range responseHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent || resp.ContentLength == 0:
		w.WriteHeader(resp.StatusCode)
	case ct == sse.ContentType:
		p.relayEvents(w, resp, ex)
	case ct == mcp.ContentTypeJSON:
		p.relayJSON(w, resp, ex)
	case ct == "":
		// No content type: acceptable only without content (DELETE, 202).
		body, err := mcp.ReadBody(resp.Body, int64(p.opts.MaxEventBytes))
		if err != nil || len(bytes.TrimSpace(body)) > 0 {
			ex.outcome = outcomeError
			writeError(w, http.StatusBadGateway, mcp.CodeUpstreamUnavailable, "the MCP server answered with content the sidecar cannot police", ex.ref)
			return
		}
		w.WriteHeader(resp.StatusCode)
	case resp.StatusCode >= 400:
		// A plain-text error: pass the status, not the text, which could
		// hold anything.
		writeError(w, resp.StatusCode, mcp.CodeUpstreamUnavailable, "the MCP server answered "+resp.Status, ex.ref)
	default:
		ex.outcome = outcomeError
		p.opts.Log.Info("upstream reply has a content type the sidecar cannot police", "server", ex.snap.Server, "reference", ex.ref, "contentType", ct)
		writeError(w, http.StatusBadGateway, mcp.CodeUpstreamUnavailable, "the MCP server answered with content the sidecar cannot police", ex.ref)
	}
}

func (p *Proxy) relayJSON(w http.ResponseWriter, resp *http.Response, ex *exchange) {
	body, err := mcp.ReadBody(resp.Body, int64(p.opts.MaxEventBytes))
	if err != nil {
		p.upstreamFailed(w, ex, err)
		return
	}
	out, err := p.rewrite(ex, body)
	if err != nil {
		p.badUpstreamMessage(w, ex, err)
		return
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

func (p *Proxy) relayEvents(w http.ResponseWriter, resp *http.Response, ex *exchange) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(resp.StatusCode)
	// The caller waits for the headers before any event: a GET stream may
	// stay quiet for a long time.
	_ = http.NewResponseController(w).Flush()
	rd := sse.NewReader(resp.Body, p.opts.MaxEventBytes)
	wr := sse.NewWriter(w)
	for {
		ev, err := rd.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
				p.opts.Log.Info("upstream event stream ended with an error", "server", ex.snap.Server, "reference", ex.ref, "error", err.Error())
			}
			return
		}
		if len(ev.Data) > 0 {
			data, err := p.rewrite(ex, ev.Data)
			if err != nil {
				// An event the sidecar cannot police ends the stream: it is
				// never passed on as is.
				p.opts.Log.Info("dropping upstream event stream: unreadable message", "server", ex.snap.Server, "reference", ex.ref, "error", err.Error())
				return
			}
			ev.Data = data
		}
		if err := wr.Write(ev); err != nil {
			return // the caller went away
		}
	}
}

func (p *Proxy) badUpstreamMessage(w http.ResponseWriter, ex *exchange, err error) {
	ex.outcome = outcomeError
	p.opts.Log.Info("upstream reply is not JSON-RPC", "server", ex.snap.Server, "reference", ex.ref, "error", err.Error())
	writeError(w, http.StatusBadGateway, mcp.CodeUpstreamUnavailable, "the MCP server answered with something that is not JSON-RPC", ex.ref)
}
