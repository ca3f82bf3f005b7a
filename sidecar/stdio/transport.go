package stdio

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-airlock/airlock/sidecar/mcp"
	"github.com/mcp-airlock/airlock/sidecar/mcp/sse"
)

// Options configure a Transport. Zero values are replaced by defaults.
type Options struct {
	// Command is the MCP server's command line; Command[0] is looked up in
	// the sidecar's PATH.
	Command []string
	// Env is the child's environment apart from credentials, NAME=value;
	// see InheritEnv.
	Env []string
	// Dir is the child's working directory; empty means the sidecar's.
	Dir string
	Log logr.Logger
	// Registerer, if set, registers the airlock_stdio_* metrics.
	Registerer prometheus.Registerer

	// ProtocolVersion is asked for when initializing the child (default
	// 2025-11-25); the child answers with the one it speaks.
	ProtocolVersion mcp.Version
	// MaxLineBytes bounds one message on the child's stdout and one
	// caller's body (default 16 MiB).
	MaxLineBytes int
	// MinBackoff and MaxBackoff bound the wait before a restart (default
	// 100 ms and 30 s); the wait doubles with each quick exit and is reset
	// once a child has run for StableAfter (default 1 min).
	MinBackoff, MaxBackoff, StableAfter time.Duration
	// InitTimeout bounds the child's answer to initialize (default 2 min:
	// `npx -y` may download first).
	InitTimeout time.Duration
	// StopGrace is how long a stopping child gets after its stdin is closed,
	// and again after SIGTERM (default 5 s).
	StopGrace time.Duration
}

// progressBuffer is how many progress notifications wait for a slow caller
// before newer ones are dropped; the response is never dropped.
const progressBuffer = 64

// Transport runs a stdio MCP server as a child process and serves it to many
// callers as an http.RoundTripper speaking Streamable HTTP. Run supervises
// the child; SetEnv gives it its credentials and must be called once before
// it starts.
type Transport struct {
	opts    Options
	log     logr.Logger
	metrics metrics

	credsSet  chan struct{} // closed by the first SetEnv
	credsOnce sync.Once
	restart   chan struct{} // the credentials changed

	mu      sync.Mutex
	creds   []string
	child   *child   // the initialized child serving callers; nil while down
	session *session // its InitializeResult, with child
	down    string   // why no child serves, for callers' errors
	calls   map[int64]*call
	nextID  int64
}

// call is one caller's request in flight to the child.
type call struct {
	child *child
	ex    *exchange
	id    json.RawMessage // the caller's id, exactly as sent
	token json.RawMessage // the caller's progress token; nil when none
	// session and key let a caller's notifications/cancelled find it.
	session string
	key     string
}

// exchange is one caller's POST waiting for the child's answers.
type exchange struct {
	replies  chan []byte // one per forwarded request, in the caller's ids
	progress chan []byte
	ids      []int64
}

// New returns a Transport for opts.Command; nothing runs before Run.
func New(opts Options) *Transport {
	if opts.ProtocolVersion == "" {
		opts.ProtocolVersion = mcp.Version20251125
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = 16 << 20
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.StableAfter <= 0 {
		opts.StableAfter = time.Minute
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = 2 * time.Minute
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = 5 * time.Second
	}
	return &Transport{
		opts:     opts,
		log:      opts.Log,
		metrics:  newMetrics(opts.Registerer),
		credsSet: make(chan struct{}),
		restart:  make(chan struct{}, 1),
		down:     "the MCP server process is starting",
		calls:    map[int64]*call{},
	}
}

// SetEnv sets the credentials the child gets as environment variables
// (credentials.Set.Env). A child already running is restarted when they
// change: a process's environment cannot be changed from outside, and the
// child must not serve with a revoked credential. SetEnv never blocks.
func (t *Transport) SetEnv(creds []string) {
	t.mu.Lock()
	changed := !slices.Equal(t.creds, creds)
	t.creds = slices.Clone(creds)
	t.mu.Unlock()
	first := false
	t.credsOnce.Do(func() { close(t.credsSet); first = true })
	if changed && !first {
		select {
		case t.restart <- struct{}{}:
		default:
		}
	}
}

// Ready reports whether an initialized child serves callers.
func (t *Transport) Ready() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.child != nil
}

// PID is the process id of the child serving callers, 0 while none does.
func (t *Transport) PID() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.child == nil {
		return 0
	}
	return t.child.pid
}

