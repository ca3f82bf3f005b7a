package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	v1alpha1 "github.com/mcp-airlock/airlock/api/v1alpha1"

	"github.com/mcp-airlock/airlock/sidecar/authn"
	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/mcp/sse"
)

// The legacy HTTP+SSE transport (2024-11-05; MCPServer transport SSE). The
// caller opens an event stream with GET; its first event, "endpoint", names
// the URL to POST messages to (e.g. /message?sessionId=…), and the answers
// to those messages arrive on the stream, not on the POST, which the
// upstream answers 202.
//
// The sidecar rewrites the endpoint to its own origin (same path and
// query), binds it to the caller who opened the stream, and forwards a POST
// only to an endpoint the caller owns. POSTs are policed like Streamable
// HTTP POSTs; a refusal is written into the session's stream, where the
// caller waits for it. List results on the stream are filtered by their
// shape (rewrite.go), so no request ids need to be remembered.

// eventEndpoint is the type of the legacy transport's first event.
const eventEndpoint = "endpoint"

// legacySession is one HTTP+SSE session relayed by the sidecar.
type legacySession struct {
	// key is the message endpoint as compared (endpointKey).
	key string
	// upstream is the message endpoint as the upstream named it: POSTs go
	// there, whatever spelling of it the caller used.
	upstream url.URL
	owner    string
	// out is the caller's event stream.
	out *eventStream
}

// legacySessions indexes the open sessions by message endpoint. Reads take
// no lock: every POST looks here.
type legacySessions struct {
	m     sync.Map // endpoint key -> *legacySession
	count atomic.Int64
}

func (ls *legacySessions) add(s *legacySession) bool {
	if ls.count.Load() >= maxSessions {
		return false
	}
	if _, taken := ls.m.LoadOrStore(s.key, s); taken {
		return false
	}
	ls.count.Add(1)
	return true
}

// lookup returns the session whose message endpoint u is, or nil.
func (ls *legacySessions) lookup(u *url.URL) *legacySession {
	if ls.count.Load() == 0 {
		return nil
	}
	key, ok := endpointKey(u)
	if !ok {
		return nil
	}
	if s, ok := ls.m.Load(key); ok {
		return s.(*legacySession)
	}
	return nil
}

func (ls *legacySessions) remove(s *legacySession) {
	if ls.m.CompareAndDelete(s.key, s) {
		ls.count.Add(-1)
	}
}

// endpointKey is how message endpoints compare: path and query decoded,
// parameters sorted. A query that does not parse names no endpoint, so a
// caller cannot reach another's session by spelling its endpoint so that
// the upstream reads it one way and the sidecar another.
func endpointKey(u *url.URL) (string, bool) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", false
	}
	return u.Path + "?" + q.Encode(), true
}

var (
	errEndpointNotSSE   = errors.New("the upstream sent a legacy HTTP+SSE endpoint event, but the MCPServer's transport is not SSE")
	errEndpointBad      = errors.New("the upstream's endpoint event does not hold a usable URL")
	errEndpointTooMany  = errors.New("the legacy session could not be bound: too many sessions, or its endpoint is already in use")
	errEndpointNotOnGET = errors.New("the upstream sent an endpoint event on a reply that is not a GET stream")
)

// openLegacy binds the session that an endpoint event announces to the
// caller of the stream, and returns the event's data pointing at the
// sidecar: the upstream's path and query, which the caller resolves against
// the sidecar's origin. Errors never contain the endpoint: its session id
// is as good as a credential to whoever holds it.
func (p *Proxy) openLegacy(ex *exchange, req *http.Request, data []byte, out *eventStream) (*legacySession, []byte, error) {
	switch {
	case ex.snap.Transport != v1alpha1.TransportSSE:
		return nil, nil, errEndpointNotSSE
	case req.Method != http.MethodGet || ex.legacy != nil:
		return nil, nil, errEndpointNotOnGET
	}
	u, err := req.URL.Parse(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, nil, errEndpointBad
	}
	key, ok := endpointKey(u)
	if !ok {
		return nil, nil, errEndpointBad
	}
	s := &legacySession{
		key:      key,
		upstream: url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery},
		owner:    ownerKey(ex.identity),
		out:      out,
	}
	if !p.legacy.add(s) {
		return nil, nil, errEndpointTooMany
	}
	return s, []byte(s.upstream.RequestURI()), nil
}

// postLegacy finishes a POST to a legacy session: the sidecar's answers go
// into the session's stream, the allowed messages to the upstream, and the
// caller gets the upstream's status (202), or 202 when nothing is forwarded.
func (p *Proxy) postLegacy(w http.ResponseWriter, r *http.Request, ex *exchange, body []byte, batch bool, forwarded int) {
	if scopes := ex.verdicts[0].decision.MissingScopes; !batch && len(scopes) > 0 {
		p.unauthorized(w, r, ex, authn.InsufficientScope(scopes...))
		return
	}
	for _, v := range ex.verdicts {
		if v.answer == nil {
			continue
		}
		if err := ex.legacy.out.write(sse.Event{Type: "message", Data: v.answer}); err != nil {
			writeError(w, http.StatusNotFound, mcp.CodeInvalidRequest, "the session's event stream is closed: open a new one", ex.ref)
			return
		}
	}
	switch {
	case forwarded == 0:
		w.WriteHeader(http.StatusAccepted)
	case forwarded < len(ex.msgs):
		p.forward(w, r, ex, ex.allowed())
	default:
		p.forward(w, r, ex, body)
	}
}

var errStreamClosed = errors.New("proxy: event stream closed")

// eventStream writes one relayed event stream to the caller. In the legacy
// transport the sidecar also writes its refusals into it from the POSTs'
// handlers, so writes are serialised, and none is attempted once the relay
// has ended: a ResponseWriter must not be used after its handler returns.
type eventStream struct {
	mu     sync.Mutex
	wr     *sse.Writer
	closed bool
}

func (s *eventStream) write(ev sse.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamClosed
	}
	return s.wr.Write(ev)
}

func (s *eventStream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}
