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

// upstreamURL is where a request goes: the MCP endpoint with the caller's
// query, or, for a POST to a legacy HTTP+SSE session, the message endpoint
// the upstream named.
func (p *Proxy) upstreamURL(r *http.Request, ex *exchange) string {
	target := p.opts.Upstream
	if target == nil {
		target = ex.snap.Upstream
	}
	u := *target
	u.RawQuery = r.URL.RawQuery
	if s := ex.legacy; s != nil {
		u.Path, u.RawPath, u.RawQuery = s.upstream.Path, s.upstream.RawPath, s.upstream.RawQuery
	}
	return u.String()
}

// roundTrip reaches the upstream; on failure it answers the caller itself.
// The upstream request ends with the caller's: a caller that goes away
// cancels it (in 2026-07-28, closing the stream is how a call is cancelled).
func (p *Proxy) roundTrip(w http.ResponseWriter, r *http.Request, ex *exchange, body []byte) (*http.Response, bool) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstreamURL(r, ex), rd)
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
		if strings.HasPrefix(k, mcp.HeaderParamPrefix) {
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
	copyResponseHeaders(w, resp)
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent || resp.ContentLength == 0:
		w.WriteHeader(resp.StatusCode)
	case ct == sse.ContentType:
		p.relayEvents(w, resp, ex, nil)
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

func copyResponseHeaders(w http.ResponseWriter, resp *http.Response) {
	for _, h := range responseHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
}

// relayEvents relays an event stream event by event, each message filtered
// and masked. first are answers of the sidecar's own, sent ahead of the
// upstream's events. The endpoint event of a legacy HTTP+SSE stream opens a
// session bound to the caller (legacy.go).
func (p *Proxy) relayEvents(w http.ResponseWriter, resp *http.Response, ex *exchange, first [][]byte) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(resp.StatusCode)
	// The caller waits for the headers before any event: a GET stream may
	// stay quiet for a long time.
	_ = http.NewResponseController(w).Flush()
	out := &eventStream{wr: sse.NewWriter(w)}
	var opened *legacySession
	defer func() {
		out.close()
		if opened != nil {
			p.legacy.remove(opened)
		}
	}()
	for _, a := range first {
		if err := out.write(sse.Event{Data: a}); err != nil {
			return
		}
	}
	rd := sse.NewReader(resp.Body, p.opts.MaxEventBytes)
	for {
		ev, err := rd.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
				p.opts.Log.Info("upstream event stream ended with an error", "server", ex.snap.Server, "reference", ex.ref, "error", err.Error())
			}
			return
		}
		// A long stream polices with the configuration in force, and ends
		// when there is no enforceable one.
		snap := p.snap.Load()
		if snap == nil || snap.Err != nil {
			return
		}
		ex.snap = snap
		switch {
		case ev.Type == eventEndpoint && opened == nil:
			opened, ev.Data, err = p.openLegacy(ex, resp.Request, ev.Data, out)
		case len(ev.Data) > 0:
			ev.Data, err = p.rewrite(ex, ev.Data)
		}
		if err != nil {
			// An event the sidecar cannot police ends the stream: it is
			// never passed on as is.
			p.opts.Log.Info("dropping upstream event stream: unpoliceable event", "server", ex.snap.Server, "reference", ex.ref, "error", err.Error())
			return
		}
		if err := out.write(ev); err != nil {
			return // the caller went away
		}
	}
}

func (p *Proxy) badUpstreamMessage(w http.ResponseWriter, ex *exchange, err error) {
	ex.outcome = outcomeError
	p.opts.Log.Info("upstream reply is not JSON-RPC", "server", ex.snap.Server, "reference", ex.ref, "error", err.Error())
	writeError(w, http.StatusBadGateway, mcp.CodeUpstreamUnavailable, "the MCP server answered with something that is not JSON-RPC", ex.ref)
}