// RoundTrip serves one caller's HTTP request to the MCP endpoint.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer func() { _ = r.Body.Close() }()
	}
	switch r.Method {
	case http.MethodPost:
		return t.post(r)
	case http.MethodDelete:
		// Sessions are the proxy's to bind and forget; the child's one
		// session lives on. Calls of the session still in flight are over.
		t.endSession(r.Header.Get(mcp.HeaderSessionID))
		return reply(r, http.StatusOK, "", nil), nil
	default:
		// GET: the child's notifications have no caller to go to.
		resp := reply(r, http.StatusMethodNotAllowed, mcp.ContentTypeJSON,
			mcp.NewError(nil, mcp.CodeInvalidRequest, "this stdio MCP server offers no event stream outside of requests", nil))
		resp.Header.Set("Allow", "POST, DELETE")
		return resp, nil
	}
}

// post forwards a caller's messages and answers with the child's replies:
// an event stream when a request asked for progress, JSON otherwise.
func (t *Transport) post(r *http.Request) (*http.Response, error) {
	body, err := mcp.ReadBody(r.Body, int64(t.opts.MaxLineBytes))
	if errors.Is(err, mcp.ErrTooLarge) {
		return reply(r, http.StatusRequestEntityTooLarge, mcp.ContentTypeJSON,
			mcp.NewError(nil, mcp.CodeInvalidRequest, "request body is larger than the MCP server accepts", nil)), nil
	}
	if err != nil {
		return nil, err
	}
	msgs, batch, err := mcp.Decode(body)
	if err != nil {
		var de *mcp.DecodeError
		if errors.As(err, &de) {
			return reply(r, http.StatusBadRequest, mcp.ContentTypeJSON, de.Response()), nil
		}
		return nil, err
	}

	rt := t.route(msgs, r.Header.Get(mcp.HeaderSessionID))
	for _, line := range rt.lines {
		if err := rt.child.send(r.Context(), line); err != nil {
			if errors.Is(err, errExited) {
				break // retire answers the calls
			}
			t.abandon(rt.ex)
			return nil, err
		}
	}

	total := len(rt.answers) + len(rt.ex.ids)
	var resp *http.Response
	switch {
	case total == 0:
		return reply(r, http.StatusAccepted, "", nil), nil
	case rt.streaming:
		pr, pw := io.Pipe()
		go t.stream(r.Context(), pw, rt.ex, rt.answers, total)
		resp = reply(r, http.StatusOK, sse.ContentType, nil)
		resp.Body, resp.ContentLength = pr, -1
	default:
		out := rt.answers
		for len(out) < total {
			select {
			case b := <-rt.ex.replies:
				out = append(out, b)
			case <-r.Context().Done():
				t.abandon(rt.ex)
				return nil, r.Context().Err()
			}
		}
		body := out[0]
		if batch {
			body = mcp.Batch(out...)
		}
		resp = reply(r, http.StatusOK, mcp.ContentTypeJSON, body)
	}
	if rt.session != "" {
		resp.Header.Set(mcp.HeaderSessionID, rt.session)
	}
	return resp, nil
}

// routed is what becomes of the messages of one POST.
type routed struct {
	child *child // to send lines to; nil while down
	ex    *exchange
	// answers are the Transport's own replies; lines go to the child.
	answers, lines [][]byte
	// streaming: a request asked for progress, so the reply is a stream.
	streaming bool
	// session is the id of the caller session an initialize opened.
	session string
}

// route answers what the Transport answers itself and registers the calls
// that go to the child, with ids and progress tokens of its own.
func (t *Transport) route(msgs []mcp.Message, sid string) routed {
	requests := 0
	for i := range msgs {
		if msgs[i].Kind == mcp.KindRequest {
			requests++
		}
	}
	rt := routed{ex: &exchange{replies: make(chan []byte, requests), progress: make(chan []byte, progressBuffer)}}
	t.mu.Lock()
	defer t.mu.Unlock()
	rt.child = t.child
	for i := range msgs {
		m := &msgs[i]
		switch {
		case m.Kind == mcp.KindRequest && rt.child == nil:
			rt.answers = append(rt.answers, mcp.NewError(m.ID, mcp.CodeUpstreamUnavailable, t.down, nil))
		case m.Kind == mcp.KindRequest && m.Method == mcp.MethodInitialize:
			rt.answers = append(rt.answers, t.session.answer(m))
			rt.session = newSessionID()
		case m.Kind == mcp.KindRequest && m.Method == methodDiscover:
			// Stateless MCP (2026-07-28) does not fit one shared session;
			// clients fall back to initialize on this error.
			rt.answers = append(rt.answers, mcp.NewError(m.ID, mcp.CodeMethodNotFound, "server/discover is not supported by this stdio MCP server; use initialize", nil))
		case m.Kind == mcp.KindRequest:
			t.nextID++
			id := t.nextID
			line, err := toChild(m, id)
			if err != nil {
				rt.answers = append(rt.answers, mcp.NewError(m.ID, mcp.CodeInvalidRequest, "the request could not be forwarded", nil))
				continue
			}
			cl := &call{child: rt.child, ex: rt.ex, id: m.ID, token: m.ProgressToken, session: sid}
			if sid != "" {
				cl.key = callerKey(sid, m.ID)
			}
			t.calls[id] = cl
			rt.ex.ids = append(rt.ex.ids, id)
			rt.lines = append(rt.lines, line)
			rt.streaming = rt.streaming || m.ProgressToken != nil
		case m.Kind == mcp.KindNotification && m.Method == methodInitialized:
			// The child's session is initialized already.
		case m.Kind == mcp.KindNotification && m.Method == mcp.MethodCancelled:
			if line := t.cancelLocked(sid, m); line != nil && rt.child != nil {
				rt.lines = append(rt.lines, line)
			}
		case m.Kind == mcp.KindNotification && rt.child != nil:
			if line, err := compact(m.Raw); err == nil {
				rt.lines = append(rt.lines, line)
			}
		default:
			// A notification while down, or a response to a server
			// request: none was relayed.
		}
	}
	return rt
}

// stream writes a POST's replies as events: progress as it comes, each
// response after the progress that preceded it.
func (t *Transport) stream(ctx context.Context, pw *io.PipeWriter, ex *exchange, answers [][]byte, total int) {
	wr := sse.NewWriter(pw)
	write := func(b []byte) bool {
		if err := wr.Write(sse.Event{Data: b}); err != nil {
			t.abandon(ex)
			pw.CloseWithError(err)
			return false
		}
		return true
	}
	for _, a := range answers {
		if !write(a) {
			return
		}
	}
	for got := len(answers); got < total; {
		select {
		case p := <-ex.progress:
			if !write(p) {
				return
			}
		case b := <-ex.replies:
			// The child wrote the call's progress before its response.
			for drained := false; !drained; {
				select {
				case p := <-ex.progress:
					if !write(p) {
						return
					}
				default:
					drained = true
				}
			}
			if !write(b) {
				return
			}
			got++
		case <-ctx.Done():
			t.abandon(ex)
			pw.CloseWithError(ctx.Err())
			return
		}
	}
	_ = pw.Close()
}

// abandon forgets the calls of a caller that went away and tells the child
// to stop working on them.
func (t *Transport) abandon(ex *exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ex.ids {
		if cl, ok := t.calls[id]; ok {
			delete(t.calls, id)
			cl.child.trySend(cancelled(id, "the caller went away"))
		}
	}
}

// endSession ends the calls of a session the caller deleted.
func (t *Transport) endSession(sid string) {
	if sid == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, cl := range t.calls {
		if cl.session == sid {
			delete(t.calls, id)
			cl.child.trySend(cancelled(id, "the caller ended its session"))
			cl.ex.replies <- mcp.NewError(cl.id, mcp.CodeInvalidRequest, "the session was ended", nil)
		}
	}
}

// cancelLocked maps a caller's notifications/cancelled to the child's id of
// the request, and answers that request for the child, which will not. Only
// a caller with a session can cancel: without one, ids are not its own.
func (t *Transport) cancelLocked(sid string, m *mcp.Message) []byte {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if sid == "" || json.Unmarshal(m.Params, &p) != nil || p.RequestID == nil {
		return nil
	}
	key := callerKey(sid, p.RequestID)
	for id, cl := range t.calls {
		if cl.key != key {
			continue
		}
		line, err := setMember(m.Raw, internalID(id), "params", "requestId")
		if err != nil {
			return nil
		}
		delete(t.calls, id)
		cl.ex.replies <- mcp.NewError(cl.id, mcp.CodeInvalidRequest, "the request was cancelled", nil)
		return line
	}
	return nil
}

func callerKey(sid string, id json.RawMessage) string {
	c, err := compact(id)
	if err != nil {
		c = id
	}
	return sid + "\x00" + string(c)
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// reply is a response the Transport makes itself.
func reply(r *http.Request, status int, contentType string, body []byte) *http.Response {
	resp := &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
	if contentType != "" {
		resp.Header.Set("Content-Type", contentType)
	}
	return resp
}
